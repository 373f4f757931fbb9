// Package interpodaffinity places pods relative to other pods: required
// pod affinity and anti-affinity (of the incoming pod, and the existing
// pods' anti-affinity towards it) filter nodes by topology domain, and
// preferred terms (both ways) score them.
package interpodaffinity

import (
	"context"
	"fmt"
	"math"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/scheduler/framework"
)

const (
	// Name of the plugin.
	Name = "InterPodAffinity"

	// Rejection reasons.
	ErrReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules"
	ErrReasonAffinityRulesNotMatch             = "node(s) didn't match pod affinity rules"
	ErrReasonAntiAffinityRulesNotMatch         = "node(s) didn't match pod anti-affinity rules"

	// hardPodAffinityWeight is the score an existing pod's required
	// affinity towards the incoming pod contributes, as upstream's default.
	hardPodAffinityWeight = 1

	preFilterStateKey framework.StateKey = "PreFilter" + Name
	preScoreStateKey  framework.StateKey = "PreScore" + Name
)

// InterPodAffinity is the plugin.
type InterPodAffinity struct {
	handle   framework.Handle
	nsLister corelisters.NamespaceLister
}

var (
	_ framework.PreFilterPlugin     = &InterPodAffinity{}
	_ framework.FilterPlugin        = &InterPodAffinity{}
	_ framework.PreFilterExtensions = &InterPodAffinity{}
	_ framework.PreScorePlugin      = &InterPodAffinity{}
	_ framework.ScorePlugin         = &InterPodAffinity{}
	_ framework.EnqueueExtensions   = &InterPodAffinity{}
)

// New builds the plugin; it reads namespaces for namespace selectors.
func New(_ context.Context, h framework.Handle) (framework.Plugin, error) {
	pl := &InterPodAffinity{handle: h}
	if f := h.SharedInformerFactory(); f != nil {
		pl.nsLister = f.Core().V1().Namespaces().Lister()
	}
	return pl, nil
}

// NewWithNamespaces builds the plugin on a namespace lister, for tests.
func NewWithNamespaces(h framework.Handle, nsLister corelisters.NamespaceLister) *InterPodAffinity {
	return &InterPodAffinity{handle: h, nsLister: nsLister}
}

// Name implements framework.Plugin.
func (pl *InterPodAffinity) Name() string { return Name }

// topologyPair is a topology domain: a node label and its value.
type topologyPair struct{ key, value string }

// topologyCounts counts matching pods (or terms) per domain.
type topologyCounts map[topologyPair]int64

func (m topologyCounts) clone() topologyCounts {
	out := make(topologyCounts, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (m topologyCounts) update(node *v1.Node, key string, n int64) {
	if value, ok := node.Labels[key]; ok {
		p := topologyPair{key, value}
		m[p] += n
		if m[p] == 0 {
			delete(m, p)
		}
	}
}

// updateWithAffinityTerms counts pod in each term's domain if it matches all terms.
func (m topologyCounts) updateWithAffinityTerms(terms []framework.AffinityTerm, pod *v1.Pod, node *v1.Node, n int64) {
	if podMatchesAllAffinityTerms(terms, pod) {
		for _, t := range terms {
			m.update(node, t.TopologyKey, n)
		}
	}
}

// updateWithAntiAffinityTerms counts each term pod matches in its domain.
func (m topologyCounts) updateWithAntiAffinityTerms(terms []framework.AffinityTerm, pod *v1.Pod, nsLabels labels.Set, node *v1.Node, n int64) {
	for _, t := range terms {
		if t.Matches(pod, nsLabels) {
			m.update(node, t.TopologyKey, n)
		}
	}
}

func podMatchesAllAffinityTerms(terms []framework.AffinityTerm, pod *v1.Pod) bool {
	if len(terms) == 0 {
		return false
	}
	for _, t := range terms {
		if !t.Matches(pod, nil) {
			return false
		}
	}
	return true
}

func podMatchesAnyAffinityTerm(terms []framework.AffinityTerm, pod *v1.Pod) bool {
	for _, t := range terms {
		if t.Matches(pod, nil) {
			return true
		}
	}
	return false
}

type preFilterState struct {
	// existingAntiAffinityCounts: domains where an existing pod's required
	// anti-affinity term matches the incoming pod.
	existingAntiAffinityCounts topologyCounts
	// affinityCounts: domains with existing pods matching all of the incoming
	// pod's required affinity terms; antiAffinityCounts: domains with pods
	// matching its anti-affinity terms.
	affinityCounts     topologyCounts
	antiAffinityCounts topologyCounts
	podInfo            *framework.PodInfo
	namespaceLabels    labels.Set
}

func (s *preFilterState) Clone() framework.StateData {
	out := *s
	out.existingAntiAffinityCounts = s.existingAntiAffinityCounts.clone()
	out.affinityCounts = s.affinityCounts.clone()
	out.antiAffinityCounts = s.antiAffinityCounts.clone()
	return &out
}

func (s *preFilterState) updateWithPod(pi *framework.PodInfo, node *v1.Node, n int64) {
	s.existingAntiAffinityCounts.updateWithAntiAffinityTerms(pi.RequiredAntiAffinityTerms, s.podInfo.Pod, s.namespaceLabels, node, n)
	s.affinityCounts.updateWithAffinityTerms(s.podInfo.RequiredAffinityTerms, pi.Pod, node, n)
	s.antiAffinityCounts.updateWithAntiAffinityTerms(s.podInfo.RequiredAntiAffinityTerms, pi.Pod, nil, node, n)
}

// mergeNamespaces turns a term's namespace selector into the namespaces it
// selects now, so that matching other pods needs no namespace lookups.
func (pl *InterPodAffinity) mergeNamespaces(t *framework.AffinityTerm) error {
	if t.NamespaceSelector.Empty() || pl.nsLister == nil {
		return nil
	}
	nss, err := pl.nsLister.List(t.NamespaceSelector)
	if err != nil {
		return err
	}
	for _, ns := range nss {
		t.Namespaces.Insert(ns.Name)
	}
	t.NamespaceSelector = labels.Nothing()
	return nil
}

func (pl *InterPodAffinity) namespaceLabels(logger klog.Logger, ns string) labels.Set {
	if pl.nsLister == nil {
		return nil
	}
	n, err := pl.nsLister.Get(ns)
	if err != nil {
		logger.V(3).Info("Getting namespace, assuming empty set of namespace labels", "namespace", ns, "err", err)
		return nil
	}
	return labels.Merge(n.Labels, nil)
}

// PreFilter counts, per topology domain, the pods the incoming pod's
// required terms match and the existing pods whose anti-affinity matches it.
func (pl *InterPodAffinity) PreFilter(ctx context.Context, state *framework.CycleState, pod *v1.Pod, nodes []*framework.NodeInfo) (*framework.PreFilterResult, *framework.Status) {
	pi, err := framework.NewPodInfo(pod)
	if err != nil {
		return nil, framework.NewStatus(framework.UnschedulableAndUnresolvable, fmt.Sprintf("parsing pod: %+v", err))
	}
	for i := range pi.RequiredAffinityTerms {
		if err := pl.mergeNamespaces(&pi.RequiredAffinityTerms[i]); err != nil {
			return nil, framework.AsStatus(err)
		}
	}
	for i := range pi.RequiredAntiAffinityTerms {
		if err := pl.mergeNamespaces(&pi.RequiredAntiAffinityTerms[i]); err != nil {
			return nil, framework.AsStatus(err)
		}
	}
	s := &preFilterState{
		existingAntiAffinityCounts: topologyCounts{},
		affinityCounts:             topologyCounts{},
		antiAffinityCounts:         topologyCounts{},
		podInfo:                    pi,
		namespaceLabels:            pl.namespaceLabels(klog.FromContext(ctx), pod.Namespace),
	}
	var mu sync.Mutex
	withAnti := pl.handle.SnapshotSharedLister().HavePodsWithRequiredAntiAffinityList()
	for _, ni := range withAnti {
		for _, existing := range ni.PodsWithRequiredAntiAffinity {
			s.existingAntiAffinityCounts.updateWithAntiAffinityTerms(existing.RequiredAntiAffinityTerms, pod, s.namespaceLabels, ni.Node(), 1)
		}
	}
	if len(pi.RequiredAffinityTerms) > 0 || len(pi.RequiredAntiAffinityTerms) > 0 {
		pl.handle.Parallelize(ctx, len(nodes), func(i int) {
			ni := nodes[i]
			aff, anti := topologyCounts{}, topologyCounts{}
			for _, existing := range ni.Pods {
				aff.updateWithAffinityTerms(pi.RequiredAffinityTerms, existing.Pod, ni.Node(), 1)
				anti.updateWithAntiAffinityTerms(pi.RequiredAntiAffinityTerms, existing.Pod, nil, ni.Node(), 1)
			}
			if len(aff) == 0 && len(anti) == 0 {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for k, v := range aff {
				s.affinityCounts[k] += v
			}
			for k, v := range anti {
				s.antiAffinityCounts[k] += v
			}
		})
	}
	if len(s.existingAntiAffinityCounts) == 0 && len(pi.RequiredAffinityTerms) == 0 && len(pi.RequiredAntiAffinityTerms) == 0 {
		return nil, framework.NewStatus(framework.Skip)
	}
	state.Write(preFilterStateKey, s)
	return nil, nil
}

// PreFilterExtensions implements framework.PreFilterPlugin.
func (pl *InterPodAffinity) PreFilterExtensions() framework.PreFilterExtensions { return pl }

// AddPod implements framework.PreFilterExtensions.
func (pl *InterPodAffinity) AddPod(_ context.Context, state *framework.CycleState, _ *v1.Pod, pi *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	s, err := framework.ReadAs[*preFilterState](state, preFilterStateKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	s.updateWithPod(pi, ni.Node(), 1)
	return nil
}

// RemovePod implements framework.PreFilterExtensions.
func (pl *InterPodAffinity) RemovePod(_ context.Context, state *framework.CycleState, _ *v1.Pod, pi *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	s, err := framework.ReadAs[*preFilterState](state, preFilterStateKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	s.updateWithPod(pi, ni.Node(), -1)
	return nil
}

// Filter implements framework.FilterPlugin.
func (pl *InterPodAffinity) Filter(_ context.Context, state *framework.CycleState, _ *v1.Pod, ni *framework.NodeInfo) *framework.Status {
	s, err := framework.ReadAs[*preFilterState](state, preFilterStateKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	if !satisfiesPodAffinity(s, ni) {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch)
	}
	if !satisfiesPodAntiAffinity(s, ni) {
		return framework.NewStatus(framework.Unschedulable, ErrReasonAntiAffinityRulesNotMatch)
	}
	if !satisfiesExistingPodsAntiAffinity(s, ni) {
		return framework.NewStatus(framework.Unschedulable, ErrReasonExistingAntiAffinityRulesNotMatch)
	}
	return nil
}

// satisfiesPodAffinity: the node has every affinity term's topology key,
// and its domains hold matching pods. With no matching pod anywhere, the
// first pod of a group that matches its own terms may go anywhere (with
// the keys), or it could never start.
func satisfiesPodAffinity(s *preFilterState, ni *framework.NodeInfo) bool {
	terms := s.podInfo.RequiredAffinityTerms
	if len(terms) == 0 {
		return true
	}
	podsExist := true
	for _, t := range terms {
		value, ok := ni.Node().Labels[t.TopologyKey]
		if !ok {
			return false
		}
		if s.affinityCounts[topologyPair{t.TopologyKey, value}] <= 0 {
			podsExist = false
		}
	}
	if podsExist {
		return true
	}
	return len(s.affinityCounts) == 0 && podMatchesAllAffinityTerms(terms, s.podInfo.Pod)
}

// satisfiesPodAntiAffinity: no domain of the node holds a pod the incoming pod's anti-affinity matches.
func satisfiesPodAntiAffinity(s *preFilterState, ni *framework.NodeInfo) bool {
	if len(s.antiAffinityCounts) == 0 {
		return true
	}
	for _, t := range s.podInfo.RequiredAntiAffinityTerms {
		if value, ok := ni.Node().Labels[t.TopologyKey]; ok && s.antiAffinityCounts[topologyPair{t.TopologyKey, value}] > 0 {
			return false
		}
	}
	return true
}

// satisfiesExistingPodsAntiAffinity: no existing pod's anti-affinity rules out any domain of the node.
func satisfiesExistingPodsAntiAffinity(s *preFilterState, ni *framework.NodeInfo) bool {
	if len(s.existingAntiAffinityCounts) == 0 {
		return true
	}
	for key, value := range ni.Node().Labels {
		if s.existingAntiAffinityCounts[topologyPair{key, value}] > 0 {
			return false
		}
	}
	return true
}

// EventsToRegister implements framework.EnqueueExtensions.
func (pl *InterPodAffinity) EventsToRegister(context.Context) ([]framework.ClusterEventWithHint, error) {
	return []framework.ClusterEventWithHint{
		{Event: framework.ClusterEvent{Resource: framework.AssignedPod, ActionType: framework.Add | framework.UpdatePodLabel | framework.Delete}, QueueingHintFn: isSchedulableAfterAssignedPodChange},
		{Event: framework.ClusterEvent{Resource: framework.TargetPod, ActionType: framework.UpdatePodLabel}},
		{Event: framework.ClusterEvent{Resource: framework.Node, ActionType: framework.Add | framework.UpdateNodeLabel}, QueueingHintFn: isSchedulableAfterNodeChange},
	}, nil
}

func isSchedulableAfterAssignedPodChange(_ klog.Logger, pod *v1.Pod, oldObj, newObj any) (framework.QueueingHint, error) {
	oldPod, _ := oldObj.(*v1.Pod)
	newPod, _ := newObj.(*v1.Pod)
	if (newPod != nil && newPod.Spec.NodeName == "" && newPod.Status.NominatedNodeName == "") ||
		(oldPod != nil && oldPod.Spec.NodeName == "" && oldPod.Status.NominatedNodeName == "") {
		return framework.QueueSkip, nil
	}
	pi, err := framework.NewPodInfo(pod)
	if err != nil {
		return framework.Queue, err
	}
	switch {
	case oldPod != nil && newPod != nil:
		if !podMatchesAllAffinityTerms(pi.RequiredAffinityTerms, oldPod) && podMatchesAllAffinityTerms(pi.RequiredAffinityTerms, newPod) {
			return framework.Queue, nil
		}
		if podMatchesAnyAffinityTerm(pi.RequiredAntiAffinityTerms, oldPod) && !podMatchesAnyAffinityTerm(pi.RequiredAntiAffinityTerms, newPod) {
			return framework.Queue, nil
		}
		return framework.QueueSkip, nil
	case newPod != nil:
		if podMatchesAllAffinityTerms(pi.RequiredAffinityTerms, newPod) {
			return framework.Queue, nil
		}
		return framework.QueueSkip, nil
	case oldPod != nil:
		if podMatchesAnyAffinityTerm(pi.RequiredAntiAffinityTerms, oldPod) {
			return framework.Queue, nil
		}
		old, err := framework.NewPodInfo(oldPod)
		if err != nil {
			return framework.Queue, err
		}
		if podMatchesAnyAffinityTerm(old.RequiredAntiAffinityTerms, pod) {
			return framework.Queue, nil
		}
	}
	return framework.QueueSkip, nil
}

func isSchedulableAfterNodeChange(_ klog.Logger, pod *v1.Pod, oldObj, newObj any) (framework.QueueingHint, error) {
	newNode, ok := newObj.(*v1.Node)
	if !ok {
		return framework.Queue, nil
	}
	oldNode, _ := oldObj.(*v1.Node)
	pi, err := framework.NewPodInfo(pod)
	if err != nil {
		return framework.Queue, err
	}
	for _, t := range pi.RequiredAffinityTerms {
		newValue, newHas := newNode.Labels[t.TopologyKey]
		if oldNode == nil {
			if newHas {
				return framework.Queue, nil
			}
			continue
		}
		oldValue, oldHas := oldNode.Labels[t.TopologyKey]
		if (!oldHas && newHas) || (oldHas && newHas && oldValue != newValue) {
			return framework.Queue, nil
		}
	}
	for _, t := range pi.RequiredAntiAffinityTerms {
		if oldNode == nil {
			return framework.Queue, nil
		}
		oldValue, oldHas := oldNode.Labels[t.TopologyKey]
		newValue, newHas := newNode.Labels[t.TopologyKey]
		if (oldHas && !newHas) || (oldHas && newHas && oldValue != newValue) {
			return framework.Queue, nil
		}
	}
	return framework.QueueSkip, nil
}

// scoreMap sums term weights per topology key and value.
type scoreMap map[string]map[string]int64

func (m scoreMap) processTerm(t *framework.AffinityTerm, weight int32, pod *v1.Pod, nsLabels labels.Set, node *v1.Node, sign int32) {
	if !t.Matches(pod, nsLabels) {
		return
	}
	if value, ok := node.Labels[t.TopologyKey]; ok {
		if m[t.TopologyKey] == nil {
			m[t.TopologyKey] = map[string]int64{}
		}
		m[t.TopologyKey][value] += int64(weight * sign)
	}
}

func (m scoreMap) processTerms(terms []framework.WeightedAffinityTerm, pod *v1.Pod, nsLabels labels.Set, node *v1.Node, sign int32) {
	for i := range terms {
		m.processTerm(&terms[i].AffinityTerm, terms[i].Weight, pod, nsLabels, node, sign)
	}
}

type preScoreState struct {
	topologyScore scoreMap
}

func (s *preScoreState) Clone() framework.StateData { return s }

// PreScore adds up, per topology domain, the incoming pod's preferred terms
// matching existing pods and the existing pods' terms matching it.
func (pl *InterPodAffinity) PreScore(ctx context.Context, state *framework.CycleState, pod *v1.Pod, _ []*framework.NodeInfo) *framework.Status {
	pi, err := framework.NewPodInfo(pod)
	if err != nil {
		return framework.AsStatus(fmt.Errorf("parsing pod: %w", err))
	}
	for i := range pi.PreferredAffinityTerms {
		if err := pl.mergeNamespaces(&pi.PreferredAffinityTerms[i].AffinityTerm); err != nil {
			return framework.AsStatus(err)
		}
	}
	for i := range pi.PreferredAntiAffinityTerms {
		if err := pl.mergeNamespaces(&pi.PreferredAntiAffinityTerms[i].AffinityTerm); err != nil {
			return framework.AsStatus(err)
		}
	}
	hasConstraints := len(pi.PreferredAffinityTerms) > 0 || len(pi.PreferredAntiAffinityTerms) > 0
	nodes := pl.handle.SnapshotSharedLister().HavePodsWithAffinityList()
	if hasConstraints {
		nodes = pl.handle.SnapshotSharedLister().List()
	}
	nsLabels := pl.namespaceLabels(klog.FromContext(ctx), pod.Namespace)
	scores := scoreMap{}
	for _, ni := range nodes {
		node := ni.Node()
		if len(node.Labels) == 0 {
			continue
		}
		pods := ni.PodsWithAffinity
		if hasConstraints {
			pods = ni.Pods
		}
		for _, existing := range pods {
			scores.processTerms(pi.PreferredAffinityTerms, existing.Pod, nil, node, 1)
			scores.processTerms(pi.PreferredAntiAffinityTerms, existing.Pod, nil, node, -1)
			for i := range existing.RequiredAffinityTerms {
				scores.processTerm(&existing.RequiredAffinityTerms[i], hardPodAffinityWeight, pod, nsLabels, node, 1)
			}
			scores.processTerms(existing.PreferredAffinityTerms, pod, nsLabels, node, 1)
			scores.processTerms(existing.PreferredAntiAffinityTerms, pod, nsLabels, node, -1)
		}
	}
	if len(scores) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(preScoreStateKey, &preScoreState{topologyScore: scores})
	return nil
}

// Score sums the scores of the node's domains.
func (pl *InterPodAffinity) Score(_ context.Context, state *framework.CycleState, _ *v1.Pod, ni *framework.NodeInfo) (int64, *framework.Status) {
	s, err := framework.ReadAs[*preScoreState](state, preScoreStateKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	var score int64
	for key, values := range s.topologyScore {
		if v, ok := ni.Node().Labels[key]; ok {
			score += values[v]
		}
	}
	return score, nil
}

// ScoreExtensions implements framework.ScorePlugin.
func (pl *InterPodAffinity) ScoreExtensions() framework.ScoreExtensions { return pl }

// NormalizeScore maps the scores, which may be negative, linearly onto [0, MaxNodeScore].
func (pl *InterPodAffinity) NormalizeScore(_ context.Context, state *framework.CycleState, _ *v1.Pod, scores framework.NodeScoreList) *framework.Status {
	s, err := framework.ReadAs[*preScoreState](state, preScoreStateKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	if len(s.topologyScore) == 0 {
		return nil
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, sc := range scores {
		lo, hi = min(lo, sc.Score), max(hi, sc.Score)
	}
	for i := range scores {
		var f float64
		if hi > lo {
			f = float64(framework.MaxNodeScore) * float64(scores[i].Score-lo) / float64(hi-lo)
		}
		scores[i].Score = int64(f)
	}
	return nil
}
