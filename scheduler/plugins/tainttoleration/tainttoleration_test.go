package tainttoleration

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2/ktesting"

	"github.com/capstan-dev/capstan/scheduler/framework"
	st "github.com/capstan-dev/capstan/scheduler/schedulertest"
)

func TestFilter(t *testing.T) {
	tests := []struct {
		name string
		pod  *v1.Pod
		node *v1.Node
		want framework.Code
	}{
		{"untainted node", st.MakePod("p").Obj(), st.MakeNode("n").Obj(), framework.Success},
		{"NoSchedule not tolerated", st.MakePod("p").Obj(), st.MakeNode("n").Taint("k", "v", v1.TaintEffectNoSchedule).Obj(), framework.UnschedulableAndUnresolvable},
		{"NoExecute not tolerated", st.MakePod("p").Obj(), st.MakeNode("n").Taint("k", "v", v1.TaintEffectNoExecute).Obj(), framework.UnschedulableAndUnresolvable},
		{"PreferNoSchedule does not filter", st.MakePod("p").Obj(), st.MakeNode("n").Taint("k", "v", v1.TaintEffectPreferNoSchedule).Obj(), framework.Success},
		{"tolerated by Equal", st.MakePod("p").Toleration(v1.Toleration{Key: "k", Operator: v1.TolerationOpEqual, Value: "v", Effect: v1.TaintEffectNoSchedule}).Obj(),
			st.MakeNode("n").Taint("k", "v", v1.TaintEffectNoSchedule).Obj(), framework.Success},
		{"Equal with another value", st.MakePod("p").Toleration(v1.Toleration{Key: "k", Operator: v1.TolerationOpEqual, Value: "w", Effect: v1.TaintEffectNoSchedule}).Obj(),
			st.MakeNode("n").Taint("k", "v", v1.TaintEffectNoSchedule).Obj(), framework.UnschedulableAndUnresolvable},
		{"tolerated by Exists without effect", st.MakePod("p").Toleration(v1.Toleration{Key: "k", Operator: v1.TolerationOpExists}).Obj(),
			st.MakeNode("n").Taint("k", "v", v1.TaintEffectNoExecute).Obj(), framework.Success},
		{"one of two taints tolerated", st.MakePod("p").Toleration(v1.Toleration{Key: "k", Operator: v1.TolerationOpExists}).Obj(),
			st.MakeNode("n").Taint("k", "v", v1.TaintEffectNoSchedule).Taint("other", "", v1.TaintEffectNoSchedule).Obj(), framework.UnschedulableAndUnresolvable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			s := (&TaintToleration{}).Filter(ctx, nil, tt.pod, st.NodeInfo(tt.node))
			if s.Code() != tt.want {
				t.Errorf("Filter = %v, want %v", s, tt.want)
			}
			if s.IsRejected() && s.Message() != ErrReasonNotMatch {
				t.Errorf("reason %q", s.Message())
			}
		})
	}
}

func TestScore(t *testing.T) {
	pod := st.MakePod("p").Toleration(v1.Toleration{Key: "ok", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectPreferNoSchedule}).Obj()
	nodes := []*v1.Node{
		st.MakeNode("clean").Obj(),
		st.MakeNode("tolerated").Taint("ok", "", v1.TaintEffectPreferNoSchedule).Obj(),
		st.MakeNode("one").Taint("a", "", v1.TaintEffectPreferNoSchedule).Obj(),
		st.MakeNode("two").Taint("a", "", v1.TaintEffectPreferNoSchedule).Taint("b", "", v1.TaintEffectPreferNoSchedule).Obj(),
		st.MakeNode("noschedule").Taint("a", "", v1.TaintEffectNoSchedule).Obj(),
	}
	_, ctx := ktesting.NewTestContext(t)
	pl := &TaintToleration{}
	state := framework.NewCycleState()
	if s := pl.PreScore(ctx, state, pod, nil); !s.IsSuccess() {
		t.Fatal(s)
	}
	var scores framework.NodeScoreList
	for _, n := range nodes {
		sc, s := pl.Score(ctx, state, pod, st.NodeInfo(n))
		if !s.IsSuccess() {
			t.Fatal(s)
		}
		scores = append(scores, framework.NodeScore{Name: n.Name, Score: sc})
	}
	pl.NormalizeScore(ctx, state, pod, scores)
	want := framework.NodeScoreList{{Name: "clean", Score: 100}, {Name: "tolerated", Score: 100}, {Name: "one", Score: 50}, {Name: "two", Score: 0}, {Name: "noschedule", Score: 100}}
	if diff := cmp.Diff(want, scores); diff != "" {
		t.Errorf("scores (-want +got):\n%s", diff)
	}
}

func TestQueueingHint(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	pod := st.MakePod("p").Obj()
	tainted := st.MakeNode("n").Taint("k", "", v1.TaintEffectNoSchedule).Obj()
	clean := st.MakeNode("n").Obj()
	tests := []struct {
		name     string
		old, new *v1.Node
		want     framework.QueueingHint
	}{
		{"clean node added", nil, clean, framework.Queue},
		{"tainted node added", nil, tainted, framework.QueueSkip},
		{"taint removed", tainted, clean, framework.Queue},
		{"taint added", clean, tainted, framework.QueueSkip},
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
