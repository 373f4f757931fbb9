#!/usr/bin/env bash
# Builds OCI image archives of the images the upstream [Conformance] tests
# run, named as upstream publishes them (registry.k8s.io/...), into
# conformance/images/out/, for a node's containerd to import without a
# registry (images.Ctr.Import). Programs are built from the Kubernetes module,
# tools come from Debian packages (apt-get download, nothing is installed),
# the busybox images from busybox 1.37.0 (hack/build-busybox.sh). Cached in
# conformance/images/cache/ (remove it to take newer Debian packages): a run
# after an unchanged one takes about a second.
#   ONLY=regex   build only the images whose names match
#   LINK=dir     then symlink the archives built into dir
#   CHECK=1      then import the archives into a private containerd and run
#                each image (needs root, containerd, runc and ctr)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
conf=$root/conformance

# A statically linked busybox makes the busybox images; Debian's busybox
# package links it dynamically.
if ! dpkg-query -W -f '${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static >/dev/null
fi
# apt-cache needs package lists to resolve dependencies.
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
  apt-get update -q >/dev/null
fi

cd "$conf"
go build -o bin/images ./cmd/images
"$root/hack/build-busybox.sh"
./bin/images -out images/out -cache images/cache -busybox "$root/bin/busybox" -capstan "$root" \
  ${ONLY:+-only "$ONLY"} ${LINK:+-link "$LINK"} ${CHECK:+-check}
[ -n "${LINK:-}" ] || ls -l images/out/*.tar | awk '{ printf "%5d MB  %s\n", $5 / 1048576, $NF; total += $5 } END { printf "%5d MB  total\n", total / 1048576 }'
