package podtopologyspread

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/ptr"

	"github.com/capstan-dev/capstan/scheduler/framework"
	st "github.com/capstan-dev/capstan/scheduler/schedulertest"
)

var app = map[string]string{"app": "x"}

func zoneNodes() []*v1.Node {
	return []*v1.Node{
		st.MakeNode("a1").Label("zone", "a").Obj(),
		st.MakeNode("a2").Label("zone", "a").Obj(),
		st.MakeNode("b1").Label("zone", "b").Obj(),
	}
}

func onNode(name, node string) *v1.Pod { return st.MakePod(name).Labels(app).Node(node).Obj() }

func TestFilter(t *testing.T) {
	notMatch := framework.NewStatus(framework.Unschedulable, ErrReasonConstraintsNotMatch)
	tests := []struct {
		name          string
		pod           *v1.Pod
		existing      []*v1.Pod
		nodes         []*v1.Node
		wantPreFilter framework.Code
		want          map[string]*framework.Status
	}{
		{name: "no hard constraints skips", pod: st.MakePod("p").Labels(app).Spread(1, "zone", v1.ScheduleAnyway, app).Obj(), wantPreFilter: framework.Skip},
		{
			name:     "crowded zone rejected",
			pod:      st.MakePod("p").Labels(app).Spread(1, "zone", v1.DoNotSchedule, app).Obj(),
			existing: []*v1.Pod{onNode("e1", "a1"), onNode("e2", "a2")},
			want:     map[string]*framework.Status{"a1": notMatch, "a2": notMatch},
		},
		{
			name:     "skew within maxSkew",
			pod:      st.MakePod("p").Labels(app).Spread(2, "zone", v1.DoNotSchedule, app).Obj(),
			existing: []*v1.Pod{onNode("e1", "a1")},
		},
		{
			name:     "a pod outside its own selector adds nothing",
			pod:      st.MakePod("p").Spread(1, "zone", v1.DoNotSchedule, app).Obj(),
			existing: []*v1.Pod{onNode("e1", "a1")},
		},
		{
			name:     "pods of other namespaces and terminating pods do not count",
			pod:      st.MakePod("p").Labels(app).Spread(1, "zone", v1.DoNotSchedule, app).Obj(),
			existing: []*v1.Pod{st.MakePod("e1").Namespace("other").Labels(app).Node("a1").Obj(), terminating(onNode("e2", "a2"))},
		},
		{
			name:     "per host",
			pod:      st.MakePod("p").Labels(app).Spread(1, v1.LabelHostname, v1.DoNotSchedule, app).Obj(),
			existing: []*v1.Pod{onNode("e1", "a1"), onNode("e2", "b1")},
			want:     map[string]*framework.Status{"a1": notMatch, "b1": notMatch},
		},
		{
			name:  "nodes without the key are unresolvable",
			pod:   st.MakePod("p").Labels(app).Spread(1, "zone", v1.DoNotSchedule, app).Obj(),
			nodes: append(zoneNodes(), st.MakeNode("bare").Obj()),
			want:  map[string]*framework.Status{"bare": framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonNodeLabelNotMatch)},
		},
		{
			name:     "minDomains above the domains present counts the minimum as zero",
			pod:      withMinDomains(st.MakePod("p").Labels(app).Spread(1, "zone", v1.DoNotSchedule, app).Obj(), 3),
			existing: []*v1.Pod{onNode("e1", "a1"), onNode("e2", "b1")},
			want:     map[string]*framework.Status{"a1": notMatch, "a2": notMatch, "b1": notMatch},
		},
		{
			name: "nodes excluded by the pod's node affinity are not counted",
			pod: st.MakePod("p").Labels(app).Spread(1, "zone", v1.DoNotSchedule, app).
				NodeSelector(map[string]string{"zone": "a"}).Obj(),
			existing: []*v1.Pod{onNode("e1", "a1"), onNode("e2", "a2")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			ns := tt.nodes
			if ns == nil {
				ns = zoneNodes()
			}
			lister := st.Snapshot(ns, tt.existing...)
			pl := &PodTopologySpread{handle: &st.Handle{Nodes: lister}}
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

func terminating(p *v1.Pod) *v1.Pod {
	now := p.CreationTimestamp
	p.DeletionTimestamp = &now
	return p
}

func withMinDomains(p *v1.Pod, n int32) *v1.Pod {
	p.Spec.TopologySpreadConstraints[0].MinDomains = ptr.To(n)
	return p
}

func TestPreFilterExtensions(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	e1, e2 := onNode("e1", "a1"), onNode("e2", "a2")
	lister := st.Snapshot(zoneNodes(), e1, e2)
	pl := &PodTopologySpread{handle: &st.Handle{Nodes: lister}}
	pod := st.MakePod("p").Labels(app).Spread(1, "zone", v1.DoNotSchedule, app).Obj()
	state := framework.NewCycleState()
	if _, s := pl.PreFilter(ctx, state, pod, lister); !s.IsSuccess() {
		t.Fatal(s)
	}
	clone := state.Clone()
	pi, _ := framework.NewPodInfo(e1)
	if s := pl.RemovePod(ctx, clone, pod, pi, lister[0]); !s.IsSuccess() {
		t.Fatal(s)
	}
	if s := pl.Filter(ctx, clone, pod, lister[0]); s.IsSuccess() {
		// zone a has 1, zone b 0: 1+1-0 = 2 > 1 still.
		t.Errorf("a1 fits with skew 2")
	}
	pi2, _ := framework.NewPodInfo(e2)
	pl.RemovePod(ctx, clone, pod, pi2, lister[1])
	if s := pl.Filter(ctx, clone, pod, lister[0]); !s.IsSuccess() {
		t.Errorf("a1 after removing both pods: %v", s)
	}
	if s := pl.Filter(ctx, state, pod, lister[0]); s.IsSuccess() {
		t.Error("removing from a clone changed the original state")
	}
}

func TestScore(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	nodes := append(zoneNodes(), st.MakeNode("bare").Obj())
	lister := st.Snapshot(nodes, onNode("e1", "a1"), onNode("e2", "a2"))
	pl := &PodTopologySpread{handle: &st.Handle{Nodes: lister}}
	pod := st.MakePod("p").Labels(app).Spread(1, "zone", v1.ScheduleAnyway, app).Obj()
	state := framework.NewCycleState()
	if s := pl.PreScore(ctx, state, pod, lister); !s.IsSuccess() {
		t.Fatal(s)
	}
	var scores framework.NodeScoreList
	for _, ni := range lister {
		sc, s := pl.Score(ctx, state, pod, ni)
		if !s.IsSuccess() {
			t.Fatal(s)
		}
		scores = append(scores, framework.NodeScore{Name: ni.Node().Name, Score: sc})
	}
	pl.NormalizeScore(ctx, state, pod, scores)
	want := framework.NodeScoreList{{Name: "a1", Score: 0}, {Name: "a2", Score: 0}, {Name: "b1", Score: 100}, {Name: "bare", Score: 0}}
	if diff := cmp.Diff(want, scores); diff != "" {
		t.Errorf("scores (-want +got):\n%s", diff)
	}
}

func TestQueueingHints(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	pod := st.MakePod("p").Labels(app).Spread(1, "zone", v1.DoNotSchedule, app).Obj()
	tests := []struct {
		name     string
		fn       framework.QueueingHintFn
		old, new any
		want     framework.QueueingHint
	}{
		{"matching pod deleted", isSchedulableAfterAssignedPodChange, onNode("e", "a1"), nil, framework.Queue},
		{"other pod deleted", isSchedulableAfterAssignedPodChange, st.MakePod("e").Node("a1").Obj(), nil, framework.QueueSkip},
		{"pod of another namespace deleted", isSchedulableAfterAssignedPodChange, st.MakePod("e").Namespace("x").Labels(app).Node("a1").Obj(), nil, framework.QueueSkip},
		{"node with the key added", isSchedulableAfterNodeChange, nil, st.MakeNode("n").Label("zone", "c").Obj(), framework.Queue},
		{"node without the key added", isSchedulableAfterNodeChange, nil, st.MakeNode("n").Obj(), framework.QueueSkip},
		{"node moved zones", isSchedulableAfterNodeChange, st.MakeNode("n").Label("zone", "a").Obj(), st.MakeNode("n").Label("zone", "b").Obj(), framework.Queue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.fn(logger, pod, tt.old, tt.new)
			if err != nil || got != tt.want {
				t.Errorf("hint = %v (%v), want %v", got, err, tt.want)
			}
		})
	}
}
