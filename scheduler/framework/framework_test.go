package framework_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"

	"github.com/capstan-dev/capstan/scheduler/framework"
	st "github.com/capstan-dev/capstan/scheduler/schedulertest"
)

// fakePlugin is configured per test: what PreFilter, Filter and Score return.
type fakePlugin struct {
	name        string
	preFilter   func(pod *v1.Pod) (*framework.PreFilterResult, *framework.Status)
	filter      func(node string) *framework.Status
	score       func(node string) int64
	normalize   bool
	preScoreRes *framework.Status
	events      []framework.ClusterEventWithHint
}

func (p *fakePlugin) Name() string { return p.name }

type preFilterFake struct{ *fakePlugin }

func (p preFilterFake) PreFilter(_ context.Context, _ *framework.CycleState, pod *v1.Pod, _ []*framework.NodeInfo) (*framework.PreFilterResult, *framework.Status) {
	return p.preFilter(pod)
}
func (p preFilterFake) PreFilterExtensions() framework.PreFilterExtensions { return nil }
func (p preFilterFake) Filter(_ context.Context, _ *framework.CycleState, _ *v1.Pod, ni *framework.NodeInfo) *framework.Status {
	return p.filter(ni.Node().Name)
}

type scoreFake struct{ *fakePlugin }

func (p scoreFake) PreScore(context.Context, *framework.CycleState, *v1.Pod, []*framework.NodeInfo) *framework.Status {
	return p.preScoreRes
}
func (p scoreFake) Score(_ context.Context, _ *framework.CycleState, _ *v1.Pod, ni *framework.NodeInfo) (int64, *framework.Status) {
	return p.score(ni.Node().Name), nil
}
func (p scoreFake) ScoreExtensions() framework.ScoreExtensions {
	if p.normalize {
		return p
	}
	return nil
}
func (p scoreFake) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *v1.Pod, scores framework.NodeScoreList) *framework.Status {
	framework.DefaultNormalizeScore(framework.MaxNodeScore, false, scores)
	return nil
}

type eventsFake struct{ preFilterFake }

func (p eventsFake) EventsToRegister(context.Context) ([]framework.ClusterEventWithHint, error) {
	return p.events, nil
}

func newFramework(t *testing.T, lister framework.NodeInfoLister, plugins []framework.Plugin, weights map[string]int64) *framework.Framework {
	t.Helper()
	registry := framework.Registry{}
	profile := framework.Profile{SchedulerName: "test"}
	for _, p := range plugins {
		registry[p.Name()] = func(context.Context, framework.Handle) (framework.Plugin, error) { return p, nil }
		profile.Plugins = append(profile.Plugins, framework.PluginConfig{Name: p.Name(), Weight: weights[p.Name()]})
	}
	fw, err := framework.New(context.Background(), registry, profile, lister, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fw
}

func threeNodes() st.Lister {
	return st.Snapshot([]*v1.Node{st.MakeNode("n1").Obj(), st.MakeNode("n2").Obj(), st.MakeNode("n3").Obj()})
}

func TestNewRejectsBadProfiles(t *testing.T) {
	score := scoreFake{&fakePlugin{name: "S"}}
	registry := framework.Registry{"S": func(context.Context, framework.Handle) (framework.Plugin, error) { return score, nil }}
	for name, profile := range map[string]framework.Profile{
		"unknown plugin":       {Plugins: []framework.PluginConfig{{Name: "X"}}},
		"score without weight": {Plugins: []framework.PluginConfig{{Name: "S"}}},
		"plugin enabled twice": {Plugins: []framework.PluginConfig{{Name: "S", Weight: 1}, {Name: "S", Weight: 1}}},
	} {
		if _, err := framework.New(context.Background(), registry, profile, threeNodes(), nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRunPreFilterPlugins(t *testing.T) {
	result := func(names ...string) func(*v1.Pod) (*framework.PreFilterResult, *framework.Status) {
		return func(*v1.Pod) (*framework.PreFilterResult, *framework.Status) {
			return &framework.PreFilterResult{NodeNames: sets.New(names...)}, nil
		}
	}
	status := func(s *framework.Status) func(*v1.Pod) (*framework.PreFilterResult, *framework.Status) {
		return func(*v1.Pod) (*framework.PreFilterResult, *framework.Status) { return nil, s }
	}
	tests := []struct {
		name        string
		a, b        func(*v1.Pod) (*framework.PreFilterResult, *framework.Status)
		wantNodes   sets.Set[string]
		wantCode    framework.Code
		wantMessage string
		wantPlugin  string
	}{
		{name: "all nodes", a: status(nil), b: status(nil), wantCode: framework.Success},
		{name: "results intersect", a: result("n1", "n2"), b: result("n2", "n3"), wantNodes: sets.New("n2"), wantCode: framework.Success},
		{name: "disjoint results reject", a: result("n1"), b: result("n2"), wantNodes: sets.New[string](), wantCode: framework.UnschedulableAndUnresolvable,
			wantMessage: "node(s) didn't satisfy plugin(s) [A B] simultaneously"},
		{name: "unresolvable stops", a: status(framework.NewStatus(framework.UnschedulableAndUnresolvable, "no")), b: result("n1"),
			wantCode: framework.UnschedulableAndUnresolvable, wantMessage: "no", wantPlugin: "A"},
		{name: "unschedulable lets the rest run", a: status(framework.NewStatus(framework.Unschedulable, "later")), b: result("n1"),
			wantNodes: sets.New("n1"), wantCode: framework.Unschedulable, wantMessage: "later", wantPlugin: "A"},
		{name: "an error is an error", a: status(framework.AsStatus(errors.New("boom"))), b: status(nil),
			wantCode: framework.Error, wantMessage: `running PreFilter plugin "A": boom`, wantPlugin: "A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := preFilterFake{&fakePlugin{name: "A", preFilter: tt.a}}
			b := preFilterFake{&fakePlugin{name: "B", preFilter: tt.b}}
			fw := newFramework(t, threeNodes(), []framework.Plugin{a, b}, nil)
			res, s, _ := fw.RunPreFilterPlugins(context.Background(), framework.NewCycleState(), st.MakePod("p").Obj())
			var nodes sets.Set[string]
			if res != nil {
				nodes = res.NodeNames
			}
			if diff := cmp.Diff(tt.wantNodes, nodes); diff != "" {
				t.Errorf("nodes (-want +got):\n%s", diff)
			}
			if s.Code() != tt.wantCode || s.Message() != tt.wantMessage || s.Plugin() != tt.wantPlugin {
				t.Errorf("status %v (plugin %q), want %v %q (plugin %q)", s, s.Plugin(), tt.wantCode, tt.wantMessage, tt.wantPlugin)
			}
		})
	}
}

func TestRunFilterPluginsSkipsAndNamesThePlugin(t *testing.T) {
	skipped := preFilterFake{&fakePlugin{name: "Skipped",
		preFilter: func(*v1.Pod) (*framework.PreFilterResult, *framework.Status) {
			return nil, framework.NewStatus(framework.Skip)
		},
		filter: func(string) *framework.Status { return framework.NewStatus(framework.Unschedulable, "must not run") }}}
	rejecting := preFilterFake{&fakePlugin{name: "Rejecting",
		preFilter: func(*v1.Pod) (*framework.PreFilterResult, *framework.Status) { return nil, nil },
		filter: func(node string) *framework.Status {
			if node == "n2" {
				return framework.NewStatus(framework.UnschedulableAndUnresolvable, "not n2")
			}
			return nil
		}}}
	lister := threeNodes()
	fw := newFramework(t, lister, []framework.Plugin{skipped, rejecting}, nil)
	state := framework.NewCycleState()
	pod := st.MakePod("p").Obj()
	if _, s, _ := fw.RunPreFilterPlugins(context.Background(), state, pod); !s.IsSuccess() {
		t.Fatal(s)
	}
	for _, ni := range lister {
		s := fw.RunFilterPlugins(context.Background(), state, pod, ni)
		if ni.Node().Name == "n2" {
			if s.Code() != framework.UnschedulableAndUnresolvable || s.Plugin() != "Rejecting" {
				t.Errorf("n2: %v from %q", s, s.Plugin())
			}
		} else if !s.IsSuccess() {
			t.Errorf("%s: %v", ni.Node().Name, s)
		}
	}
}

func TestRunScorePlugins(t *testing.T) {
	// Raw scores normalised to 0-100 by one plugin and taken as they are by
	// the other, then weighted and summed.
	byNode := func(m map[string]int64) func(string) int64 { return func(n string) int64 { return m[n] } }
	a := scoreFake{&fakePlugin{name: "A", score: byNode(map[string]int64{"n1": 1, "n2": 2, "n3": 4}), normalize: true}}
	b := scoreFake{&fakePlugin{name: "B", score: byNode(map[string]int64{"n1": 100, "n2": 50, "n3": 0})}}
	skipped := scoreFake{&fakePlugin{name: "C", score: byNode(nil), preScoreRes: framework.NewStatus(framework.Skip)}}
	lister := threeNodes()
	fw := newFramework(t, lister, []framework.Plugin{a, b, skipped}, map[string]int64{"A": 2, "B": 1, "C": 5})
	state := framework.NewCycleState()
	pod := st.MakePod("p").Obj()
	if s := fw.RunPreScorePlugins(context.Background(), state, pod, lister); !s.IsSuccess() {
		t.Fatal(s)
	}
	got, s := fw.RunScorePlugins(context.Background(), state, pod, lister)
	if !s.IsSuccess() {
		t.Fatal(s)
	}
	want := []framework.NodePluginScores{
		{Name: "n1", Scores: []framework.PluginScore{{Name: "A", Score: 50}, {Name: "B", Score: 100}}, TotalScore: 150},
		{Name: "n2", Scores: []framework.PluginScore{{Name: "A", Score: 100}, {Name: "B", Score: 50}}, TotalScore: 150},
		{Name: "n3", Scores: []framework.PluginScore{{Name: "A", Score: 200}, {Name: "B", Score: 0}}, TotalScore: 200},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scores (-want +got):\n%s", diff)
	}
	if host, err := framework.SelectHost(got); err != nil || host != "n3" {
		t.Errorf("SelectHost = %q, %v; want n3", host, err)
	}
}

func TestRunScorePluginsRejectsOutOfRangeScores(t *testing.T) {
	a := scoreFake{&fakePlugin{name: "A", score: func(string) int64 { return 101 }}}
	lister := threeNodes()
	fw := newFramework(t, lister, []framework.Plugin{a}, map[string]int64{"A": 1})
	if _, s := fw.RunScorePlugins(context.Background(), framework.NewCycleState(), st.MakePod("p").Obj(), lister); s.Code() != framework.Error {
		t.Errorf("status %v, want Error", s)
	}
}

func TestSelectHostBreaksTiesAtRandom(t *testing.T) {
	scores := []framework.NodePluginScores{{Name: "a", TotalScore: 5}, {Name: "b", TotalScore: 5}, {Name: "c", TotalScore: 1}}
	seen := sets.New[string]()
	for range 200 {
		h, _ := framework.SelectHost(scores)
		seen.Insert(h)
	}
	if !seen.Equal(sets.New("a", "b")) {
		t.Errorf("picked %v, want a and b", sets.List(seen))
	}
}

func TestQueueingHints(t *testing.T) {
	nodeAdd := framework.ClusterEvent{Resource: framework.Node, ActionType: framework.Add}
	hint := func(klog.Logger, *v1.Pod, any, any) (framework.QueueingHint, error) { return framework.QueueSkip, nil }
	withEvents := eventsFake{preFilterFake{&fakePlugin{name: "WithEvents"}}}
	withEvents.events = []framework.ClusterEventWithHint{{Event: nodeAdd, QueueingHintFn: hint}}
	withoutEvents := preFilterFake{&fakePlugin{name: "WithoutEvents"}}
	scoreOnly := scoreFake{&fakePlugin{name: "ScoreOnly"}}
	fw := newFramework(t, threeNodes(), []framework.Plugin{withEvents, withoutEvents, scoreOnly}, map[string]int64{"ScoreOnly": 1})
	m, err := fw.QueueingHints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for e, fns := range m {
		for _, fn := range fns {
			got[e.String()] = append(got[e.String()], fn.PluginName)
		}
	}
	want := map[string][]string{"Node/Add": {"WithEvents"}, "*/All": {"WithoutEvents"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hints (-want +got):\n%s", diff)
	}
	logger, _ := ktesting.NewTestContext(t)
	if h, _ := m[nodeAdd][0].QueueingHintFn(logger, nil, nil, nil); h != framework.QueueSkip {
		t.Error("the plugin's own hint function was not kept")
	}
}
