package nodeaffinity

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2/ktesting"

	"github.com/capstan-dev/capstan/scheduler/framework"
	st "github.com/capstan-dev/capstan/scheduler/schedulertest"
)

func required(terms ...v1.NodeSelectorTerm) *v1.Affinity {
	return &v1.Affinity{NodeAffinity: &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{NodeSelectorTerms: terms}}}
}

func expr(key string, op v1.NodeSelectorOperator, values ...string) v1.NodeSelectorTerm {
	return v1.NodeSelectorTerm{MatchExpressions: []v1.NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

// byName selects one node by name (matchFields In takes exactly one value).
func byName(name string) v1.NodeSelectorTerm {
	return v1.NodeSelectorTerm{MatchFields: []v1.NodeSelectorRequirement{{Key: metav1.ObjectNameField, Operator: v1.NodeSelectorOpIn, Values: []string{name}}}}
}

func TestFilter(t *testing.T) {
	node := st.MakeNode("n1").Label("zone", "a").Label("disk", "ssd").Obj()
	tests := []struct {
		name          string
		pod           *v1.Pod
		wantPreFilter framework.Code
		wantNodes     sets.Set[string]
		want          framework.Code
	}{
		{name: "no constraints skips", pod: st.MakePod("p").Obj(), wantPreFilter: framework.Skip},
		{name: "matching node selector", pod: st.MakePod("p").NodeSelector(map[string]string{"zone": "a"}).Obj(), want: framework.Success},
		{name: "node selector with a missing label", pod: st.MakePod("p").NodeSelector(map[string]string{"zone": "a", "gpu": "yes"}).Obj(),
			want: framework.UnschedulableAndUnresolvable},
		{name: "required In", pod: st.MakePod("p").Affinity(required(expr("zone", v1.NodeSelectorOpIn, "a", "b"))).Obj(), want: framework.Success},
		{name: "required NotIn", pod: st.MakePod("p").Affinity(required(expr("zone", v1.NodeSelectorOpNotIn, "a"))).Obj(), want: framework.UnschedulableAndUnresolvable},
		{name: "required DoesNotExist", pod: st.MakePod("p").Affinity(required(expr("gpu", v1.NodeSelectorOpDoesNotExist))).Obj(), want: framework.Success},
		{name: "terms are ORed", pod: st.MakePod("p").Affinity(required(expr("zone", v1.NodeSelectorOpIn, "b"), expr("disk", v1.NodeSelectorOpExists))).Obj(),
			want: framework.Success},
		{name: "node selector and affinity both apply", pod: st.MakePod("p").NodeSelector(map[string]string{"zone": "b"}).
			Affinity(required(expr("disk", v1.NodeSelectorOpExists))).Obj(), want: framework.UnschedulableAndUnresolvable},
		{name: "matchFields by name narrows the nodes", pod: st.MakePod("p").Affinity(required(byName("n1"), byName("n2"))).Obj(),
			wantNodes: sets.New("n1", "n2"), want: framework.Success},
		{name: "matchFields of another node", pod: st.MakePod("p").Affinity(required(byName("n2"))).Obj(),
			wantNodes: sets.New("n2"), want: framework.UnschedulableAndUnresolvable},
		{name: "empty required terms match nothing", pod: st.MakePod("p").Affinity(required()).Obj(), want: framework.UnschedulableAndUnresolvable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl := &NodeAffinity{}
			state := framework.NewCycleState()
			res, s := pl.PreFilter(context.Background(), state, tt.pod, nil)
			if s.Code() != tt.wantPreFilter {
				t.Fatalf("PreFilter = %v, want %v", s, tt.wantPreFilter)
			}
			if s.IsSkip() {
				return
			}
			var nodes sets.Set[string]
			if res != nil {
				nodes = res.NodeNames
			}
			if diff := cmp.Diff(tt.wantNodes, nodes); diff != "" {
				t.Errorf("PreFilter nodes (-want +got):\n%s", diff)
			}
			s = pl.Filter(context.Background(), state, tt.pod, st.NodeInfo(node))
			if s.Code() != tt.want {
				t.Errorf("Filter = %v, want %v", s, tt.want)
			}
			if s.IsRejected() && s.Message() != ErrReasonPod {
				t.Errorf("reason %q", s.Message())
			}
		})
	}
}

func TestScore(t *testing.T) {
	pod := st.MakePod("p").Affinity(&v1.Affinity{NodeAffinity: &v1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []v1.PreferredSchedulingTerm{
		{Weight: 2, Preference: expr("zone", v1.NodeSelectorOpIn, "a")},
		{Weight: 8, Preference: expr("disk", v1.NodeSelectorOpIn, "ssd")},
	}}}).Obj()
	nodes := []*v1.Node{
		st.MakeNode("both").Label("zone", "a").Label("disk", "ssd").Obj(),
		st.MakeNode("ssd").Label("disk", "ssd").Obj(),
		st.MakeNode("zone").Label("zone", "a").Obj(),
		st.MakeNode("none").Obj(),
	}
	pl := &NodeAffinity{}
	state := framework.NewCycleState()
	if s := pl.PreScore(context.Background(), state, pod, nil); !s.IsSuccess() {
		t.Fatal(s)
	}
	var scores framework.NodeScoreList
	for _, n := range nodes {
		sc, s := pl.Score(context.Background(), state, pod, st.NodeInfo(n))
		if !s.IsSuccess() {
			t.Fatal(s)
		}
		scores = append(scores, framework.NodeScore{Name: n.Name, Score: sc})
	}
	pl.NormalizeScore(context.Background(), state, pod, scores)
	want := framework.NodeScoreList{{Name: "both", Score: 100}, {Name: "ssd", Score: 80}, {Name: "zone", Score: 20}, {Name: "none", Score: 0}}
	if diff := cmp.Diff(want, scores); diff != "" {
		t.Errorf("scores (-want +got):\n%s", diff)
	}

	if s := pl.PreScore(context.Background(), framework.NewCycleState(), st.MakePod("q").Obj(), nil); !s.IsSkip() {
		t.Errorf("PreScore without preferences = %v, want Skip", s)
	}
}

func TestQueueingHint(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	pod := st.MakePod("p").NodeSelector(map[string]string{"zone": "a"}).Obj()
	a, b := st.MakeNode("n").Label("zone", "a").Obj(), st.MakeNode("n").Label("zone", "b").Obj()
	tests := []struct {
		name     string
		old, new *v1.Node
		want     framework.QueueingHint
	}{
		{"matching node added", nil, a, framework.Queue},
		{"other node added", nil, b, framework.QueueSkip},
		{"node relabelled to match", b, a, framework.Queue},
		{"node already matched", a, a, framework.QueueSkip},
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
