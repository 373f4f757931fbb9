package deployment

import (
	"context"
	"fmt"
	"math"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Reasons of the Available condition.
const (
	MinimumReplicasAvailable   = "MinimumReplicasAvailable"
	MinimumReplicasUnavailable = "MinimumReplicasUnavailable"
)

func hasProgressDeadline(d *appsv1.Deployment) bool {
	return d.Spec.ProgressDeadlineSeconds != nil && *d.Spec.ProgressDeadlineSeconds != math.MaxInt32
}

func (r *rollout) condition(t appsv1.DeploymentConditionType, status corev1.ConditionStatus, reason, msg string) appsv1.DeploymentCondition {
	now := metav1.NewTime(r.c.now())
	return appsv1.DeploymentCondition{Type: t, Status: status, Reason: reason, Message: msg, LastUpdateTime: now, LastTransitionTime: now}
}

func getCondition(st appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			c := st.Conditions[i]
			return &c
		}
	}
	return nil
}

// setCondition replaces the condition of c's type unless it already has
// c's status and reason; an unchanged status keeps its transition time.
func setCondition(st *appsv1.DeploymentStatus, c appsv1.DeploymentCondition) {
	cur := getCondition(*st, c.Type)
	if cur != nil && cur.Status == c.Status && cur.Reason == c.Reason {
		return
	}
	if cur != nil && cur.Status == c.Status {
		c.LastTransitionTime = cur.LastTransitionTime
	}
	removeCondition(st, c.Type)
	st.Conditions = append(st.Conditions, c)
}

func removeCondition(st *appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) {
	var kept []appsv1.DeploymentCondition
	for _, c := range st.Conditions {
		if c.Type != t {
			kept = append(kept, c)
		}
	}
	st.Conditions = kept
}

// syncPausedCondition records pausing and resuming in the Progressing
// condition, so that the time spent paused does not count against the
// progress deadline.
func (r *rollout) syncPausedCondition(ctx context.Context) error {
	d := r.d
	if !hasProgressDeadline(d) {
		return nil
	}
	cur := getCondition(d.Status, appsv1.DeploymentProgressing)
	if cur != nil && cur.Reason == TimedOutReason {
		return nil // a timeout stays reported until the rollout moves again
	}
	paused := cur != nil && cur.Reason == PausedReason
	switch {
	case d.Spec.Paused && !paused:
		setCondition(&d.Status, r.condition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, PausedReason, "Deployment is paused"))
	case !d.Spec.Paused && paused:
		setCondition(&d.Status, r.condition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ResumedReason, "Deployment is resumed"))
	default:
		return nil
	}
	return r.c.updateStatus(ctx, d)
}

// computeStatus sums the ReplicaSets' statuses and sets the Available condition.
func (r *rollout) computeStatus(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) appsv1.DeploymentStatus {
	d := r.d
	var replicas, ready, available int32
	for _, rs := range all {
		if rs == nil {
			continue
		}
		replicas += rs.Status.Replicas
		ready += rs.Status.ReadyReplicas
		available += rs.Status.AvailableReplicas
	}
	st := appsv1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            replicas,
		ReadyReplicas:       ready,
		AvailableReplicas:   available,
		UnavailableReplicas: max(totalSize(all)-available, 0),
		TerminatingReplicas: terminatingReplicas(all),
		CollisionCount:      d.Status.CollisionCount,
		Conditions:          append([]appsv1.DeploymentCondition(nil), d.Status.Conditions...),
	}
	if newRS != nil {
		st.UpdatedReplicas = newRS.Status.Replicas
	}
	if available >= desired(d)-maxUnavailable(d) {
		setCondition(&st, r.condition(appsv1.DeploymentAvailable, corev1.ConditionTrue, MinimumReplicasAvailable, "Deployment has minimum availability."))
	} else {
		setCondition(&st, r.condition(appsv1.DeploymentAvailable, corev1.ConditionFalse, MinimumReplicasUnavailable, "Deployment does not have minimum availability."))
	}
	return st
}

// terminatingReplicas sums the ReplicaSets' terminating pods; unknown (nil)
// if a ReplicaSet that has reported a status does not count them.
func terminatingReplicas(all []*appsv1.ReplicaSet) *int32 {
	var n int32
	for _, rs := range all {
		switch {
		case rs == nil:
		case rs.Status.TerminatingReplicas != nil:
			n += *rs.Status.TerminatingReplicas
		case rs.Status.ObservedGeneration != 0:
			return nil
		}
	}
	return &n
}

// syncStatus writes the computed status if it changed.
func (r *rollout) syncStatus(ctx context.Context, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) error {
	st := r.computeStatus(all, newRS)
	if apiequality.Semantic.DeepEqual(r.d.Status, st) {
		return nil
	}
	r.d.Status = st
	return r.c.updateStatus(ctx, r.d)
}

// complete tells whether st shows the Deployment fully rolled out.
func complete(d *appsv1.Deployment, st *appsv1.DeploymentStatus) bool {
	return st.UpdatedReplicas == desired(d) && st.Replicas == desired(d) && st.AvailableReplicas == desired(d) &&
		st.ObservedGeneration >= d.Generation
}

// progressed tells whether st shows progress over the Deployment's current status.
func progressed(d *appsv1.Deployment, st *appsv1.DeploymentStatus) bool {
	old := d.Status
	return st.UpdatedReplicas > old.UpdatedReplicas ||
		st.Replicas-st.UpdatedReplicas < old.Replicas-old.UpdatedReplicas ||
		st.ReadyReplicas > old.ReadyReplicas ||
		st.AvailableReplicas > old.AvailableReplicas
}

// timedOut tells whether the last progress is older than the deadline.
func (r *rollout) timedOut(st *appsv1.DeploymentStatus) bool {
	d := r.d
	if !hasProgressDeadline(d) {
		return false
	}
	c := getCondition(*st, appsv1.DeploymentProgressing)
	switch {
	case c == nil || c.Reason == NewRSAvailableReason:
		return false
	case c.Reason == TimedOutReason:
		return true
	}
	return c.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Before(r.c.now())
}

// syncRolloutStatus writes the status during a rollout, with the
// Progressing condition: complete, progressing (a fresh update time), or
// past its deadline; and the new (else any) ReplicaSet's ReplicaFailure.
func (r *rollout) syncRolloutStatus(ctx context.Context, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) error {
	d := r.d
	st := r.computeStatus(all, newRS)
	if !hasProgressDeadline(d) {
		removeCondition(&st, appsv1.DeploymentProgressing)
	}
	cur := getCondition(d.Status, appsv1.DeploymentProgressing)
	done := st.Replicas == st.UpdatedReplicas && cur != nil && cur.Reason == NewRSAvailableReason
	if hasProgressDeadline(d) && !done {
		what := fmt.Sprintf("Deployment %q", d.Name)
		if newRS != nil {
			what = fmt.Sprintf("ReplicaSet %q", newRS.Name)
		}
		switch {
		case complete(d, &st):
			setCondition(&st, r.condition(appsv1.DeploymentProgressing, corev1.ConditionTrue, NewRSAvailableReason, what+" has successfully progressed."))
		case progressed(d, &st):
			// Progress refreshes the update time even with an unchanged
			// reason: the deadline counts from the last progress.
			c := r.condition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReplicaSetUpdatedReason, what+" is progressing.")
			if cur != nil && cur.Status == corev1.ConditionTrue {
				c.LastTransitionTime = cur.LastTransitionTime
			}
			removeCondition(&st, appsv1.DeploymentProgressing)
			setCondition(&st, c)
		case r.timedOut(&st):
			setCondition(&st, r.condition(appsv1.DeploymentProgressing, corev1.ConditionFalse, TimedOutReason, what+" has timed out progressing."))
		}
	}
	if failure := replicaFailure(all, newRS); failure != nil {
		setCondition(&st, *failure)
	} else {
		removeCondition(&st, appsv1.DeploymentReplicaFailure)
	}
	if apiequality.Semantic.DeepEqual(d.Status, st) {
		r.requeueForDeadline(st)
		return nil
	}
	d.Status = st
	return r.c.updateStatus(ctx, d)
}

// replicaFailure is the ReplicaFailure of the new ReplicaSet, else of any, as a Deployment condition.
func replicaFailure(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) *appsv1.DeploymentCondition {
	for _, rs := range append([]*appsv1.ReplicaSet{newRS}, all...) {
		if rs == nil {
			continue
		}
		for _, c := range rs.Status.Conditions {
			if c.Type == appsv1.ReplicaSetReplicaFailure {
				return &appsv1.DeploymentCondition{
					Type: appsv1.DeploymentReplicaFailure, Status: c.Status, Reason: c.Reason, Message: c.Message,
					LastUpdateTime: c.LastTransitionTime, LastTransitionTime: c.LastTransitionTime,
				}
			}
		}
	}
	return nil
}

// requeueForDeadline looks at a stalled rollout again when its progress
// deadline passes: no event would announce that.
func (r *rollout) requeueForDeadline(st appsv1.DeploymentStatus) {
	d := r.d
	cur := getCondition(d.Status, appsv1.DeploymentProgressing)
	if !hasProgressDeadline(d) || cur == nil || cur.Reason == TimedOutReason || complete(d, &st) {
		return
	}
	after := cur.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Sub(r.c.now())
	// A second late rather than a moment early, and never a tight loop.
	r.c.loop.AddAfter(r.c.keyOf(d), max(after, 0)+time.Second)
}
