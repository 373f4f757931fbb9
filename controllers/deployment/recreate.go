package deployment

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// recreate scales every old ReplicaSet to zero, waits until none of their
// pods runs, and only then creates and scales up the new ReplicaSet.
func (r *rollout) recreate(ctx context.Context) error {
	// No new ReplicaSet yet: creating it now could start new pods beside old ones.
	newRS, old, err := r.replicaSets(ctx, false)
	if err != nil {
		return err
	}
	all := append(old, newRS)
	scaledDown := false
	for _, rs := range active(old) {
		scaled, _, err := r.scaleReplicaSet(ctx, rs, 0, false)
		if err != nil {
			return err
		}
		scaledDown = scaledDown || scaled
	}
	if scaledDown {
		return r.syncRolloutStatus(ctx, all, newRS)
	}
	pods, err := r.c.podsByReplicaSet(r.rsList)
	if err != nil {
		return err
	}
	if oldPodsRunning(newRS, old, pods) {
		return r.syncRolloutStatus(ctx, all, newRS)
	}
	if newRS == nil {
		if newRS, old, err = r.replicaSets(ctx, true); err != nil {
			return err
		}
		all = append(old, newRS)
	}
	if _, _, err := r.scaleReplicaSet(ctx, newRS, desired(r.d), false); err != nil {
		return err
	}
	if complete(r.d, &r.d.Status) {
		if err := r.cleanup(ctx, old); err != nil {
			return err
		}
	}
	return r.syncRolloutStatus(ctx, all, newRS)
}

// oldPodsRunning tells whether an old ReplicaSet still reports pods or
// still has a pod that has not finished.
func oldPodsRunning(newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet, pods map[types.UID][]*corev1.Pod) bool {
	for _, rs := range old {
		if rs.Status.Replicas > 0 {
			return true
		}
	}
	for uid, list := range pods {
		if newRS != nil && uid == newRS.UID {
			continue
		}
		for _, p := range list {
			if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
				return true
			}
		}
	}
	return false
}
