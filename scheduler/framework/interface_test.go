package framework

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

func TestFitErrorMessage(t *testing.T) {
	statuses := func(absent *Status, nodes map[string]*Status) *NodeToStatus {
		m := NewNodeToStatus()
		if absent != nil {
			m.SetAbsentNodesStatus(absent)
		}
		for n, s := range nodes {
			m.Set(n, s)
		}
		return m
	}
	cpu := NewStatus(Unschedulable, "Insufficient cpu")
	affinity := NewStatus(UnschedulableAndUnresolvable, "node(s) didn't match Pod's node affinity/selector")
	tests := []struct {
		name string
		err  FitError
		want string
	}{
		{
			name: "histogram sorted by text",
			err: FitError{NumAllNodes: 3, Diagnosis: Diagnosis{
				NodeToStatus:  statuses(nil, map[string]*Status{"a": cpu, "b": affinity, "c": affinity}),
				PostFilterMsg: "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
			}},
			want: "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
		},
		{
			name: "several reasons on one node each count",
			err: FitError{NumAllNodes: 1, Diagnosis: Diagnosis{
				NodeToStatus: statuses(nil, map[string]*Status{"a": NewStatus(Unschedulable, "Insufficient cpu", "Insufficient memory")}),
			}},
			want: "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.",
		},
		{
			name: "nodes ruled out by a PreFilter result count with the absent status",
			err: FitError{NumAllNodes: 4, Diagnosis: Diagnosis{
				NodeToStatus: statuses(NewStatus(UnschedulableAndUnresolvable, "node(s) didn't satisfy plugin(s) [NodeAffinity]"), map[string]*Status{"a": cpu}),
			}},
			want: "0/4 nodes are available: 1 Insufficient cpu, 3 node(s) didn't satisfy plugin(s) [NodeAffinity].",
		},
		{
			name: "a PreFilter rejection is said once",
			err: FitError{NumAllNodes: 2, Diagnosis: Diagnosis{
				NodeToStatus: statuses(NewStatus(UnschedulableAndUnresolvable, "pod affinity terms conflict"), nil),
				PreFilterMsg: "pod affinity terms conflict",
			}},
			want: "0/2 nodes are available: pod affinity terms conflict.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("message\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestPreFilterResultMerge(t *testing.T) {
	all := (*PreFilterResult)(nil)
	some := &PreFilterResult{NodeNames: sets.New("a", "b")}
	other := &PreFilterResult{NodeNames: sets.New("b", "c")}
	if got := all.Merge(all); !got.AllNodes() {
		t.Errorf("all+all = %v", got)
	}
	if got := all.Merge(some); !got.NodeNames.Equal(sets.New("a", "b")) {
		t.Errorf("all+some = %v", got.NodeNames)
	}
	if got := some.Merge(other); !got.NodeNames.Equal(sets.New("b")) {
		t.Errorf("some+other = %v", got.NodeNames)
	}
}

func TestDefaultNormalizeScore(t *testing.T) {
	tests := []struct {
		name    string
		reverse bool
		in      []int64
		want    []int64
	}{
		{"scaled to the highest", false, []int64{1, 2, 4}, []int64{25, 50, 100}},
		{"reversed", true, []int64{1, 2, 4}, []int64{75, 50, 0}},
		{"all zero", false, []int64{0, 0}, []int64{0, 0}},
		{"all zero reversed", true, []int64{0, 0}, []int64{100, 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scores := make(NodeScoreList, len(tt.in))
			for i, s := range tt.in {
				scores[i].Score = s
			}
			DefaultNormalizeScore(MaxNodeScore, tt.reverse, scores)
			var got []int64
			for _, s := range scores {
				got = append(got, s.Score)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	var nilStatus *Status
	if !nilStatus.IsSuccess() || nilStatus.Code() != Success || nilStatus.AsError() != nil {
		t.Error("a nil status is not a success")
	}
	s := NewStatus(UnschedulableAndUnresolvable, "a", "b").WithPlugin("P")
	if !s.IsRejected() || s.Message() != "a, b" || s.Plugin() != "P" || s.AsError() == nil {
		t.Errorf("status %v plugin %q", s, s.Plugin())
	}
	if NewStatus(Skip).AsError() != nil || !NewStatus(Skip).IsSkip() {
		t.Error("skip is an error")
	}
}

func TestNodeInfoAccounting(t *testing.T) {
	node := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}}
	node.Status.Allocatable = v1.ResourceList{v1.ResourcePods: mustParse("10"), v1.ResourceCPU: mustParse("4"), "example.com/gpu": mustParse("2")}
	withReq := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "a", UID: "a"}, Spec: v1.PodSpec{NodeName: "n", Containers: []v1.Container{{
		Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: mustParse("1"), v1.ResourceMemory: mustParse("1Gi"), "example.com/gpu": mustParse("1")}},
		Ports:     []v1.ContainerPort{{HostPort: 80}},
	}}}}
	bestEffort := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "b", UID: "b"}, Spec: v1.PodSpec{NodeName: "n", Containers: []v1.Container{{}}}}
	ni := NewNodeInfo()
	ni.SetNode(node)
	ni.AddPod(withReq)
	ni.AddPod(bestEffort)
	if ni.Allocatable.AllowedPodNumber != 10 || ni.Allocatable.MilliCPU != 4000 || ni.Allocatable.ScalarResources["example.com/gpu"] != 2 {
		t.Errorf("allocatable %+v", ni.Allocatable)
	}
	wantReq := Resource{MilliCPU: 1000, Memory: 1 << 30, ScalarResources: map[v1.ResourceName]int64{"example.com/gpu": 1}}
	if diff := cmp.Diff(wantReq, ni.Requested); diff != "" {
		t.Errorf("requested (-want +got):\n%s", diff)
	}
	if ni.NonZeroRequested.MilliCPU != 1100 || ni.NonZeroRequested.Memory != 1<<30+DefaultMemoryRequest {
		t.Errorf("non-zero requested %+v", ni.NonZeroRequested)
	}
	if !ni.UsedPorts.CheckConflict("", "TCP", 80) {
		t.Error("port 80 not in use")
	}
	clone := ni.Clone()
	if err := clone.RemovePod(withReq); err != nil {
		t.Fatal(err)
	}
	if clone.Requested.MilliCPU != 0 || clone.UsedPorts.CheckConflict("", "TCP", 80) || len(clone.Pods) != 1 {
		t.Errorf("after removal: %+v, ports %v", clone.Requested, clone.UsedPorts)
	}
	if ni.Requested.MilliCPU != 1000 || len(ni.Pods) != 2 || !ni.UsedPorts.CheckConflict("", "TCP", 80) {
		t.Error("removing from the clone changed the original")
	}
	if err := clone.RemovePod(withReq); err == nil {
		t.Error("removing a missing pod succeeded")
	}
}

func TestPodSchedulingPropertiesChange(t *testing.T) {
	base := &v1.Pod{Spec: v1.PodSpec{SchedulingGates: []v1.PodSchedulingGate{{Name: "g"}}}}
	ungated := base.DeepCopy()
	ungated.Spec.SchedulingGates = nil
	relabelled := base.DeepCopy()
	relabelled.Labels = map[string]string{"a": "b"}
	tolerating := base.DeepCopy()
	tolerating.Spec.Tolerations = []v1.Toleration{{Key: "k"}}
	tests := []struct {
		name string
		new  *v1.Pod
		want []ClusterEvent
	}{
		{"gates removed", ungated, []ClusterEvent{{Resource: TargetPod, ActionType: UpdatePodSchedulingGatesEliminated}}},
		{"labels changed", relabelled, []ClusterEvent{{Resource: TargetPod, ActionType: UpdatePodLabel}}},
		{"toleration added", tolerating, []ClusterEvent{{Resource: TargetPod, ActionType: UpdatePodToleration}}},
		{"nothing of note", base.DeepCopy(), []ClusterEvent{{Resource: TargetPod, ActionType: updatePodOther}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, PodSchedulingPropertiesChange(tt.new, base, true)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestNodeSchedulingPropertiesChange(t *testing.T) {
	old := &v1.Node{Spec: v1.NodeSpec{Unschedulable: true}}
	n := old.DeepCopy()
	n.Spec.Unschedulable = false
	n.Labels = map[string]string{"zone": "a"}
	n.Status.Allocatable = v1.ResourceList{v1.ResourceCPU: mustParse("1")}
	want := []ClusterEvent{
		{Resource: Node, ActionType: UpdateNodeTaint},
		{Resource: Node, ActionType: UpdateNodeAllocatable},
		{Resource: Node, ActionType: UpdateNodeLabel},
	}
	if diff := cmp.Diff(want, NodeSchedulingPropertiesChange(n, old)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := NodeSchedulingPropertiesChange(old, n); len(got) != 2 {
		t.Errorf("cordoning raised %v; only becoming schedulable counts as a taint change", got)
	}
}

func TestClusterEventMatch(t *testing.T) {
	registered := ClusterEvent{Resource: Node, ActionType: Add | UpdateNodeLabel}
	for _, tt := range []struct {
		in   ClusterEvent
		want bool
	}{
		{ClusterEvent{Resource: Node, ActionType: Add}, true},
		{ClusterEvent{Resource: Node, ActionType: UpdateNodeLabel}, true},
		{ClusterEvent{Resource: Node, ActionType: UpdateNodeTaint}, false},
		{ClusterEvent{Resource: AssignedPod, ActionType: Add}, false},
	} {
		if got := registered.Match(tt.in); got != tt.want {
			t.Errorf("Match(%v) = %v", tt.in, got)
		}
	}
	if !(ClusterEvent{Resource: WildCard, ActionType: All}).Match(ClusterEvent{Resource: AssignedPod, ActionType: Delete}) {
		t.Error("wildcard does not match")
	}
}
