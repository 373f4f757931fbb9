package interpodaffinity

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2/ktesting"

	"github.com/capstan-dev/capstan/scheduler/framework"
	st "github.com/capstan-dev/capstan/scheduler/schedulertest"
)

var (
	web = map[string]string{"app": "web"}
	db  = map[string]string{"app": "db"}
)

func nodes() []*v1.Node {
	return []*v1.Node{
		st.MakeNode("a1").Label("zone", "a").Obj(),
		st.MakeNode("a2").Label("zone", "a").Obj(),
		st.MakeNode("b1").Label("zone", "b").Obj(),
	}
}

func TestFilter(t *testing.T) {
	tests := []struct {
		name          string
		pod           *v1.Pod
		existing      []*v1.Pod
		nodes         []*v1.Node
		wantPreFilter framework.Code
		want          map[string]*framework.Status
	}{
		{
			name:          "no terms and no anti-affinity around skips",
			pod:           st.MakePod("p").Labels(web).Obj(),
			existing:      []*v1.Pod{st.MakePod("e").Labels(web).Node("a1").Obj()},
			wantPreFilter: framework.Skip,
		},
		{
			name:     "anti-affinity per host",
			pod:      st.MakePod("p").Labels(web).PodAntiAffinity(v1.LabelHostname, web).Obj(),
			existing: []*v1.Pod{st.MakePod("e").Labels(web).Node("a1").Obj()},
			want:     map[string]*framework.Status{"a1": framework.NewStatus(framework.Unschedulable, ErrReasonAntiAffinityRulesNotMatch)},
		},
		{
			name:     "anti-affinity per zone",
			pod:      st.MakePod("p").PodAntiAffinity("zone", web).Obj(),
			existing: []*v1.Pod{st.MakePod("e").Labels(web).Node("a1").Obj()},
			want: map[string]*framework.Status{
				"a1": framework.NewStatus(framework.Unschedulable, ErrReasonAntiAffinityRulesNotMatch),
				"a2": framework.NewStatus(framework.Unschedulable, ErrReasonAntiAffinityRulesNotMatch),
			},
		},
		{
			name:     "anti-affinity ignores pods of other namespaces",
			pod:      st.MakePod("p").PodAntiAffinity(v1.LabelHostname, web).Obj(),
			existing: []*v1.Pod{st.MakePod("e").Namespace("other").Labels(web).Node("a1").Obj()},
		},
		{
			name:     "existing pod's anti-affinity keeps the pod away",
			pod:      st.MakePod("p").Labels(web).Obj(),
			existing: []*v1.Pod{st.MakePod("e").PodAntiAffinity("zone", web).Node("b1").Obj()},
			want:     map[string]*framework.Status{"b1": framework.NewStatus(framework.Unschedulable, ErrReasonExistingAntiAffinityRulesNotMatch)},
		},
		{
			name:     "affinity to pods on a host",
			pod:      st.MakePod("p").PodAffinity(v1.LabelHostname, db).Obj(),
			existing: []*v1.Pod{st.MakePod("e").Labels(db).Node("a2").Obj()},
			want: map[string]*framework.Status{
				"a1": framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch),
				"b1": framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch),
			},
		},
		{
			name:     "affinity to pods in a zone",
			pod:      st.MakePod("p").PodAffinity("zone", db).Obj(),
			existing: []*v1.Pod{st.MakePod("e").Labels(db).Node("a2").Obj()},
			want:     map[string]*framework.Status{"b1": framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch)},
		},
		{
			name: "the first pod of a group matching its own affinity goes anywhere",
			pod:  st.MakePod("p").Labels(db).PodAffinity("zone", db).Obj(),
		},
		{
			name: "affinity to pods that do not exist",
			pod:  st.MakePod("p").PodAffinity("zone", db).Obj(),
			want: map[string]*framework.Status{
				"a1": framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch),
				"a2": framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch),
				"b1": framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch),
			},
		},
		{
			name:  "nodes without the topology key do not satisfy affinity",
			pod:   st.MakePod("p").Labels(db).PodAffinity("rack", db).Obj(),
			nodes: []*v1.Node{st.MakeNode("a1").Label("rack", "1").Obj(), st.MakeNode("a2").Obj()},
			want:  map[string]*framework.Status{"a2": framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			ns := tt.nodes
			if ns == nil {
				ns = nodes()
			}
			lister := st.Snapshot(ns, tt.existing...)
			pl := NewWithNamespaces(&st.Handle{Nodes: lister}, nil)
			state := framework.NewCycleState()
			_, s := pl.PreFilter(ctx, state, tt.pod, lister)
			if s.Code() != tt.wantPreFilter {
				t.Fatalf("PreFilter = %v, want %v", s, tt.wantPreFilter)
			}
			if s.IsSkip() {
				return
			}
			got := map[string]*framework.Status{}
			for _, ni := range lister {
				if s := pl.Filter(ctx, state, tt.pod, ni); !s.IsSuccess() {
					got[ni.Node().Name] = s
				}
			}
			if tt.want == nil {
				tt.want = map[string]*framework.Status{}
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b *framework.Status) bool { return a.String() == b.String() })); diff != "" {
				t.Errorf("rejections (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPreFilterExtensions checks that removing a pod (as preemption
// simulates) lifts the anti-affinity it caused.
func TestPreFilterExtensions(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	existing := st.MakePod("e").Labels(web).Node("a1").Obj()
	lister := st.Snapshot(nodes(), existing)
	pl := NewWithNamespaces(&st.Handle{Nodes: lister}, nil)
	pod := st.MakePod("p").PodAntiAffinity(v1.LabelHostname, web).Obj()
	state := framework.NewCycleState()
	if _, s := pl.PreFilter(ctx, state, pod, lister); !s.IsSuccess() {
		t.Fatal(s)
	}
	a1 := lister[0]
	if s := pl.Filter(ctx, state, pod, a1); s.IsSuccess() {
		t.Fatal("a1 fits despite anti-affinity")
	}
	clone := state.Clone()
	pi, _ := framework.NewPodInfo(existing)
	if s := pl.RemovePod(ctx, clone, pod, pi, a1); !s.IsSuccess() {
		t.Fatal(s)
	}
	if s := pl.Filter(ctx, clone, pod, a1); !s.IsSuccess() {
		t.Errorf("a1 after removing the web pod: %v", s)
	}
	if s := pl.Filter(ctx, state, pod, a1); s.IsSuccess() {
		t.Error("removing from a clone changed the original state")
	}
	if s := pl.AddPod(ctx, clone, pod, pi, a1); !s.IsSuccess() {
		t.Fatal(s)
	}
	if s := pl.Filter(ctx, clone, pod, a1); s.IsSuccess() {
		t.Error("a1 fits after adding the web pod back")
	}
}

func TestScore(t *testing.T) {
	tests := []struct {
		name     string
		pod      *v1.Pod
		existing []*v1.Pod
		want     map[string]int64
		wantSkip bool
	}{
		{
			name:     "preferred affinity to a zone",
			pod:      st.MakePod("p").PreferredPodAffinity(false, 10, "zone", web).Obj(),
			existing: []*v1.Pod{st.MakePod("e").Labels(web).Node("a1").Obj()},
			want:     map[string]int64{"a1": 100, "a2": 100, "b1": 0},
		},
		{
			name:     "preferred anti-affinity to a host",
			pod:      st.MakePod("p").PreferredPodAffinity(true, 10, v1.LabelHostname, web).Obj(),
			existing: []*v1.Pod{st.MakePod("e").Labels(web).Node("a1").Obj()},
			want:     map[string]int64{"a1": 0, "a2": 100, "b1": 100},
		},
		{
			name:     "existing pods' preferences count too",
			pod:      st.MakePod("p").Labels(db).Obj(),
			existing: []*v1.Pod{st.MakePod("e").PreferredPodAffinity(false, 5, "zone", db).Node("b1").Obj()},
			want:     map[string]int64{"a1": 0, "a2": 0, "b1": 100},
		},
		{
			name:     "existing pods' required affinity counts with weight 1",
			pod:      st.MakePod("p").Labels(db).Obj(),
			existing: []*v1.Pod{st.MakePod("e").PodAffinity("zone", db).Node("a1").Obj()},
			want:     map[string]int64{"a1": 100, "a2": 100, "b1": 0},
		},
		{
			name:     "no preferences anywhere",
			pod:      st.MakePod("p").Obj(),
			existing: []*v1.Pod{st.MakePod("e").Labels(web).Node("a1").Obj()},
			wantSkip: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			lister := st.Snapshot(nodes(), tt.existing...)
			pl := NewWithNamespaces(&st.Handle{Nodes: lister}, nil)
			state := framework.NewCycleState()
			s := pl.PreScore(ctx, state, tt.pod, lister)
			if s.IsSkip() != tt.wantSkip {
				t.Fatalf("PreScore = %v, want skip %v", s, tt.wantSkip)
			}
			if tt.wantSkip {
				return
			}
			var scores framework.NodeScoreList
			for _, ni := range lister {
				sc, s := pl.Score(ctx, state, tt.pod, ni)
				if !s.IsSuccess() {
					t.Fatal(s)
				}
				scores = append(scores, framework.NodeScore{Name: ni.Node().Name, Score: sc})
			}
			pl.NormalizeScore(ctx, state, tt.pod, scores)
			got := map[string]int64{}
			for _, sc := range scores {
				got[sc.Name] = sc.Score
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("scores (-want +got):\n%s", diff)
			}
		})
	}
}

func TestQueueingHints(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	affine := st.MakePod("p").PodAffinity("zone", db).Obj()
	anti := st.MakePod("p").PodAntiAffinity(v1.LabelHostname, web).Obj()
	tests := []struct {
		name     string
		fn       framework.QueueingHintFn
		pod      *v1.Pod
		old, new any
		want     framework.QueueingHint
	}{
		{"matching pod added", isSchedulableAfterAssignedPodChange, affine, nil, st.MakePod("e").Labels(db).Node("n").Obj(), framework.Queue},
		{"other pod added", isSchedulableAfterAssignedPodChange, affine, nil, st.MakePod("e").Labels(web).Node("n").Obj(), framework.QueueSkip},
		{"conflicting pod deleted", isSchedulableAfterAssignedPodChange, anti, st.MakePod("e").Labels(web).Node("n").Obj(), nil, framework.Queue},
		{"unrelated pod deleted", isSchedulableAfterAssignedPodChange, anti, st.MakePod("e").Labels(db).Node("n").Obj(), nil, framework.QueueSkip},
		{"pod relabelled away from anti-affinity", isSchedulableAfterAssignedPodChange, anti,
			st.MakePod("e").Labels(web).Node("n").Obj(), st.MakePod("e").Labels(db).Node("n").Obj(), framework.Queue},
		{"node with the zone key added", isSchedulableAfterNodeChange, affine, nil, st.MakeNode("n").Label("zone", "a").Obj(), framework.Queue},
		{"node without the zone key added", isSchedulableAfterNodeChange, affine, nil, st.MakeNode("n").Obj(), framework.QueueSkip},
		{"any node added helps anti-affinity", isSchedulableAfterNodeChange, anti, nil, st.MakeNode("n").Obj(), framework.Queue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.fn(logger, tt.pod, tt.old, tt.new)
			if err != nil || got != tt.want {
				t.Errorf("hint = %v (%v), want %v", got, err, tt.want)
			}
		})
	}
}
