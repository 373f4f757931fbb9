package deployment

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
)

// rollingUpdate moves pods from the old ReplicaSets to the new one within
// maxSurge and maxUnavailable: one step per sync, either up or down.
func (r *rollout) rollingUpdate(ctx context.Context) error {
	newRS, old, err := r.replicaSets(ctx, true)
	if err != nil {
		return err
	}
	all := append(old, newRS)
	scaledUp, err := r.growNew(ctx, all, newRS)
	if err != nil {
		return err
	}
	if scaledUp {
		return r.syncRolloutStatus(ctx, all, newRS)
	}
	scaledDown, err := r.shrinkOld(ctx, all, active(old), newRS)
	if err != nil {
		return err
	}
	if scaledDown {
		return r.syncRolloutStatus(ctx, all, newRS)
	}
	if complete(r.d, &r.d.Status) {
		if err := r.cleanup(ctx, old); err != nil {
			return err
		}
	}
	return r.syncRolloutStatus(ctx, all, newRS)
}

// growNew takes the new ReplicaSet towards the desired size as far as the surge allows.
func (r *rollout) growNew(ctx context.Context, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (bool, error) {
	d := r.d
	switch {
	case size(newRS) == desired(d):
		return false, nil
	case size(newRS) > desired(d):
		scaled, _, err := r.scaleReplicaSet(ctx, newRS, desired(d), false)
		return scaled, err
	}
	scaled, _, err := r.scaleReplicaSet(ctx, newRS, newReplicaSetSize(d, all, newRS), false)
	return scaled, err
}

// shrinkOld scales old ReplicaSets down as far as availability allows:
// first their pods that are not available anyway, then available ones
// down to the minimum the Deployment must keep.
func (r *rollout) shrinkOld(ctx context.Context, all, old []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (bool, error) {
	if totalSize(old) == 0 {
		return false, nil
	}
	d := r.d
	minAvailable := desired(d) - maxUnavailable(d)
	// Unavailable pods of the new ReplicaSet count against the budget too:
	// when the new template is broken, old pods must not make way for it.
	newUnavailable := size(newRS) - newRS.Status.AvailableReplicas
	budget := totalSize(all) - minAvailable - newUnavailable
	if budget <= 0 {
		return false, nil
	}
	old, cleaned, err := r.dropUnhealthy(ctx, old, budget)
	if err != nil {
		return false, err
	}
	shrunk, err := r.shrinkAvailable(ctx, append(old, newRS), old)
	if err != nil {
		return false, err
	}
	return cleaned+shrunk > 0, nil
}

// dropUnhealthy scales old ReplicaSets down by their unavailable pods,
// oldest first, up to budget: losing them costs no availability, and
// waiting for them could stall the rollout. The ReplicaSet controller
// deletes the unready pods first.
func (r *rollout) dropUnhealthy(ctx context.Context, old []*appsv1.ReplicaSet, budget int32) ([]*appsv1.ReplicaSet, int32, error) {
	old = append([]*appsv1.ReplicaSet(nil), old...)
	byCreation(old)
	var total int32
	for i, rs := range old {
		if total >= budget {
			break
		}
		unhealthy := size(rs) - rs.Status.AvailableReplicas
		if size(rs) == 0 || unhealthy <= 0 {
			continue
		}
		n := min(budget-total, unhealthy)
		_, updated, err := r.scaleReplicaSet(ctx, rs, size(rs)-n, false)
		if err != nil {
			return nil, total, err
		}
		total += n
		old[i] = updated
	}
	return old, total, nil
}

// shrinkAvailable scales old ReplicaSets down, oldest first, by as many
// pods as are available beyond the minimum.
func (r *rollout) shrinkAvailable(ctx context.Context, all, old []*appsv1.ReplicaSet) (int32, error) {
	d := r.d
	minAvailable := desired(d) - maxUnavailable(d)
	var available int32
	for _, rs := range all {
		if rs != nil {
			available += rs.Status.AvailableReplicas
		}
	}
	if available <= minAvailable {
		return 0, nil
	}
	byCreation(old)
	budget := available - minAvailable
	var total int32
	for _, rs := range old {
		if total >= budget {
			break
		}
		if size(rs) == 0 {
			continue
		}
		n := min(size(rs), budget-total)
		if _, _, err := r.scaleReplicaSet(ctx, rs, size(rs)-n, false); err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
