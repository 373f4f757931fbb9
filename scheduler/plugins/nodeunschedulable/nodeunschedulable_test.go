package nodeunschedulable

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2/ktesting"

	"github.com/capstan-dev/capstan/scheduler/framework"
	st "github.com/capstan-dev/capstan/scheduler/schedulertest"
)

func TestFilter(t *testing.T) {
	tolerateAll := v1.Toleration{Key: v1.TaintNodeUnschedulable, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule}
	tests := []struct {
		name string
		pod  *v1.Pod
		node *v1.Node
		want framework.Code
	}{
		{"schedulable node", st.MakePod("p").Obj(), st.MakeNode("n").Obj(), framework.Success},
		{"cordoned node", st.MakePod("p").Obj(), st.MakeNode("n").Unschedulable().Obj(), framework.UnschedulableAndUnresolvable},
		{"cordoned node, pod tolerates it", st.MakePod("p").Toleration(tolerateAll).Obj(), st.MakeNode("n").Unschedulable().Obj(), framework.Success},
		{"cordoned node, empty-key Exists tolerates everything", st.MakePod("p").Toleration(v1.Toleration{Operator: v1.TolerationOpExists}).Obj(),
			st.MakeNode("n").Unschedulable().Obj(), framework.Success},
		{"cordoned node, toleration for another effect", st.MakePod("p").Toleration(v1.Toleration{Key: v1.TaintNodeUnschedulable, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute}).Obj(),
			st.MakeNode("n").Unschedulable().Obj(), framework.UnschedulableAndUnresolvable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			s := (&NodeUnschedulable{}).Filter(ctx, nil, tt.pod, st.NodeInfo(tt.node))
			if s.Code() != tt.want {
				t.Errorf("Filter = %v, want %v", s, tt.want)
			}
			if !s.IsSuccess() && s.Message() != ErrReasonUnschedulable {
				t.Errorf("reason %q", s.Message())
			}
		})
	}
}

func TestQueueingHints(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	pod := st.MakePod("p").Obj()
	tests := []struct {
		name     string
		old, new *v1.Node
		want     framework.QueueingHint
	}{
		{"schedulable node added", nil, st.MakeNode("n").Obj(), framework.Queue},
		{"cordoned node added", nil, st.MakeNode("n").Unschedulable().Obj(), framework.QueueSkip},
		{"node uncordoned", st.MakeNode("n").Unschedulable().Obj(), st.MakeNode("n").Obj(), framework.Queue},
		{"node cordoned", st.MakeNode("n").Obj(), st.MakeNode("n").Unschedulable().Obj(), framework.QueueSkip},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var old any
			if tt.old != nil {
				old = tt.old
			}
			got, err := isSchedulableAfterNodeChange(logger, pod, old, tt.new)
			if err != nil || got != tt.want {
				t.Errorf("hint = %v (%v), want %v", got, err, tt.want)
			}
		})
	}
}
