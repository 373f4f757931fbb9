package nodeagent

import (
	"context"
	"time"

	"golang.org/x/sys/unix"
	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// summary is the node's /stats/summary in the shape of the kubelet's
// stats/v1alpha1 Summary, with what the runtime reports.
func summary(ctx context.Context, node string, rs internalapi.RuntimeService) (any, error) {
	now := time.Now().UTC().Format(time.RFC3339)
	var info unix.Sysinfo_t
	_ = unix.Sysinfo(&info)
	total := uint64(info.Totalram) * uint64(info.Unit)
	free := uint64(info.Freeram) * uint64(info.Unit)
	stats, err := rs.ListPodSandboxStats(ctx, &runtimeapi.PodSandboxStatsFilter{})
	var podsOut []map[string]any
	if err == nil {
		for _, s := range stats {
			a := s.GetAttributes()
			l := s.GetLinux()
			p := map[string]any{
				"podRef":    map[string]string{"name": a.GetMetadata().GetName(), "namespace": a.GetMetadata().GetNamespace(), "uid": a.GetMetadata().GetUid()},
				"startTime": now,
			}
			if c := l.GetCpu(); c != nil {
				p["cpu"] = map[string]any{"time": now, "usageCoreNanoSeconds": c.GetUsageCoreNanoSeconds().GetValue(), "usageNanoCores": c.GetUsageNanoCores().GetValue()}
			}
			if m := l.GetMemory(); m != nil {
				p["memory"] = map[string]any{"time": now, "workingSetBytes": m.GetWorkingSetBytes().GetValue(), "usageBytes": m.GetUsageBytes().GetValue()}
			}
			podsOut = append(podsOut, p)
		}
	}
	return map[string]any{
		"node": map[string]any{
			"nodeName":  node,
			"startTime": now,
			"memory":    map[string]any{"time": now, "availableBytes": free, "usageBytes": total - free, "workingSetBytes": total - free},
		},
		"pods": podsOut,
	}, nil
}
