package framework

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// PluginConfig enables a plugin in a profile. Weight multiplies its
// normalised score; it must be positive for Score plugins.
type PluginConfig struct {
	Name   string
	Weight int64
}

// Profile is a scheduler profile: the scheduler name pods ask for and the
// plugins that decide where they go, in the order they run at each
// extension point.
type Profile struct {
	SchedulerName string
	Plugins       []PluginConfig
	// PercentageOfNodesToScore bounds how many feasible nodes are looked for
	// before scoring; 0 adapts to the cluster size as upstream does.
	PercentageOfNodesToScore int32
}

// DefaultParallelism is how many nodes are filtered or scored at once.
const DefaultParallelism = 16

// Framework runs the plugins of one profile.
type Framework struct {
	profile     Profile
	snapshot    NodeInfoLister
	informers   informers.SharedInformerFactory
	parallelism int

	plugins      []Plugin
	preEnqueue   []PreEnqueuePlugin
	preFilter    []PreFilterPlugin
	filter       []FilterPlugin
	postFilter   []PostFilterPlugin
	preScore     []PreScorePlugin
	score        []ScorePlugin
	scoreWeights map[string]int64
}

var _ Handle = &Framework{}

// New builds the plugins of profile from registry. snapshot is the node
// snapshot the scheduler refreshes before each cycle.
func New(ctx context.Context, registry Registry, profile Profile, snapshot NodeInfoLister, factory informers.SharedInformerFactory) (*Framework, error) {
	f := &Framework{
		profile:      profile,
		snapshot:     snapshot,
		informers:    factory,
		parallelism:  DefaultParallelism,
		scoreWeights: map[string]int64{},
	}
	seen := sets.New[string]()
	for _, pc := range profile.Plugins {
		if seen.Has(pc.Name) {
			return nil, fmt.Errorf("profile %q: plugin %q enabled twice", profile.SchedulerName, pc.Name)
		}
		seen.Insert(pc.Name)
		factory, ok := registry[pc.Name]
		if !ok {
			return nil, fmt.Errorf("profile %q: no plugin %q", profile.SchedulerName, pc.Name)
		}
		p, err := factory(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("profile %q: building plugin %q: %w", profile.SchedulerName, pc.Name, err)
		}
		f.plugins = append(f.plugins, p)
		if pl, ok := p.(PreEnqueuePlugin); ok {
			f.preEnqueue = append(f.preEnqueue, pl)
		}
		if pl, ok := p.(PreFilterPlugin); ok {
			f.preFilter = append(f.preFilter, pl)
		}
		if pl, ok := p.(FilterPlugin); ok {
			f.filter = append(f.filter, pl)
		}
		if pl, ok := p.(PostFilterPlugin); ok {
			f.postFilter = append(f.postFilter, pl)
		}
		if pl, ok := p.(PreScorePlugin); ok {
			f.preScore = append(f.preScore, pl)
		}
		if pl, ok := p.(ScorePlugin); ok {
			if pc.Weight <= 0 {
				return nil, fmt.Errorf("profile %q: score plugin %q needs a positive weight", profile.SchedulerName, pc.Name)
			}
			f.score = append(f.score, pl)
			f.scoreWeights[pc.Name] = pc.Weight
		}
	}
	return f, nil
}

// ProfileName is the scheduler name the profile serves.
func (f *Framework) ProfileName() string { return f.profile.SchedulerName }

// PercentageOfNodesToScore is the profile's setting (0: adaptive).
func (f *Framework) PercentageOfNodesToScore() int32 { return f.profile.PercentageOfNodesToScore }

// SnapshotSharedLister implements Handle.
func (f *Framework) SnapshotSharedLister() NodeInfoLister { return f.snapshot }

// SharedInformerFactory implements Handle.
func (f *Framework) SharedInformerFactory() informers.SharedInformerFactory { return f.informers }

// HasFilterPlugins reports whether any Filter is enabled.
func (f *Framework) HasFilterPlugins() bool { return len(f.filter) > 0 }

// HasScorePlugins reports whether any Score is enabled.
func (f *Framework) HasScorePlugins() bool { return len(f.score) > 0 }

// HasPostFilterPlugins reports whether any PostFilter is enabled.
func (f *Framework) HasPostFilterPlugins() bool { return len(f.postFilter) > 0 }

// Parallelize runs fn for every index in [0, n) on up to the framework's parallelism.
func (f *Framework) Parallelize(ctx context.Context, n int, fn func(i int)) {
	workqueue.ParallelizeUntil(ctx, f.parallelism, n, fn)
}

// RunPreEnqueuePlugins returns the first rejection, naming its plugin.
func (f *Framework) RunPreEnqueuePlugins(ctx context.Context, pod *v1.Pod) *Status {
	for _, pl := range f.preEnqueue {
		if s := pl.PreEnqueue(ctx, pod); !s.IsSuccess() {
			return s.WithPlugin(pl.Name())
		}
	}
	return nil
}

// RunPreFilterPlugins runs every PreFilter. It stops at the first
// UnschedulableAndUnresolvable or error; an Unschedulable is returned after
// the rest have run (preemption needs their state). It also returns the
// plugins whose results narrowed the nodes.
func (f *Framework) RunPreFilterPlugins(ctx context.Context, state *CycleState, pod *v1.Pod) (*PreFilterResult, *Status, sets.Set[string]) {
	nodes := f.snapshot.List()
	skip := sets.New[string]()
	defer func() { state.skipFilter = skip }()
	var result *PreFilterResult
	narrowing := sets.New[string]()
	var rejected *Status
	for _, pl := range f.preFilter {
		r, s := pl.PreFilter(ctx, state, pod, nodes)
		if s.IsSkip() {
			skip.Insert(pl.Name())
			continue
		}
		if !s.IsSuccess() {
			s.WithPlugin(pl.Name())
			switch s.Code() {
			case UnschedulableAndUnresolvable:
				return nil, s, nil
			case Unschedulable:
				rejected = s
				continue
			}
			return nil, AsStatus(fmt.Errorf("running PreFilter plugin %q: %w", pl.Name(), s.AsError())).WithPlugin(pl.Name()), nil
		}
		if !r.AllNodes() {
			narrowing.Insert(pl.Name())
		}
		result = result.Merge(r)
		if !result.AllNodes() && len(result.NodeNames) == 0 {
			msg := fmt.Sprintf("node(s) didn't satisfy plugin(s) %v simultaneously", sets.List(narrowing))
			if narrowing.Len() == 1 {
				msg = fmt.Sprintf("node(s) didn't satisfy plugin %v", sets.List(narrowing)[0])
			}
			return result, NewStatus(UnschedulableAndUnresolvable, msg), narrowing
		}
	}
	return result, rejected, narrowing
}

// RunFilterPlugins runs the Filters (but those whose PreFilter skipped) on
// one node and returns the first rejection, naming its plugin.
func (f *Framework) RunFilterPlugins(ctx context.Context, state *CycleState, pod *v1.Pod, nodeInfo *NodeInfo) *Status {
	for _, pl := range f.filter {
		if state.skipFilter.Has(pl.Name()) {
			continue
		}
		if s := pl.Filter(ctx, state, pod, nodeInfo); !s.IsSuccess() {
			if !s.IsRejected() {
				s = AsStatus(fmt.Errorf("running %q filter plugin: %w", pl.Name(), s.AsError()))
			}
			return s.WithPlugin(pl.Name())
		}
	}
	return nil
}

// RunPreFilterExtensionAddPod implements Handle's counterpart for adding pods.
func (f *Framework) RunPreFilterExtensionAddPod(ctx context.Context, state *CycleState, podToSchedule *v1.Pod, podInfoToAdd *PodInfo, nodeInfo *NodeInfo) *Status {
	return f.runPreFilterExtensions(state, func(e PreFilterExtensions) *Status {
		return e.AddPod(ctx, state, podToSchedule, podInfoToAdd, nodeInfo)
	})
}

// RunPreFilterExtensionRemovePod implements Handle.
func (f *Framework) RunPreFilterExtensionRemovePod(ctx context.Context, state *CycleState, podToSchedule *v1.Pod, podInfoToRemove *PodInfo, nodeInfo *NodeInfo) *Status {
	return f.runPreFilterExtensions(state, func(e PreFilterExtensions) *Status {
		return e.RemovePod(ctx, state, podToSchedule, podInfoToRemove, nodeInfo)
	})
}

func (f *Framework) runPreFilterExtensions(state *CycleState, call func(PreFilterExtensions) *Status) *Status {
	for _, pl := range f.preFilter {
		e := pl.PreFilterExtensions()
		if e == nil || state.skipFilter.Has(pl.Name()) {
			continue
		}
		if s := call(e); !s.IsSuccess() {
			return AsStatus(fmt.Errorf("running PreFilterExtensions of %q: %w", pl.Name(), s.AsError())).WithPlugin(pl.Name())
		}
	}
	return nil
}

// RunPostFilterPlugins runs the PostFilters until one succeeds or fails
// outright; otherwise their reasons are combined into one Unschedulable.
func (f *Framework) RunPostFilterPlugins(ctx context.Context, state *CycleState, pod *v1.Pod, statuses *NodeToStatus) *Status {
	var reasons []string
	first := ""
	for _, pl := range f.postFilter {
		s := pl.PostFilter(ctx, state, pod, statuses)
		switch {
		case s.IsSuccess():
			return s
		case s.Code() == UnschedulableAndUnresolvable:
			return s.WithPlugin(pl.Name())
		case !s.IsRejected():
			return AsStatus(s.AsError()).WithPlugin(pl.Name())
		}
		reasons = append(reasons, s.Reasons()...)
		if first == "" {
			first = pl.Name()
		}
	}
	return NewStatus(Unschedulable, reasons...).WithPlugin(first)
}

// RunPreScorePlugins runs every PreScore; a Skip leaves out its Score.
func (f *Framework) RunPreScorePlugins(ctx context.Context, state *CycleState, pod *v1.Pod, nodes []*NodeInfo) *Status {
	skip := sets.New[string]()
	defer func() { state.skipScore = skip }()
	for _, pl := range f.preScore {
		s := pl.PreScore(ctx, state, pod, nodes)
		if s.IsSkip() {
			skip.Insert(pl.Name())
			continue
		}
		if !s.IsSuccess() {
			return AsStatus(fmt.Errorf("running PreScore plugin %q: %w", pl.Name(), s.AsError()))
		}
	}
	return nil
}

// RunScorePlugins scores nodes with every Score plugin not skipped,
// normalises each plugin's scores, applies the weights and sums them. Ties
// are broken at random when the best node is picked (see SelectHost).
func (f *Framework) RunScorePlugins(ctx context.Context, state *CycleState, pod *v1.Pod, nodes []*NodeInfo) ([]NodePluginScores, *Status) {
	var plugins []ScorePlugin
	for _, pl := range f.score {
		if !state.skipScore.Has(pl.Name()) {
			plugins = append(plugins, pl)
		}
	}
	result := make([]NodePluginScores, len(nodes))
	for i, n := range nodes {
		result[i] = NodePluginScores{Name: n.Node().Name, Scores: make([]PluginScore, 0, len(plugins))}
	}
	if len(plugins) == 0 {
		return result, nil
	}
	perPlugin := make([]NodeScoreList, len(plugins))
	for j := range plugins {
		perPlugin[j] = make(NodeScoreList, len(nodes))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(nodes))
	f.Parallelize(ctx, len(nodes), func(i int) {
		for j, pl := range plugins {
			s, status := pl.Score(ctx, state, pod, nodes[i])
			if !status.IsSuccess() {
				errs[i] = fmt.Errorf("plugin %q: %w", pl.Name(), status.AsError())
				cancel()
				return
			}
			perPlugin[j][i] = NodeScore{Name: nodes[i].Node().Name, Score: s}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, AsStatus(fmt.Errorf("running Score plugins: %w", err))
	}
	for j, pl := range plugins {
		if ext := pl.ScoreExtensions(); ext != nil {
			if s := ext.NormalizeScore(ctx, state, pod, perPlugin[j]); !s.IsSuccess() {
				return nil, AsStatus(fmt.Errorf("running NormalizeScore of %q: %w", pl.Name(), s.AsError()))
			}
		}
		weight := f.scoreWeights[pl.Name()]
		for i, ns := range perPlugin[j] {
			if ns.Score < 0 || ns.Score > MaxNodeScore {
				return nil, AsStatus(fmt.Errorf("plugin %q scored node %q %d, outside [0, %d]", pl.Name(), ns.Name, ns.Score, MaxNodeScore))
			}
			w := ns.Score * weight
			result[i].Scores = append(result[i].Scores, PluginScore{Name: pl.Name(), Score: w})
			result[i].TotalScore += w
		}
	}
	return result, nil
}

// SelectHost picks the node with the highest total score, choosing among
// equal best scores uniformly at random.
func SelectHost(scores []NodePluginScores) (string, error) {
	if len(scores) == 0 {
		return "", errors.New("no nodes to select from")
	}
	best := scores[0]
	ties := 1
	for _, s := range scores[1:] {
		switch {
		case s.TotalScore > best.TotalScore:
			best, ties = s, 1
		case s.TotalScore == best.TotalScore:
			ties++
			// Reservoir sampling: each tie replaces the pick with probability 1/ties.
			if rand.IntN(ties) == 0 {
				best = s
			}
		}
	}
	return best.Name, nil
}

// QueueingHintFunction is a plugin's hint for an event.
type QueueingHintFunction struct {
	PluginName     string
	QueueingHintFn QueueingHintFn
}

// QueueingHintMap maps registered events to the hints of the plugins that registered them.
type QueueingHintMap map[ClusterEvent][]QueueingHintFunction

func queueAlways(klog.Logger, *v1.Pod, any, any) (QueueingHint, error) { return Queue, nil }

// QueueingHints collects the events each plugin able to reject a pod
// registered. A plugin without EnqueueExtensions is retried on any event.
func (f *Framework) QueueingHints(ctx context.Context) (QueueingHintMap, error) {
	m := QueueingHintMap{}
	for _, p := range f.plugins {
		_, pe := p.(PreEnqueuePlugin)
		_, pf := p.(PreFilterPlugin)
		_, fi := p.(FilterPlugin)
		if !pe && !pf && !fi {
			continue
		}
		ext, ok := p.(EnqueueExtensions)
		if !ok {
			all := ClusterEvent{Resource: WildCard, ActionType: All}
			m[all] = append(m[all], QueueingHintFunction{PluginName: p.Name(), QueueingHintFn: queueAlways})
			continue
		}
		events, err := ext.EventsToRegister(ctx)
		if err != nil {
			return nil, fmt.Errorf("events of plugin %q: %w", p.Name(), err)
		}
		for _, e := range events {
			fn := e.QueueingHintFn
			if fn == nil {
				fn = queueAlways
			}
			ev := e.Event
			ev.Label = ""
			m[ev] = append(m[ev], QueueingHintFunction{PluginName: p.Name(), QueueingHintFn: fn})
		}
	}
	return m, nil
}
