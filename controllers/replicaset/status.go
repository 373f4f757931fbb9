package replicaset

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
)

// Reasons of the ReplicaFailure condition, and of the events of failed creations and deletions.
const (
	FailedCreateReason = "FailedCreate"
	FailedDeleteReason = "FailedDelete"
)

// computeStatus is the status rs should have given its claimed active pods,
// the terminating pods it controls (nil when the kind does not count them)
// and the error of the last attempt to create or delete pods.
func computeStatus(rs *appsv1.ReplicaSet, active, terminating []*corev1.Pod, countTerminating bool, manageErr error, now time.Time) appsv1.ReplicaSetStatus {
	st := *rs.Status.DeepCopy()
	templateLabels := labels.SelectorFromSet(rs.Spec.Template.Labels)
	var fullyLabeled, ready, available int32
	for _, p := range active {
		if templateLabels.Matches(labels.Set(p.Labels)) {
			fullyLabeled++
		}
		if IsReady(p) {
			ready++
			if IsAvailable(p, rs.Spec.MinReadySeconds, now) {
				available++
			}
		}
	}
	st.Replicas = int32(len(active))
	st.FullyLabeledReplicas = fullyLabeled
	st.ReadyReplicas = ready
	st.AvailableReplicas = available
	st.TerminatingReplicas = nil
	if countTerminating {
		st.TerminatingReplicas = ptr.To(int32(len(terminating)))
	}

	failure := condition(st.Conditions, appsv1.ReplicaSetReplicaFailure)
	switch {
	case manageErr != nil && failure == nil:
		reason := FailedCreateReason
		if len(active) > int(replicas(rs)) {
			reason = FailedDeleteReason
		}
		st.Conditions = append(st.Conditions, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(now), Reason: reason, Message: manageErr.Error(),
		})
	case manageErr == nil && failure != nil:
		st.Conditions = withoutCondition(st.Conditions, appsv1.ReplicaSetReplicaFailure)
	}
	return st
}

func condition(conds []appsv1.ReplicaSetCondition, t appsv1.ReplicaSetConditionType) *appsv1.ReplicaSetCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

func withoutCondition(conds []appsv1.ReplicaSetCondition, t appsv1.ReplicaSetConditionType) []appsv1.ReplicaSetCondition {
	var out []appsv1.ReplicaSetCondition
	for _, c := range conds {
		if c.Type != t {
			out = append(out, c)
		}
	}
	return out
}

func replicas(rs *appsv1.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}

// writeStatus stores st (with the observed generation) unless rs has it
// already, retrying once on a conflict with a fresh copy from the apiserver.
func (c *Controller) writeStatus(ctx context.Context, rs *appsv1.ReplicaSet, st appsv1.ReplicaSetStatus) (*appsv1.ReplicaSet, error) {
	st.ObservedGeneration = rs.Generation
	if apiequality.Semantic.DeepEqual(rs.Status, st) {
		return rs, nil
	}
	for attempt := 0; ; attempt++ {
		next := rs.DeepCopy()
		next.Status = st
		updated, err := c.owners.UpdateStatus(ctx, next)
		if err == nil {
			return updated, nil
		}
		if !apierrors.IsConflict(err) || attempt > 0 {
			return nil, fmt.Errorf("updating status of %s %s/%s: %w", c.kind.Kind, rs.Namespace, rs.Name, err)
		}
		if rs, err = c.owners.Fetch(ctx, rs.Namespace, rs.Name); err != nil {
			return nil, err
		}
		st.ObservedGeneration = rs.Generation
	}
}

// nextAvailabilityCheck is when a ready pod that is not available yet will
// become available, if any: the status must be recomputed then, as no
// event will announce it.
func nextAvailabilityCheck(rs *appsv1.ReplicaSet, pods []*corev1.Pod, now time.Time) (time.Duration, bool) {
	if rs.Spec.MinReadySeconds <= 0 || rs.Status.ReadyReplicas == rs.Status.AvailableReplicas {
		return 0, false
	}
	soonest, found := time.Duration(rs.Spec.MinReadySeconds)*time.Second, false
	for _, p := range pods {
		if left, ok := untilAvailable(p, rs.Spec.MinReadySeconds, now); ok && (!found || left < soonest) {
			soonest, found = left, true
		}
	}
	return soonest, true
}
