#!/usr/bin/env bash
# Installs what the node agent and its tests need, with apt-get, when it is
# missing: containerd (CRI plugin), runc, the CNI plugins, iptables, iproute2
# busybox-static (for the offline busybox image) and docker-registry (a
# loopback registry mirror for pulls the tests force). Needs root.
set -euo pipefail
need=()
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
[ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ] || need+=(containernetworking-plugins)
command -v iptables >/dev/null || need+=(iptables)
command -v ip >/dev/null || need+=(iproute2)
[ -x /bin/busybox ] || command -v busybox >/dev/null || need+=(busybox-static)
command -v docker-registry >/dev/null || need+=(docker-registry)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-node-deps: missing ${need[*]}; run as root to install them with apt-get" >&2
  exit 1
fi
echo "install-node-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${need[@]}" >/tmp/capstan-apt.log 2>&1; then
  apt-get update -q >/tmp/capstan-apt.log 2>&1
  apt-get install -y -q --no-install-recommends "${need[@]}" >>/tmp/capstan-apt.log 2>&1 || { tail -20 /tmp/capstan-apt.log; exit 1; }
fi
