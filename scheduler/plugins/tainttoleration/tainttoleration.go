// Package tainttoleration filters out nodes with NoSchedule or NoExecute
// taints the pod does not tolerate, and prefers nodes with fewer
// PreferNoSchedule taints it does not tolerate.
package tainttoleration

import (
	"context"

	v1 "k8s.io/api/core/v1"
	v1helper "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/scheduler/framework"
)

const (
	// Name of the plugin.
	Name = "TaintToleration"
	// ErrReasonNotMatch is the rejection reason (upstream 1.37 no longer names the taint).
	ErrReasonNotMatch = "node(s) had untolerated taint(s)"

	preScoreStateKey framework.StateKey = "PreScore" + Name
)

// Comparison operators in tolerations (TaintTolerationComparisonOperators) are alpha and off.
const comparisonOperators = false

// TaintToleration is the plugin.
type TaintToleration struct{}

var (
	_ framework.FilterPlugin      = &TaintToleration{}
	_ framework.PreScorePlugin    = &TaintToleration{}
	_ framework.ScorePlugin       = &TaintToleration{}
	_ framework.EnqueueExtensions = &TaintToleration{}
)

// New builds the plugin.
func New(context.Context, framework.Handle) (framework.Plugin, error) { return &TaintToleration{}, nil }

// Name implements framework.Plugin.
func (pl *TaintToleration) Name() string { return Name }

func doNotSchedule(t *v1.Taint) bool {
	return t.Effect == v1.TaintEffectNoSchedule || t.Effect == v1.TaintEffectNoExecute
}

func untolerated(logger klog.Logger, node *v1.Node, pod *v1.Pod) (v1.Taint, bool) {
	return v1helper.FindMatchingUntoleratedTaint(logger, node.Spec.Taints, pod.Spec.Tolerations, doNotSchedule, comparisonOperators)
}

// EventsToRegister implements framework.EnqueueExtensions: a node added or
// retainted that the pod now tolerates, or the pod's tolerations changing.
func (pl *TaintToleration) EventsToRegister(context.Context) ([]framework.ClusterEventWithHint, error) {
	return []framework.ClusterEventWithHint{
		{Event: framework.ClusterEvent{Resource: framework.Node, ActionType: framework.Add | framework.UpdateNodeTaint}, QueueingHintFn: isSchedulableAfterNodeChange},
		{Event: framework.ClusterEvent{Resource: framework.TargetPod, ActionType: framework.UpdatePodToleration}},
	}, nil
}

func isSchedulableAfterNodeChange(logger klog.Logger, pod *v1.Pod, oldObj, newObj any) (framework.QueueingHint, error) {
	newNode, ok := newObj.(*v1.Node)
	if !ok {
		return framework.Queue, nil
	}
	wasUntolerated := true
	if oldNode, ok := oldObj.(*v1.Node); ok && oldNode != nil {
		_, wasUntolerated = untolerated(logger, oldNode, pod)
	}
	if _, isUntolerated := untolerated(logger, newNode, pod); wasUntolerated && !isUntolerated {
		return framework.Queue, nil
	}
	return framework.QueueSkip, nil
}

// Filter implements framework.FilterPlugin.
func (pl *TaintToleration) Filter(ctx context.Context, _ *framework.CycleState, pod *v1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	logger := klog.FromContext(ctx)
	taint, found := untolerated(logger, nodeInfo.Node(), pod)
	if !found {
		return nil
	}
	logger.V(4).Info("Node had untolerated taints", "node", klog.KObj(nodeInfo.Node()), "pod", klog.KObj(pod), "untoleratedTaint", taint)
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonNotMatch)
}

type preScoreState struct {
	tolerationsPreferNoSchedule []v1.Toleration
}

func (s *preScoreState) Clone() framework.StateData { return s }

// PreScore keeps the tolerations that can tolerate PreferNoSchedule taints.
func (pl *TaintToleration) PreScore(_ context.Context, state *framework.CycleState, pod *v1.Pod, _ []*framework.NodeInfo) *framework.Status {
	state.Write(preScoreStateKey, &preScoreState{tolerationsPreferNoSchedule: preferNoScheduleTolerations(pod.Spec.Tolerations)})
	return nil
}

func preferNoScheduleTolerations(tolerations []v1.Toleration) []v1.Toleration {
	var out []v1.Toleration
	for _, t := range tolerations {
		if t.Effect == "" || t.Effect == v1.TaintEffectPreferNoSchedule {
			out = append(out, t)
		}
	}
	return out
}

// Score counts the node's untolerated PreferNoSchedule taints; NormalizeScore reverses the scale.
func (pl *TaintToleration) Score(ctx context.Context, state *framework.CycleState, pod *v1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	s, err := framework.ReadAs[*preScoreState](state, preScoreStateKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	logger := klog.FromContext(ctx)
	var n int64
	for i := range nodeInfo.Node().Spec.Taints {
		t := &nodeInfo.Node().Spec.Taints[i]
		if t.Effect == v1.TaintEffectPreferNoSchedule && !v1helper.TolerationsTolerateTaint(logger, s.tolerationsPreferNoSchedule, t, comparisonOperators) {
			n++
		}
	}
	return n, nil
}

// ScoreExtensions implements framework.ScorePlugin.
func (pl *TaintToleration) ScoreExtensions() framework.ScoreExtensions { return pl }

// NormalizeScore gives the nodes with the fewest untolerated taints the highest score.
func (pl *TaintToleration) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *v1.Pod, scores framework.NodeScoreList) *framework.Status {
	framework.DefaultNormalizeScore(framework.MaxNodeScore, true, scores)
	return nil
}
