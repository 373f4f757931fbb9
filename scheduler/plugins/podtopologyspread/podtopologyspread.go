// Package podtopologyspread spreads pods that match a selector evenly over
// topology domains (zones, nodes, ...): constraints with DoNotSchedule
// filter out nodes that would make a domain exceed maxSkew, those with
// ScheduleAnyway score emptier domains higher.
package podtopologyspread

import (
	"context"
	"fmt"
	"math"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	v1helper "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/capstan-dev/capstan/scheduler/framework"
)

const (
	// Name of the plugin.
	Name = "PodTopologySpread"
	// ErrReasonConstraintsNotMatch is the rejection reason for skew.
	ErrReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints"
	// ErrReasonNodeLabelNotMatch is the rejection reason for a node without the topology key.
	ErrReasonNodeLabelNotMatch = ErrReasonConstraintsNotMatch + " (missing required label)"

	preFilterStateKey framework.StateKey = "PreFilter" + Name
	preScoreStateKey  framework.StateKey = "PreScore" + Name
)

// PodTopologySpread is the plugin. Upstream's system default constraints
// (for pods of Services and workloads that set none) are not applied.
type PodTopologySpread struct {
	handle framework.Handle
}

var (
	_ framework.PreFilterPlugin     = &PodTopologySpread{}
	_ framework.FilterPlugin        = &PodTopologySpread{}
	_ framework.PreFilterExtensions = &PodTopologySpread{}
	_ framework.PreScorePlugin      = &PodTopologySpread{}
	_ framework.ScorePlugin         = &PodTopologySpread{}
	_ framework.EnqueueExtensions   = &PodTopologySpread{}
)

// New builds the plugin.
func New(_ context.Context, h framework.Handle) (framework.Plugin, error) {
	return &PodTopologySpread{handle: h}, nil
}

// Name implements framework.Plugin.
func (pl *PodTopologySpread) Name() string { return Name }

type constraint struct {
	MaxSkew            int32
	TopologyKey        string
	Selector           labels.Selector
	MinDomains         int32
	NodeAffinityPolicy v1.NodeInclusionPolicy
	NodeTaintsPolicy   v1.NodeInclusionPolicy
}

// constraints parses the pod's constraints with the given action. The
// values of matchLabelKeys in the pod's labels narrow the selector.
func constraints(pod *v1.Pod, action v1.UnsatisfiableConstraintAction) ([]constraint, error) {
	var out []constraint
	for _, c := range pod.Spec.TopologySpreadConstraints {
		if c.WhenUnsatisfiable != action {
			continue
		}
		selector, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
		if err != nil {
			return nil, err
		}
		if len(c.MatchLabelKeys) > 0 {
			set := labels.Set{}
			for _, k := range c.MatchLabelKeys {
				if v, ok := pod.Labels[k]; ok {
					set[k] = v
				}
			}
			if len(set) > 0 {
				merged := labels.SelectorFromSet(set)
				if reqs, ok := selector.Requirements(); ok {
					merged = merged.Add(reqs...)
					selector = merged
				}
			}
		}
		out = append(out, constraint{
			MaxSkew:            c.MaxSkew,
			TopologyKey:        c.TopologyKey,
			Selector:           selector,
			MinDomains:         ptr.Deref(c.MinDomains, 1),
			NodeAffinityPolicy: ptr.Deref(c.NodeAffinityPolicy, v1.NodeInclusionPolicyHonor),
			NodeTaintsPolicy:   ptr.Deref(c.NodeTaintsPolicy, v1.NodeInclusionPolicyIgnore),
		})
	}
	return out, nil
}

// counts decides whether a node's pods count towards the constraint's
// domains: by default nodes the pod's node affinity excludes do not, and
// tainted nodes do.
func (c *constraint) counts(logger klog.Logger, pod *v1.Pod, node *v1.Node, required nodeaffinity.RequiredNodeAffinity) bool {
	if c.NodeAffinityPolicy == v1.NodeInclusionPolicyHonor {
		if ok, _ := required.Match(node); !ok {
			return false
		}
	}
	if c.NodeTaintsPolicy == v1.NodeInclusionPolicyHonor {
		doNotSchedule := func(t *v1.Taint) bool {
			return t.Effect == v1.TaintEffectNoSchedule || t.Effect == v1.TaintEffectNoExecute
		}
		if _, untolerated := v1helper.FindMatchingUntoleratedTaint(logger, node.Spec.Taints, pod.Spec.Tolerations, doNotSchedule, false); untolerated {
			return false
		}
	}
	return true
}

func hasAllKeys(nodeLabels map[string]string, cs []constraint) bool {
	for _, c := range cs {
		if _, ok := nodeLabels[c.TopologyKey]; !ok {
			return false
		}
	}
	return true
}

// countMatching counts the pods in ns the selector matches, leaving out
// pods being deleted.
func countMatching(pods []*framework.PodInfo, selector labels.Selector, ns string) int {
	if selector.Empty() {
		return 0
	}
	n := 0
	for _, p := range pods {
		if p.Pod.DeletionTimestamp == nil && p.Pod.Namespace == ns && selector.Matches(labels.Set(p.Pod.Labels)) {
			n++
		}
	}
	return n
}

type preFilterState struct {
	constraints []constraint
	// matchNum counts matching pods per constraint and domain (topology value).
	matchNum []map[string]int
	// minNum is the smallest count over each constraint's domains.
	minNum []int
}

func (s *preFilterState) Clone() framework.StateData {
	out := &preFilterState{constraints: s.constraints, matchNum: make([]map[string]int, len(s.matchNum)), minNum: append([]int(nil), s.minNum...)}
	for i, m := range s.matchNum {
		out.matchNum[i] = make(map[string]int, len(m))
		for k, v := range m {
			out.matchNum[i][k] = v
		}
	}
	return out
}

func (s *preFilterState) recomputeMin(i int) {
	lowest := math.MaxInt32
	for _, n := range s.matchNum[i] {
		lowest = min(lowest, n)
	}
	s.minNum[i] = lowest
}

// minMatch is the global minimum the skew is measured from; with fewer
// domains than minDomains, it is 0.
func (s *preFilterState) minMatch(i int) int {
	if len(s.matchNum[i]) < int(s.constraints[i].MinDomains) {
		return 0
	}
	return s.minNum[i]
}

// PreFilter counts matching pods per domain for the DoNotSchedule constraints.
func (pl *PodTopologySpread) PreFilter(ctx context.Context, state *framework.CycleState, pod *v1.Pod, nodes []*framework.NodeInfo) (*framework.PreFilterResult, *framework.Status) {
	cs, err := constraints(pod, v1.DoNotSchedule)
	if err != nil {
		return nil, framework.AsStatus(fmt.Errorf("obtaining pod's hard topology spread constraints: %w", err))
	}
	if len(cs) == 0 {
		return nil, framework.NewStatus(framework.Skip)
	}
	logger := klog.FromContext(ctx)
	s := &preFilterState{constraints: cs, matchNum: make([]map[string]int, len(cs)), minNum: make([]int, len(cs))}
	for i := range cs {
		s.matchNum[i] = map[string]int{}
	}
	required := nodeaffinity.GetRequiredNodeAffinity(pod)
	var mu sync.Mutex
	pl.handle.Parallelize(ctx, len(nodes), func(n int) {
		ni := nodes[n]
		node := ni.Node()
		if !hasAllKeys(node.Labels, cs) {
			return
		}
		counts := make([]int, len(cs))
		included := make([]bool, len(cs))
		for i := range cs {
			if cs[i].counts(logger, pod, node, required) {
				included[i] = true
				counts[i] = countMatching(ni.Pods, cs[i].Selector, pod.Namespace)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for i := range cs {
			if included[i] {
				s.matchNum[i][node.Labels[cs[i].TopologyKey]] += counts[i]
			}
		}
	})
	for i := range cs {
		s.recomputeMin(i)
	}
	state.Write(preFilterStateKey, s)
	return nil, nil
}

// PreFilterExtensions implements framework.PreFilterPlugin.
func (pl *PodTopologySpread) PreFilterExtensions() framework.PreFilterExtensions { return pl }

// AddPod implements framework.PreFilterExtensions.
func (pl *PodTopologySpread) AddPod(ctx context.Context, state *framework.CycleState, podToSchedule *v1.Pod, pi *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	return pl.updateWithPod(ctx, state, pi.Pod, podToSchedule, ni.Node(), 1)
}

// RemovePod implements framework.PreFilterExtensions.
func (pl *PodTopologySpread) RemovePod(ctx context.Context, state *framework.CycleState, podToSchedule *v1.Pod, pi *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	return pl.updateWithPod(ctx, state, pi.Pod, podToSchedule, ni.Node(), -1)
}

func (pl *PodTopologySpread) updateWithPod(ctx context.Context, state *framework.CycleState, updated, incoming *v1.Pod, node *v1.Node, delta int) *framework.Status {
	s, err := framework.ReadAs[*preFilterState](state, preFilterStateKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	if updated.Namespace != incoming.Namespace || node == nil || !hasAllKeys(node.Labels, s.constraints) {
		return nil
	}
	required := nodeaffinity.GetRequiredNodeAffinity(incoming)
	for i, c := range s.constraints {
		if !c.Selector.Matches(labels.Set(updated.Labels)) || !c.counts(klog.FromContext(ctx), incoming, node, required) {
			continue
		}
		s.matchNum[i][node.Labels[c.TopologyKey]] += delta
		s.recomputeMin(i)
	}
	return nil
}

// Filter rejects a node without every topology key, or whose domain would
// then exceed maxSkew over the least populated domain.
func (pl *PodTopologySpread) Filter(ctx context.Context, state *framework.CycleState, pod *v1.Pod, ni *framework.NodeInfo) *framework.Status {
	s, err := framework.ReadAs[*preFilterState](state, preFilterStateKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	node := ni.Node()
	for i, c := range s.constraints {
		value, ok := node.Labels[c.TopologyKey]
		if !ok {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonNodeLabelNotMatch)
		}
		self := 0
		if c.Selector.Matches(labels.Set(pod.Labels)) {
			self = 1
		}
		if skew := s.matchNum[i][value] + self - s.minMatch(i); skew > int(c.MaxSkew) {
			klog.FromContext(ctx).V(5).Info("Node failed spread constraint", "node", klog.KObj(node), "topologyKey", c.TopologyKey, "skew", skew, "maxSkew", c.MaxSkew)
			return framework.NewStatus(framework.Unschedulable, ErrReasonConstraintsNotMatch)
		}
	}
	return nil
}

// EventsToRegister implements framework.EnqueueExtensions.
func (pl *PodTopologySpread) EventsToRegister(context.Context) ([]framework.ClusterEventWithHint, error) {
	return []framework.ClusterEventWithHint{
		{Event: framework.ClusterEvent{Resource: framework.AssignedPod, ActionType: framework.Add | framework.UpdatePodLabel | framework.Delete}, QueueingHintFn: isSchedulableAfterAssignedPodChange},
		{Event: framework.ClusterEvent{Resource: framework.TargetPod, ActionType: framework.UpdatePodToleration | framework.UpdatePodLabel}},
		{Event: framework.ClusterEvent{Resource: framework.Node, ActionType: framework.Add | framework.Delete | framework.UpdateNodeLabel | framework.UpdateNodeTaint}, QueueingHintFn: isSchedulableAfterNodeChange},
	}, nil
}

func isSchedulableAfterAssignedPodChange(_ klog.Logger, pod *v1.Pod, oldObj, newObj any) (framework.QueueingHint, error) {
	oldPod, _ := oldObj.(*v1.Pod)
	newPod, _ := newObj.(*v1.Pod)
	involved := func(p *v1.Pod) bool {
		return (p.Spec.NodeName != "" || p.Status.NominatedNodeName != "") && p.Namespace == pod.Namespace
	}
	if (newPod != nil && !involved(newPod)) || (oldPod != nil && !involved(oldPod)) {
		return framework.QueueSkip, nil
	}
	cs, err := constraints(pod, v1.DoNotSchedule)
	if err != nil {
		return framework.Queue, err
	}
	matchesAny := func(p *v1.Pod) bool {
		for _, c := range cs {
			if c.Selector.Matches(labels.Set(p.Labels)) {
				return true
			}
		}
		return false
	}
	switch {
	case oldPod != nil && newPod != nil:
		if equality.Semantic.DeepEqual(oldPod.Labels, newPod.Labels) {
			return framework.QueueSkip, nil
		}
		for _, c := range cs {
			if c.Selector.Matches(labels.Set(oldPod.Labels)) != c.Selector.Matches(labels.Set(newPod.Labels)) {
				return framework.Queue, nil
			}
		}
		return framework.QueueSkip, nil
	case newPod != nil:
		if matchesAny(newPod) {
			return framework.Queue, nil
		}
	case oldPod != nil:
		if matchesAny(oldPod) {
			return framework.Queue, nil
		}
	}
	return framework.QueueSkip, nil
}

func isSchedulableAfterNodeChange(_ klog.Logger, pod *v1.Pod, oldObj, newObj any) (framework.QueueingHint, error) {
	oldNode, _ := oldObj.(*v1.Node)
	newNode, _ := newObj.(*v1.Node)
	cs, err := constraints(pod, v1.DoNotSchedule)
	if err != nil {
		return framework.Queue, err
	}
	var oldMatch, newMatch bool
	if oldNode != nil {
		oldMatch = hasAllKeys(oldNode.Labels, cs)
	}
	if newNode != nil {
		newMatch = hasAllKeys(newNode.Labels, cs)
	}
	switch {
	case oldNode != nil && newNode != nil:
		if oldMatch != newMatch {
			return framework.Queue, nil
		}
		if newMatch {
			for _, c := range cs {
				if oldNode.Labels[c.TopologyKey] != newNode.Labels[c.TopologyKey] {
					return framework.Queue, nil
				}
			}
			if !equality.Semantic.DeepEqual(oldNode.Spec.Taints, newNode.Spec.Taints) {
				return framework.Queue, nil
			}
		}
		return framework.QueueSkip, nil
	case newNode != nil:
		if newMatch {
			return framework.Queue, nil
		}
	case oldNode != nil:
		if oldMatch {
			return framework.Queue, nil
		}
	}
	return framework.QueueSkip, nil
}

type preScoreState struct {
	constraints  []constraint
	ignoredNodes sets.Set[string]
	// podCounts counts matching pods per constraint and domain, except for
	// hostname constraints, counted on the node at Score.
	podCounts []map[string]int64
	// weights favour constraints with fewer domains less: log(domains + 2).
	weights []float64
}

func (s *preScoreState) Clone() framework.StateData { return s }

// PreScore counts matching pods per domain for the ScheduleAnyway constraints.
func (pl *PodTopologySpread) PreScore(ctx context.Context, state *framework.CycleState, pod *v1.Pod, filtered []*framework.NodeInfo) *framework.Status {
	all := pl.handle.SnapshotSharedLister().List()
	if len(all) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	cs, err := constraints(pod, v1.ScheduleAnyway)
	if err != nil {
		return framework.AsStatus(fmt.Errorf("obtaining pod's soft topology spread constraints: %w", err))
	}
	if len(cs) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	s := &preScoreState{constraints: cs, ignoredNodes: sets.New[string](), podCounts: make([]map[string]int64, len(cs)), weights: make([]float64, len(cs))}
	for i := range cs {
		s.podCounts[i] = map[string]int64{}
	}
	domains := make([]int, len(cs))
	for _, ni := range filtered {
		if !hasAllKeys(ni.Node().Labels, cs) {
			s.ignoredNodes.Insert(ni.Node().Name)
			continue
		}
		for i, c := range cs {
			if c.TopologyKey == v1.LabelHostname {
				continue
			}
			v := ni.Node().Labels[c.TopologyKey]
			if _, ok := s.podCounts[i][v]; !ok {
				s.podCounts[i][v] = 0
				domains[i]++
			}
		}
	}
	for i, c := range cs {
		size := domains[i]
		if c.TopologyKey == v1.LabelHostname {
			size = len(filtered) - s.ignoredNodes.Len()
		}
		s.weights[i] = math.Log(float64(size + 2))
	}
	logger := klog.FromContext(ctx)
	required := nodeaffinity.GetRequiredNodeAffinity(pod)
	var mu sync.Mutex
	pl.handle.Parallelize(ctx, len(all), func(n int) {
		node := all[n].Node()
		if !hasAllKeys(node.Labels, cs) {
			return
		}
		for i, c := range cs {
			if !c.counts(logger, pod, node, required) {
				continue
			}
			v := node.Labels[c.TopologyKey]
			cnt := int64(countMatching(all[n].Pods, c.Selector, pod.Namespace))
			mu.Lock()
			if _, ok := s.podCounts[i][v]; ok {
				s.podCounts[i][v] += cnt
			}
			mu.Unlock()
		}
	})
	state.Write(preScoreStateKey, s)
	return nil
}

// Score is higher for more crowded domains; NormalizeScore turns it round.
func (pl *PodTopologySpread) Score(_ context.Context, state *framework.CycleState, pod *v1.Pod, ni *framework.NodeInfo) (int64, *framework.Status) {
	s, err := framework.ReadAs[*preScoreState](state, preScoreStateKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	node := ni.Node()
	if s.ignoredNodes.Has(node.Name) {
		return 0, nil
	}
	var score float64
	for i, c := range s.constraints {
		v, ok := node.Labels[c.TopologyKey]
		if !ok {
			continue
		}
		var cnt int64
		if c.TopologyKey == v1.LabelHostname {
			cnt = int64(countMatching(ni.Pods, c.Selector, pod.Namespace))
		} else {
			cnt = s.podCounts[i][v]
		}
		score += float64(cnt)*s.weights[i] + float64(c.MaxSkew-1)
	}
	return int64(math.Round(score)), nil
}

// ScoreExtensions implements framework.ScorePlugin.
func (pl *PodTopologySpread) ScoreExtensions() framework.ScoreExtensions { return pl }

// NormalizeScore gives the least crowded nodes MaxNodeScore and nodes
// without the topology keys 0.
func (pl *PodTopologySpread) NormalizeScore(_ context.Context, state *framework.CycleState, _ *v1.Pod, scores framework.NodeScoreList) *framework.Status {
	s, err := framework.ReadAs[*preScoreState](state, preScoreStateKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	lo, hi := int64(math.MaxInt64), int64(0)
	for _, sc := range scores {
		if s.ignoredNodes.Has(sc.Name) {
			continue
		}
		lo, hi = min(lo, sc.Score), max(hi, sc.Score)
	}
	for i := range scores {
		switch {
		case s.ignoredNodes.Has(scores[i].Name):
			scores[i].Score = 0
		case hi == 0:
			scores[i].Score = framework.MaxNodeScore
		default:
			scores[i].Score = framework.MaxNodeScore * (hi + lo - scores[i].Score) / hi
		}
	}
	return nil
}
