// Package nodeunschedulable filters out cordoned nodes (spec.unschedulable)
// unless the pod tolerates the node.kubernetes.io/unschedulable:NoSchedule taint.
package nodeunschedulable

import (
	"context"

	v1 "k8s.io/api/core/v1"
	v1helper "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/scheduler/framework"
)

const (
	// Name of the plugin.
	Name = "NodeUnschedulable"
	// ErrReasonUnschedulable is the rejection reason.
	ErrReasonUnschedulable = "node(s) were unschedulable"
)

// NodeUnschedulable is the plugin.
type NodeUnschedulable struct{}

var (
	_ framework.FilterPlugin      = &NodeUnschedulable{}
	_ framework.EnqueueExtensions = &NodeUnschedulable{}
)

// New builds the plugin.
func New(context.Context, framework.Handle) (framework.Plugin, error) {
	return &NodeUnschedulable{}, nil
}

// Name implements framework.Plugin.
func (pl *NodeUnschedulable) Name() string { return Name }

var unschedulableTaint = v1.Taint{Key: v1.TaintNodeUnschedulable, Effect: v1.TaintEffectNoSchedule}

func toleratesUnschedulable(logger klog.Logger, pod *v1.Pod) bool {
	return v1helper.TolerationsTolerateTaint(logger, pod.Spec.Tolerations, &unschedulableTaint, false)
}

// EventsToRegister implements framework.EnqueueExtensions: a schedulable
// node appearing, a node being uncordoned, or the pod gaining the toleration.
func (pl *NodeUnschedulable) EventsToRegister(context.Context) ([]framework.ClusterEventWithHint, error) {
	return []framework.ClusterEventWithHint{
		{Event: framework.ClusterEvent{Resource: framework.Node, ActionType: framework.Add | framework.UpdateNodeTaint}, QueueingHintFn: isSchedulableAfterNodeChange},
		{Event: framework.ClusterEvent{Resource: framework.TargetPod, ActionType: framework.UpdatePodToleration}, QueueingHintFn: isSchedulableAfterPodTolerationChange},
	}, nil
}

func isSchedulableAfterNodeChange(_ klog.Logger, _ *v1.Pod, oldObj, newObj any) (framework.QueueingHint, error) {
	oldNode, _ := oldObj.(*v1.Node)
	newNode, ok := newObj.(*v1.Node)
	if !ok {
		return framework.Queue, nil
	}
	if !newNode.Spec.Unschedulable && (oldNode == nil || oldNode.Spec.Unschedulable) {
		return framework.Queue, nil
	}
	return framework.QueueSkip, nil
}

func isSchedulableAfterPodTolerationChange(logger klog.Logger, _ *v1.Pod, _, newObj any) (framework.QueueingHint, error) {
	if pod, ok := newObj.(*v1.Pod); ok && toleratesUnschedulable(logger, pod) {
		return framework.Queue, nil
	}
	return framework.QueueSkip, nil
}

// Filter implements framework.FilterPlugin.
func (pl *NodeUnschedulable) Filter(ctx context.Context, _ *framework.CycleState, pod *v1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	if !nodeInfo.Node().Spec.Unschedulable || toleratesUnschedulable(klog.FromContext(ctx), pod) {
		return nil
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonUnschedulable)
}
