#!/usr/bin/env bash
# Runs the upstream Kubernetes 1.37 [Conformance] tests against a local
# cluster and writes a report (conformance/report/ unless REPORT= says).
#   FOCUS=regex     run only tests whose name matches (ginkgo --focus)
#   SKIP=regex      leave out tests whose name matches (ginkgo --skip)
#   FOCUS_FILE=f    run only the tests named in f, one name a line (as in
#                   passing.txt); every one of them must be known to pass
#   TARGET=capstan  the control plane under test: capstan (default), or
#                   upstream: kube-apiserver, kube-controller-manager and
#                   kube-scheduler 1.37.1 built from the conformance module,
#                   on an etcd of their own, with the same certificates and
#                   the same capstan agents as nodes
#   NODES=n         number of agents (default 2)
#   NODE_OFFSET=k   node i gets address 127.0.0.<k+i>, bridge capc<k+i> and
#                   pod CIDR 10.244.<k+i>.0/24 (default 1), so that two
#                   clusters can run side by side
#   PROCS=n         parallel ginkgo processes for the non-serial tests (default 4)
#   ONLY=regex      build and import only the test images whose names match
#   REPORT=dir      where the report goes
# conformance/passing.txt lists the tests known to pass; one of them failing
# is reported as a regression (exit 3).
#
# Every node pulls registry.k8s.io through a loopback registry mirror
# (Debian's docker-registry) holding the same offline images, for tests
# that force a pull (imagePullPolicy Always).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
conf=$root/conformance
report=${REPORT:-$conf/report}
bin=$conf/bin
target=${TARGET:-capstan}
mkdir -p "$bin"
case "$target" in capstan | upstream) ;; *) echo "TARGET must be capstan or upstream, not $target" >&2; exit 2 ;; esac

echo "== building capstan, e2e.test, kubectl 1.37 and the harness tools"
make -C "$root" build >/dev/null
(cd "$conf" && go test -c -o "$bin/e2e.test" k8s.io/kubernetes/test/e2e \
  && go build -o "$bin/kubectl" k8s.io/kubernetes/cmd/kubectl \
  && go build -o "$bin/ginkgo" github.com/onsi/ginkgo/v2/ginkgo \
  && go build -o "$bin/report" ./cmd/report \
  && go build -o "$bin/registry-push" ./cmd/registry-push)
if [ "$target" = upstream ]; then
  echo "== building kube-apiserver, kube-controller-manager, kube-scheduler 1.37.1 and etcd"
  v=k8s.io/component-base/version
  ldflags="-X $v.gitVersion=v1.37.1 -X $v.gitMajor=1 -X $v.gitMinor=37 -X $v.gitTreeState=clean"
  (cd "$conf" && for c in kube-apiserver kube-controller-manager kube-scheduler; do
    go build -ldflags "$ldflags" -o "$bin/$c" "k8s.io/kubernetes/cmd/$c"
  done && go build -o "$bin/etcd" ./cmd/etcd)
fi
list=$(cd "$conf" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/test/conformance/testdata/conformance.yaml

echo "== building the offline test images"
"$root/hack/install-node-deps.sh"
"$root/hack/build-busybox.sh"
(cd "$root" && go run ./hack/node-images -out "$root/bin/images" -busybox "$root/bin/busybox" >/dev/null)
images=$(mktemp -d)
ln -s "$root"/bin/images/*.tar "$images"/
LINK=$images "$root/hack/conformance-images.sh" >/dev/null

work=$(mktemp -d)
pids=()
nodes=${NODES:-2}
offset=${NODE_OFFSET:-1}
cleanup() {
  # Pods first (their containers, mounts and network), then the agents,
  # their containerds, the control plane and the registry, each by PID.
  if [ -f "$work/data/admin.kubeconfig" ] && [ ${#pids[@]} -gt 0 ]; then
    "$bin/kubectl" --kubeconfig "$work/data/admin.kubeconfig" delete pods --all-namespaces --all --grace-period=1 --wait=true --timeout=120s >/dev/null 2>&1 || true
  fi
  # In reverse order of starting, each gone before the next (an apiserver
  # shuts down cleanly only while its etcd is still there).
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    p=${pids[$i]}
    kill -TERM "$p" 2>/dev/null || continue
    for _ in $(seq 1 60); do kill -0 "$p" 2>/dev/null || break; sleep 1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  for i in $(seq 1 "$nodes"); do
    [ -f "$work/node$i/containerd/containerd.pid" ] && kill -TERM "$(cat "$work/node$i/containerd/containerd.pid")" 2>/dev/null || true
  done
  # Sandboxes of pods that did not finish deleting: their shims (found by
  # this run's containerd sockets) and what they run.
  for shim in $(pgrep -f "containerd-shim-runc-v2 .*-address $work/" || true); do
    pkill -KILL -P "$shim" 2>/dev/null || true
    kill -KILL "$shim" 2>/dev/null || true
  done
  for i in $(seq 1 "$nodes"); do ip link del "capc$((offset+i))" 2>/dev/null || true; done
  grep " $work/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work" "$images"
}
trap cleanup EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The registry mirror: storage kept in conformance/images/registry, so a
# later run only uploads what changed.
regport=$(freeport)
mkdir -p "$conf/images/registry"
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $conf/images/registry
http:
  addr: 127.0.0.1:$regport
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$regport/v2/" >/dev/null && break; sleep 0.5; done
"$bin/registry-push" -registry "http://127.0.0.1:$regport" "$images"/*.tar >/dev/null
mkdir -p "$work/certs.d/registry.k8s.io"
printf 'server = "https://registry.k8s.io"\n\n[host."http://127.0.0.1:%s"]\n  capabilities = ["pull", "resolve"]\n' "$regport" >"$work/certs.d/registry.k8s.io/hosts.toml"

# The control plane. Both targets take their certificates from `capstan
# certs` (the same CA, serving, client and service account keys).
# kube-apiserver refuses a loopback address for the kubernetes Service's
# endpoints, and only loopback is ours to use here: it runs without them.
port=$(freeport)
data=$work/data
if [ "$target" = capstan ]; then
  "$root/bin/capstan" server --data-dir "$data" --bind-address 127.0.0.1 --secure-port "$port" --local-agent=false >"$work/server.log" 2>&1 &
  pids+=("$!")
else
  "$root/bin/capstan" certs --data-dir "$data" --bind-address 127.0.0.1 --secure-port "$port" >/dev/null
  etcdport=$(freeport)
  "$bin/etcd" -data-dir "$work/etcd" -listen "127.0.0.1:$etcdport" >"$work/etcd.log" 2>&1 &
  pids+=("$!")
  "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcdport" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$port" \
    --tls-cert-file "$data/apiserver.crt" --tls-private-key-file "$data/apiserver.key" --client-ca-file "$data/ca.crt" \
    --service-account-key-file "$data/sa.key" --service-account-signing-key-file "$data/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local --service-cluster-ip-range 10.96.0.0/12 \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction --allow-privileged=true \
    --kubelet-client-certificate "$data/apiserver-node-client.crt" --kubelet-client-key "$data/apiserver-node-client.key" \
    --kubelet-certificate-authority "$data/ca.crt" --kubelet-preferred-address-types InternalIP \
    --requestheader-client-ca-file "$data/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$data/front-proxy-client.crt" --proxy-client-key-file "$data/front-proxy-client.key" \
    --enable-aggregator-routing=true --endpoint-reconciler-type none >"$work/server.log" 2>&1 &
  pids+=("$!")
  "$bin/kube-controller-manager" --kubeconfig "$data/admin.kubeconfig" \
    --authentication-kubeconfig "$data/admin.kubeconfig" --authorization-kubeconfig "$data/admin.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false --use-service-account-credentials \
    --service-account-private-key-file "$data/sa.key" --root-ca-file "$data/ca.crt" \
    --cluster-signing-cert-file "$data/ca.crt" --cluster-signing-key-file "$data/ca.key" \
    --service-cluster-ip-range 10.96.0.0/12 --controllers '*,bootstrapsigner,tokencleaner' >"$work/controller-manager.log" 2>&1 &
  pids+=("$!")
  "$bin/kube-scheduler" --kubeconfig "$data/admin.kubeconfig" \
    --authentication-kubeconfig "$data/admin.kubeconfig" --authorization-kubeconfig "$data/admin.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false >"$work/scheduler.log" 2>&1 &
  pids+=("$!")
fi
export KUBECONFIG=$data/admin.kubeconfig
kubectl() { "$bin/kubectl" "$@"; }
for _ in $(seq 1 120); do
  if [ -f "$KUBECONFIG" ] && kubectl get --raw /readyz >/dev/null 2>&1; then break; fi
  for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || { tail -n 50 "$work"/*.log; echo "a control plane process exited" >&2; exit 1; }
  done
  sleep 1
done
kubectl get --raw /readyz >/dev/null

# Each node: its own address on loopback (127.0.0.<offset+i>), its own containerd,
# pod CIDR and bridge, the offline images imported, registry.k8s.io pulled
# through the mirror.
server_url=$(kubectl config view -o jsonpath='{.clusters[0].cluster.server}')
for i in $(seq 1 "$nodes"); do
  ip=127.0.0.$((offset+i))
  "$root/bin/capstan" node-credentials --data-dir "$data" --node-name "node-$i" --node-ip "$ip" --server "$server_url" --out "$work/node$i/pki" >/dev/null
  "$root/bin/capstan" agent --kubeconfig "$work/node$i/pki/kubeconfig" --tls-cert-file "$work/node$i/pki/agent.crt" \
    --tls-private-key-file "$work/node$i/pki/agent.key" --client-ca-file "$work/node$i/pki/ca.crt" \
    --node-name "node-$i" --node-ip "$ip" --address "$ip" --root-dir "$work/node$i" --start-containerd \
    --registry-config-dir "$work/certs.d" \
    --pod-cidr "10.244.$((offset+i)).0/24" --bridge "capc$((offset+i))" --image-archive-dir "$images" >"$work/node$i.log" 2>&1 &
  pids+=("$!")
done
for _ in $(seq 1 300); do
  [ "$(kubectl get nodes -o name 2>/dev/null | wc -l)" -ge "$nodes" ] && break
  sleep 1
done
kubectl wait --for=condition=Ready node --all --timeout=300s >/dev/null || { tail -n 30 "$work"/node*.log; exit 1; }
if [ "$target" = capstan ]; then
  note="Cluster: one capstan server and $nodes capstan agents"
else
  note="Cluster (TARGET=upstream): kube-apiserver, kube-controller-manager and kube-scheduler v1.37.1 on their own etcd, and $nodes capstan agents"
fi
note="$note (127.0.0.$((offset+1))-$((offset+nodes)), each with its own containerd); offline images imported, registry.k8s.io mirrored on loopback."

rm -rf "$report" && mkdir -p "$report"
# Parallel tests on PROCS ginkgo processes, then the [Serial] ones alone.
procs=${PROCS:-4}
e2e_flags=(--kubeconfig "$KUBECONFIG" --provider skeleton --kubectl-path "$bin/kubectl" --report-dir "$report")
if [ -n "${FOCUS_FILE:-}" ]; then
  # Each name without its trailing [tags], regex metacharacters escaped,
  # followed by a tag or the end, one alternative each.
  FOCUS=$(grep -v '^\s*\(#\|$\)' "$FOCUS_FILE" | sed 's/\( \[[^]]*\]\)*$//; s/[][\.*^$()+?{}|/]/\\&/g; s/$/( \\[|$)/' | paste -sd'|' -)
fi
ginkgo_flags=(${FOCUS:+--focus "$FOCUS"} ${SKIP:+--skip "$SKIP"} --timeout 24h --no-color)
echo "== running e2e.test against $target (focus: ${FOCUS_FILE:-${FOCUS:-all [Conformance]}}, skip: ${SKIP:-none}; $procs parallel processes, then serial)"
set +e
start=$(date +%s)
"$bin/ginkgo" --procs "$procs" --label-filter 'Conformance && !Serial' "${ginkgo_flags[@]}" \
  --junit-report junit_parallel.xml --output-dir "$report" "$bin/e2e.test" -- "${e2e_flags[@]}" > "$report/e2e.log" 2>&1
rc=$?
mid=$(date +%s)
"$bin/ginkgo" --label-filter 'Conformance && Serial' "${ginkgo_flags[@]}" \
  --junit-report junit_serial.xml --output-dir "$report" "$bin/e2e.test" -- "${e2e_flags[@]}" > "$report/e2e-serial.log" 2>&1
rc2=$?
[ "$rc" -ne 0 ] || rc=$rc2
end=$(date +%s)
echo "e2e wall time: $((end - start))s (parallel $((mid - start))s, serial $((end - mid))s)"
set -e
tail -5 "$report/e2e.log"
for f in "$work"/*.log; do cp "$f" "$report/"; done
junit=$(ls "$report"/junit_parallel.xml "$report"/junit_serial.xml 2>/dev/null | paste -sd, -)
[ -n "$junit" ] || { echo "e2e.test wrote no JUnit file (exit $rc); see $report/e2e.log" >&2; exit 1; }
set +e
"$bin/report" -junit "$junit" -conformance "$list" -out "$report" -note "$note" -passing "$conf/passing.txt"
report_rc=$?
set -e
echo "report: $report/summary.md; failing: $report/failing.txt; passed: $report/passed.txt"
# A known-passing test that fails now is the loudest failure (exit 3).
[ "$report_rc" -eq 0 ] || exit "$report_rc"
if [ -n "${FOCUS_FILE:-}" ]; then
  # Every named test ran and passed (a name that matches nothing fails too).
  missing=$(grep -v '^\s*\(#\|$\)' "$FOCUS_FILE" | grep -vxFf "$report/passed.txt" || true)
  if [ -n "$missing" ]; then
    printf 'named in %s but not passed:\n%s\n' "$FOCUS_FILE" "$missing" >&2
    exit 3
  fi
  echo "all $(grep -vc '^\s*\(#\|$\)' "$FOCUS_FILE") tests of $FOCUS_FILE passed"
fi
exit "$rc"
