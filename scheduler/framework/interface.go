package framework

import (
	"context"
	"fmt"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/informers"
)

// Plugin is anything with a name; it implements one or more extension points.
type Plugin interface {
	Name() string
}

// PreEnqueuePlugin decides whether a pod may enter the active queue at all.
// A rejected pod waits among the unschedulable pods until an event it
// registered for (EnqueueExtensions) lets it through.
type PreEnqueuePlugin interface {
	Plugin
	PreEnqueue(ctx context.Context, pod *v1.Pod) *Status
}

// PreFilterResult narrows the nodes worth filtering; nil means all.
type PreFilterResult struct {
	NodeNames sets.Set[string]
}

// AllNodes reports a result that does not narrow the nodes.
func (r *PreFilterResult) AllNodes() bool { return r == nil || r.NodeNames == nil }

// Merge intersects two results.
func (r *PreFilterResult) Merge(o *PreFilterResult) *PreFilterResult {
	switch {
	case r.AllNodes() && o.AllNodes():
		return nil
	case r.AllNodes():
		return &PreFilterResult{NodeNames: o.NodeNames.Clone()}
	case o.AllNodes():
		return &PreFilterResult{NodeNames: r.NodeNames.Clone()}
	}
	return &PreFilterResult{NodeNames: r.NodeNames.Intersection(o.NodeNames)}
}

// PreFilterPlugin computes, once per cycle, what its Filter needs. Skip
// means its Filter is not needed for the pod.
type PreFilterPlugin interface {
	Plugin
	PreFilter(ctx context.Context, state *CycleState, pod *v1.Pod, nodes []*NodeInfo) (*PreFilterResult, *Status)
	// PreFilterExtensions is nil for plugins whose state does not depend on other pods.
	PreFilterExtensions() PreFilterExtensions
}

// PreFilterExtensions update a plugin's pre-filter state when preemption
// simulates adding or removing a pod on a node.
type PreFilterExtensions interface {
	AddPod(ctx context.Context, state *CycleState, podToSchedule *v1.Pod, podInfoToAdd *PodInfo, nodeInfo *NodeInfo) *Status
	RemovePod(ctx context.Context, state *CycleState, podToSchedule *v1.Pod, podInfoToRemove *PodInfo, nodeInfo *NodeInfo) *Status
}

// FilterPlugin decides whether the pod fits a node.
type FilterPlugin interface {
	Plugin
	Filter(ctx context.Context, state *CycleState, pod *v1.Pod, nodeInfo *NodeInfo) *Status
}

// PostFilterPlugin runs when no node fits. Its status message is appended
// to the scheduling failure message.
type PostFilterPlugin interface {
	Plugin
	PostFilter(ctx context.Context, state *CycleState, pod *v1.Pod, statuses *NodeToStatus) *Status
}

// PreScorePlugin computes, once per cycle, what its Score needs. Skip means
// its Score is not needed for the pod.
type PreScorePlugin interface {
	Plugin
	PreScore(ctx context.Context, state *CycleState, pod *v1.Pod, nodes []*NodeInfo) *Status
}

// ScorePlugin ranks the nodes that passed the filters.
type ScorePlugin interface {
	Plugin
	Score(ctx context.Context, state *CycleState, pod *v1.Pod, nodeInfo *NodeInfo) (int64, *Status)
	// ScoreExtensions is nil when scores are already within [0, MaxNodeScore].
	ScoreExtensions() ScoreExtensions
}

// ScoreExtensions normalises a plugin's raw scores into [0, MaxNodeScore].
type ScoreExtensions interface {
	NormalizeScore(ctx context.Context, state *CycleState, pod *v1.Pod, scores NodeScoreList) *Status
}

// EnqueueExtensions lists the events after which a pod this plugin rejected
// may fit. A plugin that rejects pods without implementing it has its pods
// retried on every event.
type EnqueueExtensions interface {
	Plugin
	EventsToRegister(ctx context.Context) ([]ClusterEventWithHint, error)
}

// NodeScore is one node's score from one plugin.
type NodeScore struct {
	Name  string
	Score int64
}

// NodeScoreList is a plugin's scores for the nodes being scored.
type NodeScoreList []NodeScore

// NodePluginScores is a node's weighted scores from every plugin.
type NodePluginScores struct {
	Name       string
	Scores     []PluginScore
	TotalScore int64
}

// PluginScore is a plugin's weighted, normalised score for a node.
type PluginScore struct {
	Name  string
	Score int64
}

// NodeInfoLister reads the snapshot of nodes a scheduling cycle works on.
type NodeInfoLister interface {
	// List returns all nodes, in the order the scheduler walks them.
	List() []*NodeInfo
	// HavePodsWithAffinityList returns the nodes with pods that have pod (anti-)affinity.
	HavePodsWithAffinityList() []*NodeInfo
	// HavePodsWithRequiredAntiAffinityList returns the nodes with pods that have required anti-affinity.
	HavePodsWithRequiredAntiAffinityList() []*NodeInfo
	Get(nodeName string) (*NodeInfo, error)
}

// Handle is what plugins get from the framework that built them.
type Handle interface {
	// SnapshotSharedLister is the current cycle's snapshot. Plugins must not change it.
	SnapshotSharedLister() NodeInfoLister
	// SharedInformerFactory gives plugins listers of other objects (namespaces, ...).
	SharedInformerFactory() informers.SharedInformerFactory
	// RunFilterPlugins runs every Filter on one node, as in the cycle.
	RunFilterPlugins(ctx context.Context, state *CycleState, pod *v1.Pod, nodeInfo *NodeInfo) *Status
	// RunPreFilterExtensionRemovePod tells pre-filter states that a pod is
	// gone from a node, when preemption simulates removing it.
	RunPreFilterExtensionRemovePod(ctx context.Context, state *CycleState, podToSchedule *v1.Pod, podInfoToRemove *PodInfo, nodeInfo *NodeInfo) *Status
	// Parallelize runs fn for every index in [0, n) concurrently.
	Parallelize(ctx context.Context, n int, fn func(i int))
}

// PluginFactory builds a plugin.
type PluginFactory func(ctx context.Context, h Handle) (Plugin, error)

// Registry maps plugin names to their factories.
type Registry map[string]PluginFactory

// NodeToStatus holds why nodes were rejected, and one status for every
// node not listed (those a PreFilter ruled out, or preemption did not try).
type NodeToStatus struct {
	nodes  map[string]*Status
	absent *Status
}

// NewNodeToStatus returns an empty map whose absent nodes are UnschedulableAndUnresolvable.
func NewNodeToStatus() *NodeToStatus {
	return &NodeToStatus{nodes: map[string]*Status{}, absent: NewStatus(UnschedulableAndUnresolvable)}
}

// Set records a node's status.
func (m *NodeToStatus) Set(node string, s *Status) { m.nodes[node] = s }

// Get returns a node's status, or the absent-nodes status.
func (m *NodeToStatus) Get(node string) *Status {
	if s, ok := m.nodes[node]; ok {
		return s
	}
	return m.absent
}

// Len counts the nodes listed explicitly.
func (m *NodeToStatus) Len() int { return len(m.nodes) }

// SetAbsentNodesStatus sets the status of nodes not listed.
func (m *NodeToStatus) SetAbsentNodesStatus(s *Status) { m.absent = s }

// AbsentNodesStatus is the status of nodes not listed.
func (m *NodeToStatus) AbsentNodesStatus() *Status { return m.absent }

// ForEachExplicitNode calls fn for each listed node.
func (m *NodeToStatus) ForEachExplicitNode(fn func(node string, s *Status)) {
	for n, s := range m.nodes {
		fn(n, s)
	}
}

// NodesForStatusCode returns the nodes of all whose status has code.
func (m *NodeToStatus) NodesForStatusCode(all []*NodeInfo, code Code) []*NodeInfo {
	var out []*NodeInfo
	for _, ni := range all {
		if m.Get(ni.Node().Name).Code() == code {
			out = append(out, ni)
		}
	}
	return out
}

// Diagnosis is why a pod fits no node.
type Diagnosis struct {
	NodeToStatus *NodeToStatus
	// UnschedulablePlugins are the plugins that rejected the pod; events they
	// registered decide when the pod is retried.
	UnschedulablePlugins sets.Set[string]
	// PreFilterMsg is the message of a PreFilter that rejected the pod outright.
	PreFilterMsg string
	// PostFilterMsg is the message of the PostFilter (preemption) plugins.
	PostFilterMsg string
}

// AddPluginStatus records the plugin that returned a rejecting status.
func (d *Diagnosis) AddPluginStatus(s *Status) {
	if !s.IsRejected() || s.Plugin() == "" {
		return
	}
	if d.UnschedulablePlugins == nil {
		d.UnschedulablePlugins = sets.New[string]()
	}
	d.UnschedulablePlugins.Insert(s.Plugin())
}

// NoNodeAvailableMsg starts every scheduling failure message.
const NoNodeAvailableMsg = "0/%v nodes are available"

// FitError is the failure of a pod to fit any node.
type FitError struct {
	Pod         *v1.Pod
	NumAllNodes int
	Diagnosis   Diagnosis
}

// Error renders upstream's message: a histogram of rejection reasons over
// all nodes, then what preemption found, e.g.
// "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match
// Pod's node affinity/selector. preemption: 0/3 nodes are available: 1 No
// preemption victims found for incoming pod, 2 Preemption is not helpful
// for scheduling."
func (f *FitError) Error() string {
	msg := fmt.Sprintf(NoNodeAvailableMsg+":", f.NumAllNodes)
	if f.Diagnosis.PreFilterMsg != "" {
		// Every node has the PreFilter's status; a histogram would repeat it.
		msg += fmt.Sprintf(" %v.", f.Diagnosis.PreFilterMsg)
	} else if h := ReasonHistogram(f.Diagnosis.NodeToStatus, f.NumAllNodes); h != "" {
		msg += " " + h + "."
	}
	if f.Diagnosis.PostFilterMsg != "" {
		msg += " " + f.Diagnosis.PostFilterMsg
	}
	return msg
}

// ReasonHistogram counts each reason over numAllNodes nodes, those not
// listed counting with the absent-nodes status, and lists the counts
// sorted: "1 Insufficient cpu, 2 node(s) had untolerated taint(s)".
func ReasonHistogram(m *NodeToStatus, numAllNodes int) string {
	reasons := map[string]int{}
	m.ForEachExplicitNode(func(_ string, s *Status) {
		for _, r := range s.Reasons() {
			reasons[r]++
		}
	})
	if m.Len() < numAllNodes {
		for _, r := range m.AbsentNodesStatus().Reasons() {
			reasons[r] += numAllNodes - m.Len()
		}
	}
	parts := make([]string, 0, len(reasons))
	for r, n := range reasons {
		parts = append(parts, fmt.Sprintf("%v %v", n, r))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// DefaultNormalizeScore scales scores so the highest becomes maxPriority;
// reverse turns the scale upside down (fewest points best). All zero
// scores stay zero, or become maxPriority when reversed.
func DefaultNormalizeScore(maxPriority int64, reverse bool, scores NodeScoreList) {
	var highest int64
	for _, s := range scores {
		highest = max(highest, s.Score)
	}
	if highest == 0 {
		if reverse {
			for i := range scores {
				scores[i].Score = maxPriority
			}
		}
		return
	}
	for i := range scores {
		s := maxPriority * scores[i].Score / highest
		if reverse {
			s = maxPriority - s
		}
		scores[i].Score = s
	}
}
