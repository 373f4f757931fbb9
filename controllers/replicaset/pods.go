package replicaset

import (
	"math"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// DeletionCostAnnotation lets users say which pods to delete first when
// scaling down (lower cost first), as upstream's PodDeletionCost feature.
const DeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// IsActive tells whether a pod counts as a replica: not finished and not being deleted.
func IsActive(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil
}

// IsTerminating tells whether a pod is being deleted but still runs.
func IsTerminating(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp != nil
}

func readyCondition(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodReady {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// IsReady tells whether the pod's Ready condition is True.
func IsReady(p *corev1.Pod) bool {
	c := readyCondition(p)
	return c != nil && c.Status == corev1.ConditionTrue
}

// IsAvailable tells whether the pod has been ready for at least minReadySeconds at now.
func IsAvailable(p *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	if !IsReady(p) {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	since := readyCondition(p).LastTransitionTime
	return !since.IsZero() && since.Add(time.Duration(minReadySeconds)*time.Second).Before(now)
}

// untilAvailable is how long a ready pod has left before it counts as available, if any.
func untilAvailable(p *corev1.Pod, minReadySeconds int32, now time.Time) (time.Duration, bool) {
	if minReadySeconds <= 0 || !IsReady(p) {
		return 0, false
	}
	since := readyCondition(p).LastTransitionTime
	if since.IsZero() {
		return 0, false
	}
	left := since.Add(time.Duration(minReadySeconds) * time.Second).Sub(now)
	if left <= 0 {
		return 0, false
	}
	return left, true
}

// phaseOrder ranks phases for deletion: the earlier in a pod's life, the cheaper to delete.
var phaseOrder = map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}

// byDeletionPreference sorts pods so that the ones to delete first come
// first. Each rule decides only if the previous ones tie:
//  1. unscheduled before scheduled;
//  2. Pending before Unknown before Running;
//  3. not ready before ready;
//  4. lower pod-deletion-cost before higher;
//  5. more sibling pods on the same node (rank) before fewer;
//  6. ready for less time before ready for longer;
//  7. more container restarts before fewer;
//  8. newer before older.
//
// Times in 6 and 8 are compared on a log2 scale of their age, so that pods
// of similar age are interchangeable and are then ordered by UID: scaling
// down does not always hit the very newest pod.
type byDeletionPreference struct {
	pods []*corev1.Pod
	rank []int
	now  time.Time
}

func (s byDeletionPreference) Len() int { return len(s.pods) }

func (s byDeletionPreference) Swap(i, j int) {
	s.pods[i], s.pods[j] = s.pods[j], s.pods[i]
	s.rank[i], s.rank[j] = s.rank[j], s.rank[i]
}

func (s byDeletionPreference) Less(i, j int) bool {
	a, b := s.pods[i], s.pods[j]
	if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
		return a.Spec.NodeName == ""
	}
	if pa, pb := phaseOrder[a.Status.Phase], phaseOrder[b.Status.Phase]; pa != pb {
		return pa < pb
	}
	readyA, readyB := IsReady(a), IsReady(b)
	if readyA != readyB {
		return !readyA
	}
	if ca, cb := deletionCost(a), deletionCost(b); ca != cb {
		return ca < cb
	}
	if s.rank[i] != s.rank[j] {
		return s.rank[i] > s.rank[j]
	}
	if readyA && readyB {
		ta, tb := readyCondition(a).LastTransitionTime.Time, readyCondition(b).LastTransitionTime.Time
		if !ta.Equal(tb) {
			if newer, decided := s.newer(ta, tb, a, b); decided {
				return newer
			}
		}
	}
	if ra, rb := restarts(a), restarts(b); ra != rb {
		return ra > rb
	}
	if ta, tb := a.CreationTimestamp.Time, b.CreationTimestamp.Time; !ta.Equal(tb) {
		if newer, decided := s.newer(ta, tb, a, b); decided {
			return newer
		}
	}
	return false
}

// newer tells whether ta is more recent than tb (a zero time counts as the
// most recent), comparing ages on a log2 scale and breaking ties by UID.
func (s byDeletionPreference) newer(ta, tb time.Time, a, b *corev1.Pod) (bool, bool) {
	if ta.IsZero() || tb.IsZero() || s.now.IsZero() {
		if ta.IsZero() || tb.IsZero() {
			return ta.IsZero(), true
		}
		return ta.After(tb), true
	}
	la, lb := logAge(s.now.Sub(ta)), logAge(s.now.Sub(tb))
	if la == lb {
		return a.UID < b.UID, true
	}
	return la < lb, true
}

func logAge(d time.Duration) int64 {
	if d <= 0 {
		return -1
	}
	return int64(math.Log2(float64(d)))
}

func deletionCost(p *corev1.Pod) int64 {
	v, ok := p.Annotations[DeletionCostAnnotation]
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0
	}
	return n
}

// restarts is the highest restart count of the pod's containers, with
// sidecar (restartable init) containers as a tie breaker below it.
func restarts(p *corev1.Pod) int64 {
	var regular, sidecar int32
	for _, c := range p.Status.ContainerStatuses {
		regular = max(regular, c.RestartCount)
	}
	sidecars := map[string]bool{}
	for _, c := range p.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars[c.Name] = true
		}
	}
	for _, c := range p.Status.InitContainerStatuses {
		if sidecars[c.Name] {
			sidecar = max(sidecar, c.RestartCount)
		}
	}
	return int64(regular)<<32 | int64(sidecar)
}

// podKey names a pod in expectations.
func podKey(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }
