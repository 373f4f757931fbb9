package noderesourcesfit

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2/ktesting"

	"github.com/capstan-dev/capstan/scheduler/framework"
	st "github.com/capstan-dev/capstan/scheduler/schedulertest"
)

func runFilter(t *testing.T, pod *v1.Pod, ni *framework.NodeInfo) *framework.Status {
	t.Helper()
	p, err := New(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	fit := p.(*Fit)
	state := framework.NewCycleState()
	if _, s := fit.PreFilter(context.Background(), state, pod, nil); !s.IsSuccess() {
		t.Fatalf("PreFilter: %v", s)
	}
	return fit.Filter(context.Background(), state, pod, ni)
}

func TestFilter(t *testing.T) {
	node := st.MakeNode("n").Capacity("cpu", "4", "memory", "8Gi", "example.com/gpu", "2").Obj()
	used := st.MakePod("used").Node("n").Req("cpu", "2", "memory", "4Gi").Obj()
	tests := []struct {
		name        string
		pod         *v1.Pod
		pods        []*v1.Pod
		node        *v1.Node
		wantCode    framework.Code
		wantReasons []string
	}{
		{name: "fits an empty node", pod: st.MakePod("p").Req("cpu", "4", "memory", "8Gi").Obj(), wantCode: framework.Success},
		{name: "fits beside another pod", pod: st.MakePod("p").Req("cpu", "2").Obj(), pods: []*v1.Pod{used}, wantCode: framework.Success},
		{name: "insufficient cpu", pod: st.MakePod("p").Req("cpu", "2500m").Obj(), pods: []*v1.Pod{used},
			wantCode: framework.Unschedulable, wantReasons: []string{"Insufficient cpu"}},
		{name: "insufficient cpu and memory", pod: st.MakePod("p").Req("cpu", "3", "memory", "5Gi").Obj(), pods: []*v1.Pod{used},
			wantCode: framework.Unschedulable, wantReasons: []string{"Insufficient cpu", "Insufficient memory"}},
		{name: "more than the node has is unresolvable", pod: st.MakePod("p").Req("cpu", "5").Obj(),
			wantCode: framework.UnschedulableAndUnresolvable, wantReasons: []string{"Insufficient cpu"}},
		{name: "extended resource", pod: st.MakePod("p").Req("example.com/gpu", "3").Obj(),
			wantCode: framework.UnschedulableAndUnresolvable, wantReasons: []string{"Insufficient example.com/gpu"}},
		{name: "extended resource the node lacks", pod: st.MakePod("p").Req("example.com/fpga", "1").Obj(),
			wantCode: framework.UnschedulableAndUnresolvable, wantReasons: []string{"Insufficient example.com/fpga"}},
		{name: "init container larger than the containers sets the request",
			pod: st.MakePod("p").Req("cpu", "500m").Init("cpu", "2500m").Obj(), pods: []*v1.Pod{used},
			wantCode: framework.Unschedulable, wantReasons: []string{"Insufficient cpu"}},
		{name: "init container smaller than the containers does not add",
			pod: st.MakePod("p").Req("cpu", "2").Init("cpu", "1500m").Obj(), pods: []*v1.Pod{used},
			wantCode: framework.Success},
		{name: "sidecar adds to the containers",
			pod: st.MakePod("p").Req("cpu", "1500m").Sidecar("cpu", "600m").Obj(), pods: []*v1.Pod{used},
			wantCode: framework.Unschedulable, wantReasons: []string{"Insufficient cpu"}},
		{name: "overhead adds to the request",
			pod: st.MakePod("p").Req("cpu", "1800m").Overhead("cpu", "250m").Obj(), pods: []*v1.Pod{used},
			wantCode: framework.Unschedulable, wantReasons: []string{"Insufficient cpu"}},
		{name: "too many pods", pod: st.MakePod("p").Obj(), pods: []*v1.Pod{used},
			node:     st.MakeNode("n").Capacity("pods", "1", "cpu", "4").Obj(),
			wantCode: framework.Unschedulable, wantReasons: []string{"Too many pods"}},
		{name: "too many pods is reported with the rest", pod: st.MakePod("p").Req("cpu", "3").Obj(), pods: []*v1.Pod{used},
			node:     st.MakeNode("n").Capacity("pods", "1", "cpu", "4").Obj(),
			wantCode: framework.Unschedulable, wantReasons: []string{"Too many pods", "Insufficient cpu"}},
		{name: "a pod requesting nothing only needs a pod slot", pod: st.MakePod("p").Obj(), pods: []*v1.Pod{used},
			node: st.MakeNode("n").Capacity("cpu", "1").Obj(), wantCode: framework.Success},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := tt.node
			if n == nil {
				n = node
			}
			s := runFilter(t, tt.pod, st.NodeInfo(n, tt.pods...))
			if s.Code() != tt.wantCode {
				t.Errorf("code = %v, want %v (%v)", s.Code(), tt.wantCode, s)
			}
			if diff := cmp.Diff(tt.wantReasons, s.Reasons()); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScore(t *testing.T) {
	tests := []struct {
		name     string
		strategy ScoringStrategy
		pod      *v1.Pod
		node     *v1.Node
		pods     []*v1.Pod
		want     int64
	}{
		{name: "least allocated: a quarter used after the pod", pod: st.MakePod("p").Req("cpu", "1", "memory", "2Gi").Obj(),
			node: st.MakeNode("n").Capacity("cpu", "4", "memory", "8Gi").Obj(), want: 75},
		{name: "least allocated: half used after the pod", pod: st.MakePod("p").Req("cpu", "1", "memory", "2Gi").Obj(),
			node: st.MakeNode("n").Capacity("cpu", "2", "memory", "4Gi").Obj(), want: 50},
		{name: "least allocated: existing pods count", pod: st.MakePod("p").Req("cpu", "1", "memory", "2Gi").Obj(),
			node: st.MakeNode("n").Capacity("cpu", "4", "memory", "8Gi").Obj(),
			pods: []*v1.Pod{st.MakePod("a").Node("n").Req("cpu", "1", "memory", "2Gi").Obj()}, want: 50},
		{name: "least allocated: containers without requests count 0.1 core and 200Mi",
			pod: st.MakePod("p").Obj(), node: st.MakeNode("n").Capacity("cpu", "1", "memory", "2000Mi").Obj(),
			pods: []*v1.Pod{st.MakePod("a").Node("n").Obj()}, want: 80},
		{name: "least allocated: over capacity scores 0", pod: st.MakePod("p").Req("cpu", "8", "memory", "16Gi").Obj(),
			node: st.MakeNode("n").Capacity("cpu", "4", "memory", "8Gi").Obj(), want: 0},
		{name: "most allocated", strategy: MostAllocated, pod: st.MakePod("p").Req("cpu", "1", "memory", "2Gi").Obj(),
			node: st.MakeNode("n").Capacity("cpu", "4", "memory", "8Gi").Obj(), want: 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Factory(Args{ScoringStrategy: tt.strategy})(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			fit := p.(*Fit)
			state := framework.NewCycleState()
			if s := fit.PreScore(context.Background(), state, tt.pod, nil); !s.IsSuccess() {
				t.Fatal(s)
			}
			got, s := fit.Score(context.Background(), state, tt.pod, st.NodeInfo(tt.node, tt.pods...))
			if !s.IsSuccess() || got != tt.want {
				t.Errorf("score = %d (%v), want %d", got, s, tt.want)
			}
		})
	}
}

func TestFactoryRejectsBadArgs(t *testing.T) {
	for _, args := range []Args{
		{ScoringStrategy: "Random"},
		{Resources: []ResourceSpec{{Name: v1.ResourceCPU, Weight: 0}}},
	} {
		if _, err := Factory(args)(context.Background(), nil); err == nil {
			t.Errorf("Factory(%+v) accepted", args)
		}
	}
}

func TestQueueingHints(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	pod := st.MakePod("p").Req("cpu", "2").Obj()
	small := st.MakeNode("n").Capacity("cpu", "1").Obj()
	big := st.MakeNode("n").Capacity("cpu", "4").Obj()
	bigMorePods := st.MakeNode("n").Capacity("cpu", "4", "pods", "200").Obj()
	tests := []struct {
		name   string
		fn     framework.QueueingHintFn
		oldObj any
		newObj any
		want   framework.QueueingHint
	}{
		{"node added that fits", isSchedulableAfterNodeChange, nil, big, framework.Queue},
		{"node added too small", isSchedulableAfterNodeChange, nil, small, framework.QueueSkip},
		{"node grew to fit", isSchedulableAfterNodeChange, small, big, framework.Queue},
		{"node changed but no more cpu", isSchedulableAfterNodeChange, big, big, framework.QueueSkip},
		{"node allows more pods", isSchedulableAfterNodeChange, big, bigMorePods, framework.Queue},
		{"assigned pod deleted", isSchedulableAfterPodDeleted, st.MakePod("x").Node("n").Obj(), nil, framework.Queue},
		{"unassigned pod deleted", isSchedulableAfterPodDeleted, st.MakePod("x").Obj(), nil, framework.QueueSkip},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.fn(logger, pod, tt.oldObj, tt.newObj)
			if err != nil || got != tt.want {
				t.Errorf("hint = %v (%v), want %v", got, err, tt.want)
			}
		})
	}
}
