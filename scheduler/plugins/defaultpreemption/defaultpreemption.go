// Package defaultpreemption is the PostFilter that runs when a pod fits no
// node. It evaluates preemption as upstream's DefaultPreemption does: on
// every node rejected for a reason evicting pods could fix, it removes all
// pods of lower priority and runs the filters again. It does not evict
// anything yet; it reports what it found, so that the scheduling failure
// message reads as upstream's ("preemption: 0/3 nodes are available: ...").
package defaultpreemption

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/scheduler/framework"
)

const (
	// Name of the plugin.
	Name = "DefaultPreemption"

	// Reasons, as upstream words them.
	reasonNotHelpful = "Preemption is not helpful for scheduling"
	reasonNoVictims  = "No preemption victims found for incoming pod"
	reasonNever      = "not eligible due to preemptionPolicy=Never."
)

// DefaultPreemption is the plugin.
type DefaultPreemption struct {
	handle framework.Handle
}

var _ framework.PostFilterPlugin = &DefaultPreemption{}

// New builds the plugin.
func New(_ context.Context, h framework.Handle) (framework.Plugin, error) {
	return &DefaultPreemption{handle: h}, nil
}

// Name implements framework.Plugin.
func (pl *DefaultPreemption) Name() string { return Name }

// PostFilter implements framework.PostFilterPlugin. The status is always
// Unschedulable; its message says why preemption does not help, or on how
// many nodes it would.
func (pl *DefaultPreemption) PostFilter(ctx context.Context, state *framework.CycleState, pod *v1.Pod, statuses *framework.NodeToStatus) *framework.Status {
	return framework.NewStatus(framework.Unschedulable, "preemption: "+pl.evaluate(ctx, state, pod, statuses))
}

func (pl *DefaultPreemption) evaluate(ctx context.Context, state *framework.CycleState, pod *v1.Pod, statuses *framework.NodeToStatus) string {
	if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy == v1.PreemptNever {
		return reasonNever
	}
	all := pl.handle.SnapshotSharedLister().List()
	result := framework.NewNodeToStatus()
	result.SetAbsentNodesStatus(framework.NewStatus(framework.UnschedulableAndUnresolvable, reasonNotHelpful))
	candidates := 0
	for _, ni := range statuses.NodesForStatusCode(all, framework.Unschedulable) {
		s := pl.tryNode(ctx, state.Clone(), pod, ni.Clone())
		if s.IsSuccess() {
			candidates++
			continue
		}
		result.Set(ni.Node().Name, s)
	}
	if candidates > 0 {
		klog.FromContext(ctx).V(2).Info("Preemption would make room but is not implemented", "pod", klog.KObj(pod), "candidates", candidates)
		return fmt.Sprintf("not implemented; evicting lower-priority pods would make room on %d node(s).", candidates)
	}
	fe := &framework.FitError{Pod: pod, NumAllNodes: len(all), Diagnosis: framework.Diagnosis{NodeToStatus: result}}
	return fe.Error()
}

// tryNode removes every pod of lower priority from a copy of the node and
// runs the filters again.
func (pl *DefaultPreemption) tryNode(ctx context.Context, state *framework.CycleState, pod *v1.Pod, ni *framework.NodeInfo) *framework.Status {
	prio := corev1helpers.PodPriority(pod)
	var victims []*framework.PodInfo
	for _, pi := range ni.Pods {
		if corev1helpers.PodPriority(pi.Pod) < prio {
			victims = append(victims, pi)
		}
	}
	if len(victims) == 0 {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, reasonNoVictims)
	}
	for _, v := range victims {
		if err := ni.RemovePod(v.Pod); err != nil {
			return framework.AsStatus(err)
		}
		if s := pl.handle.RunPreFilterExtensionRemovePod(ctx, state, pod, v, ni); !s.IsSuccess() {
			return s
		}
	}
	return pl.handle.RunFilterPlugins(ctx, state, pod, ni)
}
