package framework

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/klog/v2"
)

// EventResource is the kind of object a cluster event is about.
type EventResource string

const (
	// Node events.
	Node EventResource = "Node"
	// AssignedPod events are about pods bound to a node.
	AssignedPod EventResource = "AssignedPod"
	// UnscheduledPod events are about other pods waiting to be scheduled.
	UnscheduledPod EventResource = "UnscheduledPod"
	// TargetPod events are updates to the very pod being requeued.
	TargetPod EventResource = "TargetPod"
	// WildCard matches every resource; its events requeue every pod.
	WildCard EventResource = "*"
)

// ActionType is a bit set of what happened.
type ActionType int64

const (
	Add ActionType = 1 << iota
	Delete

	UpdateNodeAllocatable
	UpdateNodeLabel
	// UpdateNodeTaint also stands for spec.unschedulable becoming false, as upstream.
	UpdateNodeTaint
	UpdateNodeCondition
	UpdateNodeAnnotation

	UpdatePodLabel
	UpdatePodScaleDown
	UpdatePodToleration
	UpdatePodSchedulingGatesEliminated
	// updatePodOther is any other pod update.
	updatePodOther

	None ActionType = 0
	// Update is any kind of update.
	Update = UpdateNodeAllocatable | UpdateNodeLabel | UpdateNodeTaint | UpdateNodeCondition | UpdateNodeAnnotation |
		UpdatePodLabel | UpdatePodScaleDown | UpdatePodToleration | UpdatePodSchedulingGatesEliminated | updatePodOther
	All = Add | Delete | Update
)

// ClusterEvent is something that happened in the cluster that may make
// pods rejected earlier schedulable.
type ClusterEvent struct {
	Resource   EventResource
	ActionType ActionType
	// Label names the event in logs when set.
	Label string
}

// String is the event's name for logs.
func (e ClusterEvent) String() string {
	if e.Label != "" {
		return e.Label
	}
	return string(e.Resource) + "/" + actionName(e.ActionType)
}

func actionName(a ActionType) string {
	switch a {
	case Add:
		return "Add"
	case Delete:
		return "Delete"
	case UpdateNodeAllocatable:
		return "UpdateNodeAllocatable"
	case UpdateNodeLabel:
		return "UpdateNodeLabel"
	case UpdateNodeTaint:
		return "UpdateNodeTaint"
	case UpdateNodeCondition:
		return "UpdateNodeCondition"
	case UpdateNodeAnnotation:
		return "UpdateNodeAnnotation"
	case UpdatePodLabel:
		return "UpdatePodLabel"
	case UpdatePodScaleDown:
		return "UpdatePodScaleDown"
	case UpdatePodToleration:
		return "UpdatePodToleration"
	case UpdatePodSchedulingGatesEliminated:
		return "UpdatePodSchedulingGatesEliminated"
	case All:
		return "All"
	}
	return "Update"
}

// IsWildCard reports an event that concerns every pod.
func (e ClusterEvent) IsWildCard() bool { return e.Resource == WildCard && e.ActionType == All }

// Match reports whether the incoming event is one that e (a plugin's
// registered interest) covers.
func (e ClusterEvent) Match(incoming ClusterEvent) bool {
	return (e.Resource == WildCard || e.Resource == incoming.Resource) &&
		e.ActionType&incoming.ActionType != 0
}

// Events the scheduler itself raises.
var (
	EventAssignedPodAdd    = ClusterEvent{Resource: AssignedPod, ActionType: Add}
	EventAssignedPodDelete = ClusterEvent{Resource: AssignedPod, ActionType: Delete}
	EventUnscheduledPodAdd = ClusterEvent{Resource: UnscheduledPod, ActionType: Add}
	EventNodeAdd           = ClusterEvent{Resource: Node, ActionType: Add}
	// EventUnschedulableTimeout requeues pods left unschedulable too long.
	EventUnschedulableTimeout = ClusterEvent{Resource: WildCard, ActionType: All, Label: "UnschedulableTimeout"}
)

// QueueingHint is a plugin's answer to "may this event make the pod schedulable?".
type QueueingHint int

const (
	// QueueSkip: the event cannot help the pod.
	QueueSkip QueueingHint = iota
	// Queue: the pod is worth retrying.
	Queue
)

// QueueingHintFn decides for one pod whether an event may help it. oldObj
// is nil for Add events and newObj for Delete events. An error counts as Queue.
type QueueingHintFn func(logger klog.Logger, pod *v1.Pod, oldObj, newObj any) (QueueingHint, error)

// ClusterEventWithHint is an event a plugin cares about; a nil hint means always Queue.
type ClusterEventWithHint struct {
	Event          ClusterEvent
	QueueingHintFn QueueingHintFn
}

// NodeSchedulingPropertiesChange lists the update events a node change raises.
func NodeSchedulingPropertiesChange(newNode, oldNode *v1.Node) []ClusterEvent {
	var events []ClusterEvent
	add := func(a ActionType) { events = append(events, ClusterEvent{Resource: Node, ActionType: a}) }
	// A node becoming schedulable is reported like a removed taint, as upstream does.
	if newNode.Spec.Unschedulable != oldNode.Spec.Unschedulable && !newNode.Spec.Unschedulable {
		add(UpdateNodeTaint)
	}
	if !equality.Semantic.DeepEqual(oldNode.Status.Allocatable, newNode.Status.Allocatable) {
		add(UpdateNodeAllocatable)
	}
	if !equality.Semantic.DeepEqual(oldNode.Labels, newNode.Labels) {
		add(UpdateNodeLabel)
	}
	if !equality.Semantic.DeepEqual(oldNode.Spec.Taints, newNode.Spec.Taints) {
		add(UpdateNodeTaint)
	}
	if !equality.Semantic.DeepEqual(conditionStatuses(oldNode), conditionStatuses(newNode)) {
		add(UpdateNodeCondition)
	}
	if !equality.Semantic.DeepEqual(oldNode.Annotations, newNode.Annotations) {
		add(UpdateNodeAnnotation)
	}
	return events
}

func conditionStatuses(n *v1.Node) map[v1.NodeConditionType]v1.ConditionStatus {
	m := make(map[v1.NodeConditionType]v1.ConditionStatus, len(n.Status.Conditions))
	for _, c := range n.Status.Conditions {
		m[c.Type] = c.Status
	}
	return m
}

// PodSchedulingPropertiesChange lists the update events a pod change
// raises: about an assigned pod, about the target pod itself (isTarget), or
// about another unscheduled pod.
func PodSchedulingPropertiesChange(newPod, oldPod *v1.Pod, isTarget bool) []ClusterEvent {
	r := UnscheduledPod
	switch {
	case newPod.Spec.NodeName != "":
		r = AssignedPod
	case isTarget:
		r = TargetPod
	}
	var events []ClusterEvent
	add := func(a ActionType) { events = append(events, ClusterEvent{Resource: r, ActionType: a}) }
	if !equality.Semantic.DeepEqual(oldPod.Labels, newPod.Labels) {
		add(UpdatePodLabel)
	}
	if scaledDown(newPod, oldPod) {
		add(UpdatePodScaleDown)
	}
	if len(newPod.Spec.SchedulingGates) == 0 && len(oldPod.Spec.SchedulingGates) != 0 {
		add(UpdatePodSchedulingGatesEliminated)
	}
	if len(newPod.Spec.Tolerations) != len(oldPod.Spec.Tolerations) {
		add(UpdatePodToleration)
	}
	if len(events) == 0 {
		add(updatePodOther)
	}
	return events
}

func scaledDown(newPod, oldPod *v1.Pod) bool {
	newReqs, _, _ := nodeAccounting(newPod)
	oldReqs, _, _ := nodeAccounting(oldPod)
	if newReqs.MilliCPU < oldReqs.MilliCPU || newReqs.Memory < oldReqs.Memory || newReqs.EphemeralStorage < oldReqs.EphemeralStorage {
		return true
	}
	for k, v := range oldReqs.ScalarResources {
		if newReqs.ScalarResources[k] < v {
			return true
		}
	}
	return false
}
