#!/usr/bin/env bash
# Builds a statically linked busybox 1.37.0 into bin/busybox, the version
# upstream's busybox:1.37.0-2 test image carries (Debian 12 ships 1.35, whose
# sh drops environment variables that are not shell identifiers, such as
# "data-1", which Kubernetes allows). The source comes from Debian's package
# pool; the build is cached.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/bin/busybox
version=1.37.0
sha256=3311dff32e746499f4df0d5df04d7eb396382d7e108bb9250e7b519b837043a4
if [ -x "$out" ] && "$out" 2>&1 | head -1 | grep -q "BusyBox v$version "; then
  exit 0
fi
cache=$root/bin/busybox-build
mkdir -p "$cache"
tarball=$cache/busybox_$version.orig.tar.bz2
if ! echo "$sha256  $tarball" | sha256sum -c --quiet >/dev/null 2>&1; then
  curl -sSfL -o "$tarball.tmp" "http://deb.debian.org/debian/pool/main/b/busybox/busybox_$version.orig.tar.bz2"
  echo "$sha256  $tarball.tmp" | sha256sum -c --quiet
  mv "$tarball.tmp" "$tarball"
fi
command -v gcc >/dev/null && command -v bzip2 >/dev/null || {
  [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q gcc make bzip2 libc6-dev >/dev/null
}
src=$cache/busybox-$version
rm -rf "$src"
tar -C "$cache" -xjf "$tarball"
cd "$src"
make defconfig >/dev/null
# Static; tc does not build against current kernel headers and no test uses it.
sed -i 's/^# CONFIG_STATIC is not set/CONFIG_STATIC=y/; s/^CONFIG_TC=y/# CONFIG_TC is not set/' .config
make -j"$(nproc)" >"$cache/build.log" 2>&1 || { tail -20 "$cache/build.log"; exit 1; }
mkdir -p "$(dirname "$out")"
cp busybox "$out.tmp" && mv "$out.tmp" "$out"
rm -rf "$src"
echo "built $out ($("$out" 2>&1 | head -1))"
