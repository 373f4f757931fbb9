#!/usr/bin/env bash
# Runs the upstream Kubernetes 1.37 [Conformance] tests against a local
# Capstan cluster and writes conformance/report/.
#   FOCUS=regex   run only tests whose name matches (ginkgo --focus)
#   SKIP=regex    leave out tests whose name matches (ginkgo --skip)
# conformance/passing.txt lists the tests known to pass; one of them failing
# is reported as a regression.
#   NODES=n       number of agents (default 2)
#   PROCS=n       parallel ginkgo processes for the non-serial tests (default 4)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
conf=$root/conformance
report=$conf/report
bin=$conf/bin
mkdir -p "$bin"

echo "== building capstan, e2e.test, kubectl 1.37 and the report tool"
make -C "$root" build >/dev/null
(cd "$conf" && go test -c -o "$bin/e2e.test" k8s.io/kubernetes/test/e2e \
  && go build -o "$bin/kubectl" k8s.io/kubernetes/cmd/kubectl \
  && go build -o "$bin/ginkgo" github.com/onsi/ginkgo/v2/ginkgo \
  && go build -o "$bin/report" ./cmd/report)
list=$(cd "$conf" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/test/conformance/testdata/conformance.yaml

echo "== building the offline test images"
"$root/hack/install-node-deps.sh"
"$root/hack/build-busybox.sh"
(cd "$root" && go run ./hack/node-images -out "$root/bin/images" -busybox "$root/bin/busybox" >/dev/null)
"$root/hack/conformance-images.sh" >/dev/null
images=$(mktemp -d)
ln -s "$root"/bin/images/*.tar "$conf"/images/out/*.tar "$images"/ 2>/dev/null || true

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$root/bin/capstan" server --data-dir "$work/data" --bind-address 127.0.0.1 --secure-port "$port" --local-agent=false >"$work/server.log" 2>&1 &
pid=$!
pids=("$pid")
nodes=${NODES:-2}
cleanup() {
  # Pods first (their containers, mounts and network), then the agents,
  # their containerds and the server, each by PID.
  if [ -f "$work/data/admin.kubeconfig" ]; then
    "$bin/kubectl" --kubeconfig "$work/data/admin.kubeconfig" delete pods --all-namespaces --all --grace-period=1 --wait=true --timeout=120s >/dev/null 2>&1 || true
  fi
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
  for i in $(seq 1 "$nodes"); do
    [ -f "$work/node$i/containerd/containerd.pid" ] && kill -TERM "$(cat "$work/node$i/containerd/containerd.pid")" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 60); do kill -0 "$p" 2>/dev/null || break; sleep 1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  # Sandboxes of pods that did not finish deleting: their shims (found by
  # this run's containerd sockets) and what they run.
  for shim in $(pgrep -f "containerd-shim-runc-v2 .*-address $work/" || true); do
    pkill -KILL -P "$shim" 2>/dev/null || true
    kill -KILL "$shim" 2>/dev/null || true
  done
  for i in $(seq 1 "$nodes"); do ip link del "capc$i" 2>/dev/null || true; done
  grep " $work/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work" "$images"
}
trap cleanup EXIT
export KUBECONFIG=$work/data/admin.kubeconfig
kubectl() { "$bin/kubectl" "$@"; }
for _ in $(seq 1 120); do
  if [ -f "$KUBECONFIG" ] && kubectl get --raw /readyz >/dev/null 2>&1; then break; fi
  kill -0 "$pid" 2>/dev/null || { tail -50 "$work/server.log"; echo "capstan server exited" >&2; exit 1; }
  sleep 1
done
kubectl get --raw /readyz >/dev/null

# Each node: its own address on loopback (127.0.0.<1+i>), its own containerd,
# pod CIDR and bridge, the offline images imported.
server_url=$(kubectl config view -o jsonpath='{.clusters[0].cluster.server}')
for i in $(seq 1 "$nodes"); do
  ip=127.0.0.$((1+i))
  "$root/bin/capstan" node-credentials --data-dir "$work/data" --node-name "node-$i" --node-ip "$ip" --server "$server_url" --out "$work/node$i/pki" >/dev/null
  "$root/bin/capstan" agent --kubeconfig "$work/node$i/pki/kubeconfig" --tls-cert-file "$work/node$i/pki/agent.crt" \
    --tls-private-key-file "$work/node$i/pki/agent.key" --client-ca-file "$work/node$i/pki/ca.crt" \
    --node-name "node-$i" --node-ip "$ip" --address "$ip" --root-dir "$work/node$i" --start-containerd \
    --pod-cidr "10.244.$i.0/24" --bridge "capc$i" --image-archive-dir "$images" >"$work/node$i.log" 2>&1 &
  pids+=("$!")
done
for _ in $(seq 1 300); do
  [ "$(kubectl get nodes -o name 2>/dev/null | wc -l)" -ge "$nodes" ] && break
  sleep 1
done
kubectl wait --for=condition=Ready node --all --timeout=300s >/dev/null || { tail -n 30 "$work"/node*.log; exit 1; }
note="Cluster: one capstan server and $nodes capstan agents (127.0.0.2-$((1+nodes)), each with its own containerd); offline images imported."

rm -rf "$report" && mkdir -p "$report"
# Parallel tests on PROCS ginkgo processes, then the [Serial] ones alone.
procs=${PROCS:-4}
e2e_flags=(--kubeconfig "$KUBECONFIG" --provider skeleton --kubectl-path "$bin/kubectl" --report-dir "$report")
ginkgo_flags=(${FOCUS:+--focus "$FOCUS"} ${SKIP:+--skip "$SKIP"} --timeout 24h --no-color)
echo "== running e2e.test (focus: ${FOCUS:-all [Conformance]}, skip: ${SKIP:-none}; $procs parallel processes, then serial)"
set +e
start=$(date +%s)
"$bin/ginkgo" --procs "$procs" --label-filter 'Conformance && !Serial' "${ginkgo_flags[@]}" \
  --junit-report junit_parallel.xml --output-dir "$report" "$bin/e2e.test" -- "${e2e_flags[@]}" > "$report/e2e.log" 2>&1
rc=$?
"$bin/ginkgo" --label-filter 'Conformance && Serial' "${ginkgo_flags[@]}" \
  --junit-report junit_serial.xml --output-dir "$report" "$bin/e2e.test" -- "${e2e_flags[@]}" > "$report/e2e-serial.log" 2>&1
rc2=$?
[ "$rc" -ne 0 ] || rc=$rc2
echo "e2e wall time: $(( $(date +%s) - start ))s"
set -e
tail -5 "$report/e2e.log"
cp "$work/server.log" "$report/server.log"
for i in $(seq 1 "$nodes"); do cp "$work/node$i.log" "$report/node$i.log"; done
junit=$(ls "$report"/junit_parallel.xml "$report"/junit_serial.xml 2>/dev/null | paste -sd, -)
[ -n "$junit" ] || { echo "e2e.test wrote no JUnit file (exit $rc); see $report/e2e.log" >&2; exit 1; }
set +e
"$bin/report" -junit "$junit" -conformance "$list" -out "$report" -note "$note" -passing "$conf/passing.txt"
report_rc=$?
set -e
echo "report: $report/summary.md; failing: $report/failing.txt; passed: $report/passed.txt"
# A known-passing test that fails now is the loudest failure (exit 3).
[ "$report_rc" -eq 0 ] || exit "$report_rc"
exit "$rc"
