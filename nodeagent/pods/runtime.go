package pods

import (
	"context"
	"sort"
	"strconv"

	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// CRI labels and annotations, the same keys the upstream kubelet uses, so
// the agent can rebuild its view of a pod from the runtime after a restart.
const (
	labelPodName       = "io.kubernetes.pod.name"
	labelPodNamespace  = "io.kubernetes.pod.namespace"
	labelPodUID        = "io.kubernetes.pod.uid"
	labelContainerName = "io.kubernetes.container.name"
	// labelNode marks everything this agent created, so agents sharing a
	// runtime never touch each other's containers.
	labelNode = "capstan.dev/node"

	annRestartCount       = "io.kubernetes.container.restartCount"
	annTerminationPath    = "io.kubernetes.container.terminationMessagePath"
	annTerminationPolicy  = "io.kubernetes.container.terminationMessagePolicy"
	annPodGracePeriod     = "io.kubernetes.pod.terminationGracePeriod"
	annContainerIsInit    = "capstan.dev/init-container"
	annContainerIsSidecar = "capstan.dev/sidecar-container"
)

// podRuntime is what the runtime holds for one pod.
type podRuntime struct {
	// sandboxes newest first.
	sandboxes []*runtimeapi.PodSandbox
	// sandboxStatus of sandboxes[0] when there is one.
	sandboxStatus *runtimeapi.PodSandboxStatus
	// containers by container name, newest first.
	containers map[string][]*runtimeapi.ContainerStatus
}

func (r *podRuntime) sandbox() *runtimeapi.PodSandbox {
	if len(r.sandboxes) == 0 {
		return nil
	}
	return r.sandboxes[0]
}

func (r *podRuntime) sandboxReady() bool {
	s := r.sandbox()
	return s != nil && s.State == runtimeapi.PodSandboxState_SANDBOX_READY
}

// latest is the newest container of the given name, or nil.
func (r *podRuntime) latest(name string) *runtimeapi.ContainerStatus {
	if cs := r.containers[name]; len(cs) > 0 {
		return cs[0]
	}
	return nil
}

// latestInSandbox is the newest container of the given name created in the
// current sandbox; containers of an older sandbox must run again.
func (r *podRuntime) latestInSandbox(name string, sandboxContainers map[string]bool) *runtimeapi.ContainerStatus {
	for _, c := range r.containers[name] {
		if sandboxContainers[c.Id] {
			return c
		}
	}
	return nil
}

func restartCount(c *runtimeapi.ContainerStatus) int32 {
	if c == nil {
		return 0
	}
	n, _ := strconv.Atoi(c.Annotations[annRestartCount])
	return int32(n)
}

// observe reads the pod's sandboxes and containers from the runtime.
func (a *Manager) observe(ctx context.Context, uid types.UID) (*podRuntime, map[string]bool, error) {
	sel := map[string]string{labelPodUID: string(uid), labelNode: a.cfg.NodeName}
	sbs, err := a.runtime.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: sel})
	if err != nil {
		return nil, nil, err
	}
	sort.Slice(sbs, func(i, j int) bool { return sbs[i].CreatedAt > sbs[j].CreatedAt })
	r := &podRuntime{sandboxes: sbs, containers: map[string][]*runtimeapi.ContainerStatus{}}
	if len(sbs) > 0 {
		st, err := a.runtime.PodSandboxStatus(ctx, sbs[0].Id, false)
		if err == nil {
			r.sandboxStatus = st.GetStatus()
		}
	}
	cs, err := a.runtime.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: sel})
	if err != nil {
		return nil, nil, err
	}
	inSandbox := map[string]bool{}
	for _, c := range cs {
		st, err := a.runtime.ContainerStatus(ctx, c.Id, false)
		if err != nil || st.GetStatus() == nil {
			continue
		}
		name := c.Labels[labelContainerName]
		r.containers[name] = append(r.containers[name], st.GetStatus())
		if len(sbs) > 0 && c.PodSandboxId == sbs[0].Id {
			inSandbox[c.Id] = true
		}
	}
	for name := range r.containers {
		list := r.containers[name]
		sort.Slice(list, func(i, j int) bool {
			ri, rj := restartCount(list[i]), restartCount(list[j])
			if ri != rj {
				return ri > rj
			}
			return list[i].CreatedAt > list[j].CreatedAt
		})
	}
	return r, inSandbox, nil
}
