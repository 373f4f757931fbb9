// Package noderesourcesfit filters out nodes without room for the pod's
// effective request (containers, init containers and sidecars as the
// kubelet admits them, pod-level requests, overhead) or for one more pod,
// and scores nodes by how much room they would have left.
package noderesourcesfit

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/scheduler/framework"
)

const (
	// Name of the plugin.
	Name = "NodeResourcesFit"

	preFilterStateKey framework.StateKey = "PreFilter" + Name
	preScoreStateKey  framework.StateKey = "PreScore" + Name
)

// ScoringStrategy chooses how Score ranks nodes.
type ScoringStrategy string

const (
	// LeastAllocated prefers the nodes with the most room left: pods spread out.
	LeastAllocated ScoringStrategy = "LeastAllocated"
	// MostAllocated prefers the fullest nodes: pods pack together.
	MostAllocated ScoringStrategy = "MostAllocated"
)

// ResourceSpec is a resource that counts towards the score, with its weight.
type ResourceSpec struct {
	Name   v1.ResourceName
	Weight int64
}

// DefaultResources are scored unless configured otherwise: cpu and memory, equally.
var DefaultResources = []ResourceSpec{{Name: v1.ResourceCPU, Weight: 1}, {Name: v1.ResourceMemory, Weight: 1}}

// Args configure the plugin.
type Args struct {
	ScoringStrategy ScoringStrategy
	Resources       []ResourceSpec
}

// Fit is the plugin.
type Fit struct {
	strategy  ScoringStrategy
	resources []ResourceSpec
}

var (
	_ framework.PreFilterPlugin   = &Fit{}
	_ framework.FilterPlugin      = &Fit{}
	_ framework.PreScorePlugin    = &Fit{}
	_ framework.ScorePlugin       = &Fit{}
	_ framework.EnqueueExtensions = &Fit{}
)

// New builds the plugin with LeastAllocated scoring of cpu and memory.
func New(ctx context.Context, h framework.Handle) (framework.Plugin, error) {
	return Factory(Args{})(ctx, h)
}

// Factory builds the plugin with args.
func Factory(args Args) framework.PluginFactory {
	return func(context.Context, framework.Handle) (framework.Plugin, error) {
		if args.ScoringStrategy == "" {
			args.ScoringStrategy = LeastAllocated
		}
		if args.ScoringStrategy != LeastAllocated && args.ScoringStrategy != MostAllocated {
			return nil, fmt.Errorf("scoring strategy %q is not supported", args.ScoringStrategy)
		}
		if len(args.Resources) == 0 {
			args.Resources = DefaultResources
		}
		for _, r := range args.Resources {
			if r.Weight <= 0 {
				return nil, fmt.Errorf("resource %q: weight must be positive", r.Name)
			}
		}
		return &Fit{strategy: args.ScoringStrategy, resources: args.Resources}, nil
	}
}

// Name implements framework.Plugin.
func (f *Fit) Name() string { return Name }

type preFilterState struct {
	framework.Resource
}

func (s *preFilterState) Clone() framework.StateData { return s }

// PreFilter computes the pod's effective request once.
func (f *Fit) PreFilter(_ context.Context, state *framework.CycleState, pod *v1.Pod, _ []*framework.NodeInfo) (*framework.PreFilterResult, *framework.Status) {
	state.Write(preFilterStateKey, &preFilterState{Resource: framework.NewResource(framework.PodRequests(pod))})
	return nil, nil
}

// PreFilterExtensions implements framework.PreFilterPlugin.
func (f *Fit) PreFilterExtensions() framework.PreFilterExtensions { return nil }

// EventsToRegister implements framework.EnqueueExtensions: room freed by a
// pod leaving or shrinking, or a node added or grown that the pod fits.
func (f *Fit) EventsToRegister(context.Context) ([]framework.ClusterEventWithHint, error) {
	return []framework.ClusterEventWithHint{
		{Event: framework.EventAssignedPodDelete, QueueingHintFn: isSchedulableAfterPodDeleted},
		{Event: framework.ClusterEvent{Resource: framework.AssignedPod, ActionType: framework.UpdatePodScaleDown}},
		{Event: framework.ClusterEvent{Resource: framework.TargetPod, ActionType: framework.UpdatePodScaleDown}},
		{Event: framework.ClusterEvent{Resource: framework.Node, ActionType: framework.Add | framework.UpdateNodeAllocatable}, QueueingHintFn: isSchedulableAfterNodeChange},
	}, nil
}

func isSchedulableAfterPodDeleted(_ klog.Logger, _ *v1.Pod, oldObj, _ any) (framework.QueueingHint, error) {
	if deleted, ok := oldObj.(*v1.Pod); ok && deleted.Spec.NodeName == "" && deleted.Status.NominatedNodeName == "" {
		return framework.QueueSkip, nil
	}
	return framework.Queue, nil
}

func isSchedulableAfterNodeChange(_ klog.Logger, pod *v1.Pod, oldObj, newObj any) (framework.QueueingHint, error) {
	newNode, ok := newObj.(*v1.Node)
	if !ok {
		return framework.Queue, nil
	}
	request := framework.NewResource(framework.PodRequests(pod))
	empty := framework.NewNodeInfo()
	empty.SetNode(newNode)
	// Not even an empty node of this size fits the pod.
	if len(fitsRequest(request, empty)) != 0 {
		return framework.QueueSkip, nil
	}
	oldNode, _ := oldObj.(*v1.Node)
	if oldNode == nil {
		return framework.Queue, nil
	}
	was, now := framework.NewResource(oldNode.Status.Allocatable), framework.NewResource(newNode.Status.Allocatable)
	if now.AllowedPodNumber > was.AllowedPodNumber ||
		(request.MilliCPU > 0 && now.MilliCPU > was.MilliCPU) ||
		(request.Memory > 0 && now.Memory > was.Memory) ||
		(request.EphemeralStorage > 0 && now.EphemeralStorage > was.EphemeralStorage) {
		return framework.Queue, nil
	}
	for name, q := range request.ScalarResources {
		if q > 0 && now.ScalarResources[name] > was.ScalarResources[name] {
			return framework.Queue, nil
		}
	}
	return framework.QueueSkip, nil
}

// Filter implements framework.FilterPlugin.
func (f *Fit) Filter(_ context.Context, state *framework.CycleState, _ *v1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	s, err := framework.ReadAs[*preFilterState](state, preFilterStateKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	insufficient := fitsRequest(s.Resource, nodeInfo)
	if len(insufficient) == 0 {
		return nil
	}
	code := framework.Unschedulable
	reasons := make([]string, 0, len(insufficient))
	for _, r := range insufficient {
		reasons = append(reasons, r.Reason)
		if r.Unresolvable {
			code = framework.UnschedulableAndUnresolvable
		}
	}
	return framework.NewStatus(code, reasons...)
}

// InsufficientResource is a resource the node lacks for the pod.
type InsufficientResource struct {
	ResourceName v1.ResourceName
	Reason       string
	Requested    int64
	Used         int64
	Capacity     int64
	// Unresolvable: the pod asks for more than the whole node has, so
	// evicting pods (preemption) cannot help.
	Unresolvable bool
}

// Fits lists what the node lacks for the pod; empty means it fits.
func Fits(pod *v1.Pod, nodeInfo *framework.NodeInfo) []InsufficientResource {
	return fitsRequest(framework.NewResource(framework.PodRequests(pod)), nodeInfo)
}

func fitsRequest(req framework.Resource, nodeInfo *framework.NodeInfo) []InsufficientResource {
	var out []InsufficientResource
	alloc, used := nodeInfo.Allocatable, nodeInfo.Requested
	if int64(len(nodeInfo.Pods))+1 > alloc.AllowedPodNumber {
		out = append(out, InsufficientResource{ResourceName: v1.ResourcePods, Reason: "Too many pods",
			Requested: 1, Used: int64(len(nodeInfo.Pods)), Capacity: alloc.AllowedPodNumber})
	}
	if req.MilliCPU == 0 && req.Memory == 0 && req.EphemeralStorage == 0 && len(req.ScalarResources) == 0 {
		return out
	}
	check := func(name v1.ResourceName, reason string, want, capacity, inUse int64) {
		if want > 0 && want > capacity-inUse {
			out = append(out, InsufficientResource{ResourceName: name, Reason: reason,
				Requested: want, Used: inUse, Capacity: capacity, Unresolvable: want > capacity})
		}
	}
	check(v1.ResourceCPU, "Insufficient cpu", req.MilliCPU, alloc.MilliCPU, used.MilliCPU)
	check(v1.ResourceMemory, "Insufficient memory", req.Memory, alloc.Memory, used.Memory)
	check(v1.ResourceEphemeralStorage, "Insufficient ephemeral-storage", req.EphemeralStorage, alloc.EphemeralStorage, used.EphemeralStorage)
	for name, q := range req.ScalarResources {
		check(name, fmt.Sprintf("Insufficient %v", name), q, alloc.ScalarResources[name], used.ScalarResources[name])
	}
	return out
}

type preScoreState struct {
	podRequests []int64
}

func (s *preScoreState) Clone() framework.StateData { return s }

// PreScore computes the pod's requests of the scored resources.
func (f *Fit) PreScore(_ context.Context, state *framework.CycleState, pod *v1.Pod, _ []*framework.NodeInfo) *framework.Status {
	state.Write(preScoreStateKey, &preScoreState{podRequests: RequestsForScoring(pod, f.resources, false)})
	return nil
}

// Score implements framework.ScorePlugin.
func (f *Fit) Score(_ context.Context, state *framework.CycleState, pod *v1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	s, err := framework.ReadAs[*preScoreState](state, preScoreStateKey)
	if err != nil {
		s = &preScoreState{podRequests: RequestsForScoring(pod, f.resources, false)}
	}
	requested, _, allocatable := AllocatableAndRequested(nodeInfo, f.resources, s.podRequests, false)
	var score, weights int64
	for i, r := range f.resources {
		if allocatable[i] == 0 {
			continue
		}
		if f.strategy == MostAllocated {
			score += mostRequestedScore(requested[i], allocatable[i]) * r.Weight
		} else {
			score += leastRequestedScore(requested[i], allocatable[i]) * r.Weight
		}
		weights += r.Weight
	}
	if weights == 0 {
		return 0, nil
	}
	return score / weights, nil
}

// ScoreExtensions implements framework.ScorePlugin.
func (f *Fit) ScoreExtensions() framework.ScoreExtensions { return nil }

// leastRequestedScore is the share of capacity left free, 0 to MaxNodeScore.
func leastRequestedScore(requested, capacity int64) int64 {
	if capacity == 0 || requested > capacity {
		return 0
	}
	return (capacity - requested) * framework.MaxNodeScore / capacity
}

// mostRequestedScore is the share of capacity in use, 0 to MaxNodeScore.
func mostRequestedScore(requested, capacity int64) int64 {
	if capacity == 0 {
		return 0
	}
	if requested > capacity {
		// Only reached when scoring with default requests for containers without any.
		requested = capacity
	}
	return requested * framework.MaxNodeScore / capacity
}

// RequestsForScoring returns the pod's request of each resource. Unless
// useRequested, containers without cpu or memory requests count with the
// defaults (0.1 core, 200 MiB), so that best-effort pods still spread.
func RequestsForScoring(pod *v1.Pod, resources []ResourceSpec, useRequested bool) []int64 {
	var reqs v1.ResourceList
	if useRequested {
		reqs = framework.PodRequests(pod)
	} else {
		reqs = framework.PodRequestsWithDefaults(pod)
	}
	out := make([]int64, len(resources))
	for i, r := range resources {
		q := reqs[r.Name]
		if r.Name == v1.ResourceCPU {
			out[i] = q.MilliValue()
		} else {
			out[i] = q.Value()
		}
	}
	return out
}

// AllocatableAndRequested returns, per resource, what the node would have
// requested with the pod, what it has requested without, and its
// allocatable. Resources the node does not offer are left at zero, as are
// extended resources the pod does not ask for.
func AllocatableAndRequested(nodeInfo *framework.NodeInfo, resources []ResourceSpec, podRequests []int64, useRequested bool) (requested, allocated, allocatable []int64) {
	requested = make([]int64, len(resources))
	allocated = make([]int64, len(resources))
	allocatable = make([]int64, len(resources))
	inUse := nodeInfo.NonZeroRequested
	if useRequested {
		inUse = nodeInfo.Requested
	}
	for i, r := range resources {
		var alloc, used int64
		switch r.Name {
		case v1.ResourceCPU:
			alloc, used = nodeInfo.Allocatable.MilliCPU, inUse.MilliCPU
		case v1.ResourceMemory:
			alloc, used = nodeInfo.Allocatable.Memory, inUse.Memory
		case v1.ResourceEphemeralStorage:
			alloc, used = nodeInfo.Allocatable.EphemeralStorage, nodeInfo.Requested.EphemeralStorage
		default:
			if podRequests[i] == 0 {
				continue
			}
			alloc, used = nodeInfo.Allocatable.ScalarResources[r.Name], nodeInfo.Requested.ScalarResources[r.Name]
		}
		if alloc == 0 {
			continue
		}
		allocatable[i], allocated[i], requested[i] = alloc, used, used+podRequests[i]
	}
	return requested, allocated, allocatable
}
