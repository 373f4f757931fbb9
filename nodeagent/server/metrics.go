package server

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// metrics serves the agent's metrics in the Prometheus text format, under
// the kubelet's names, from what the runtime reports now.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sbs, err := s.runtime.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	cs, err := s.runtime.ListContainers(ctx, &runtimeapi.ContainerFilter{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	states := map[string]int{}
	for _, c := range cs {
		states[strings.ToLower(strings.TrimPrefix(c.State.String(), "CONTAINER_"))]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# HELP kubelet_node_name The node's name. The count is always 1.\n# TYPE kubelet_node_name gauge\nkubelet_node_name{node=%q} 1\n", s.cfg.NodeName)
	fmt.Fprintf(&b, "# HELP kubelet_running_pods Number of pods that have a running pod sandbox\n# TYPE kubelet_running_pods gauge\nkubelet_running_pods %d\n", len(sbs))
	fmt.Fprintf(&b, "# HELP kubelet_running_containers Number of containers currently running\n# TYPE kubelet_running_containers gauge\n")
	for _, st := range []string{"created", "running", "exited", "unknown"} {
		fmt.Fprintf(&b, "kubelet_running_containers{container_state=%q} %d\n", st, states[st])
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	_, _ = w.Write([]byte(b.String()))
}

// resourceMetrics is the kubelet's /metrics/resource: node and container
// CPU and memory usage from the runtime's stats.
func (s *Server) resourceMetrics(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	stats, err := s.runtime.ListContainerStats(ctx, &runtimeapi.ContainerStatsFilter{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	now := time.Now().UnixMilli()
	var b strings.Builder
	b.WriteString("# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds\n# TYPE container_cpu_usage_seconds_total counter\n")
	for _, st := range stats {
		a := st.GetAttributes()
		l := a.GetLabels()
		fmt.Fprintf(&b, "container_cpu_usage_seconds_total{container=%q,namespace=%q,pod=%q} %g %d\n",
			a.GetMetadata().GetName(), l["io.kubernetes.pod.namespace"], l["io.kubernetes.pod.name"], float64(st.GetCpu().GetUsageCoreNanoSeconds().GetValue())/1e9, now)
	}
	b.WriteString("# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes\n# TYPE container_memory_working_set_bytes gauge\n")
	for _, st := range stats {
		a := st.GetAttributes()
		l := a.GetLabels()
		fmt.Fprintf(&b, "container_memory_working_set_bytes{container=%q,namespace=%q,pod=%q} %d %d\n",
			a.GetMetadata().GetName(), l["io.kubernetes.pod.namespace"], l["io.kubernetes.pod.name"], st.GetMemory().GetWorkingSetBytes().GetValue(), now)
	}
	fmt.Fprintf(&b, "# HELP scrape_error [ALPHA] 1 if there was an error while getting container metrics, 0 otherwise\n# TYPE scrape_error gauge\nscrape_error 0\n")
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	_, _ = w.Write([]byte(b.String()))
}
