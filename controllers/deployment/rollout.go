package deployment

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// Reasons of the Progressing condition and of events.
const (
	NewReplicaSetReason     = "NewReplicaSetCreated"
	FoundNewReplicaSet      = "FoundNewReplicaSet"
	ReplicaSetUpdatedReason = "ReplicaSetUpdated"
	NewRSAvailableReason    = "NewReplicaSetAvailable"
	TimedOutReason          = "ProgressDeadlineExceeded"
	FailedRSCreateReason    = "ReplicaSetCreateError"
	PausedReason            = "DeploymentPaused"
	ResumedReason           = "DeploymentResumed"
	ScalingReplicaSetReason = "ScalingReplicaSet"
)

// rollout is one sync of one Deployment: d is a private copy, kept up to
// date with every status write; rsList are the ReplicaSets it controls.
type rollout struct {
	c      *Controller
	d      *appsv1.Deployment
	rsList []*appsv1.ReplicaSet
}

// replicaSets finds the new ReplicaSet (creating it if create is set and
// it is missing) and the old ones, and brings the revisions up to date: the
// new ReplicaSet gets one more than the highest old revision, and the
// Deployment gets the new ReplicaSet's.
func (r *rollout) replicaSets(ctx context.Context, create bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	d := r.d
	existing, old := splitReplicaSets(d, r.rsList)
	next := maxRevision(old) + 1

	if existing != nil {
		rs := existing.DeepCopy()
		annotated := annotateNewReplicaSet(d, rs, next, false)
		if annotated || rs.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
			rs.Spec.MinReadySeconds = d.Spec.MinReadySeconds
			// The update event brings the Deployment back to record the revision.
			updated, err := r.c.client.AppsV1().ReplicaSets(rs.Namespace).Update(ctx, rs, metav1.UpdateOptions{})
			if err != nil {
				return nil, nil, fmt.Errorf("updating replica set %s/%s: %w", rs.Namespace, rs.Name, err)
			}
			return updated, old, nil
		}
		changed := setRevision(d, rs.Annotations[RevisionAnnotation])
		if hasProgressDeadline(d) && getCondition(d.Status, appsv1.DeploymentProgressing) == nil {
			setCondition(&d.Status, r.condition(appsv1.DeploymentProgressing, corev1.ConditionTrue, FoundNewReplicaSet,
				fmt.Sprintf("Found new replica set %q", rs.Name)))
			changed = true
		}
		if changed {
			if err := r.c.updateStatus(ctx, d); err != nil {
				return nil, nil, err
			}
		}
		return rs, old, nil
	}
	if !create {
		return nil, old, nil
	}

	hash := TemplateHash(&d.Spec.Template, d.Status.CollisionCount)
	template := d.Spec.Template.DeepCopy()
	template.Labels = withLabel(template.Labels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	selector := d.Spec.Selector.DeepCopy()
	selector.MatchLabels = withLabel(selector.MatchLabels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            replicaSetName(d.Name, hash),
			Namespace:       d.Namespace,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, controllerKind)},
			Labels:          template.Labels,
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        ptr.To[int32](0),
			MinReadySeconds: d.Spec.MinReadySeconds,
			Selector:        selector,
			Template:        *template,
		},
	}
	n := newReplicaSetSize(d, append(old, rs), rs)
	rs.Spec.Replicas = &n
	annotateNewReplicaSet(d, rs, next, true)

	created, err := r.c.client.AppsV1().ReplicaSets(d.Namespace).Create(ctx, rs, metav1.CreateOptions{})
	alreadyExisted := false
	switch {
	case apierrors.IsAlreadyExists(err):
		// Either the cache has not shown our own ReplicaSet yet, or another
		// template hashed to the same name.
		found, getErr := r.c.replicaSets.ReplicaSets(rs.Namespace).Get(rs.Name)
		if getErr != nil {
			return nil, nil, err
		}
		if ref := metav1.GetControllerOfNoCopy(found); ref != nil && ref.UID == d.UID && equalIgnoreHash(&d.Spec.Template, &found.Spec.Template) {
			created, alreadyExisted, err = found, true, nil
			break
		}
		// A collision: a different hash next time.
		d.Status.CollisionCount = ptr.To(ptr.Deref(d.Status.CollisionCount, 0) + 1)
		if uErr := r.c.updateStatus(ctx, d); uErr == nil {
			klog.FromContext(ctx).V(2).Info("Hash collision, bumped collisionCount", "deployment", klog.KObj(d), "collisionCount", *d.Status.CollisionCount)
		}
		return nil, nil, err
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return nil, nil, err
	case err != nil:
		msg := fmt.Sprintf("Failed to create new replica set %q: %v", rs.Name, err)
		if hasProgressDeadline(d) {
			setCondition(&d.Status, r.condition(appsv1.DeploymentProgressing, corev1.ConditionFalse, FailedRSCreateReason, msg))
			// The creation error is the one worth returning.
			_ = r.c.updateStatus(ctx, d)
		}
		r.c.recorder.Eventf(d, corev1.EventTypeWarning, FailedRSCreateReason, "%s", msg)
		return nil, nil, err
	}
	if !alreadyExisted && n > 0 {
		r.c.recorder.Eventf(d, corev1.EventTypeNormal, ScalingReplicaSetReason, "Scaled up replica set %s from 0 to %d", created.Name, n)
	}
	changed := setRevision(d, strconv.FormatInt(next, 10))
	if !alreadyExisted && hasProgressDeadline(d) {
		setCondition(&d.Status, r.condition(appsv1.DeploymentProgressing, corev1.ConditionTrue, NewReplicaSetReason,
			fmt.Sprintf("Created new replica set %q", created.Name)))
		changed = true
	}
	if changed {
		if err := r.c.updateStatus(ctx, d); err != nil {
			return nil, nil, err
		}
	}
	return created, old, nil
}

func withLabel(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}

// scaleReplicaSet sets a ReplicaSet's size, and with it the Deployment's
// desired and maximum sizes in its annotations. Unless force is set it
// does nothing when the size is right already.
func (r *rollout) scaleReplicaSet(ctx context.Context, rs *appsv1.ReplicaSet, to int32, force bool) (bool, *appsv1.ReplicaSet, error) {
	from := size(rs)
	if !force && from == to {
		return false, rs, nil
	}
	d := r.d
	want, ceiling := desired(d), desired(d)+maxSurge(d)
	if from == to && !replicaAnnotationsStale(rs, want, ceiling) {
		return false, rs, nil
	}
	next := rs.DeepCopy()
	next.Spec.Replicas = &to
	setReplicaAnnotations(next, want, ceiling)
	updated, err := r.c.client.AppsV1().ReplicaSets(next.Namespace).Update(ctx, next, metav1.UpdateOptions{})
	if err != nil {
		return false, rs, fmt.Errorf("scaling replica set %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	if from == to {
		return false, updated, nil
	}
	direction := "up"
	if to < from {
		direction = "down"
	}
	r.c.recorder.Eventf(d, corev1.EventTypeNormal, ScalingReplicaSetReason, "Scaled %s replica set %s from %d to %d", direction, rs.Name, from, to)
	return true, updated, nil
}

// isScalingEvent tells whether the Deployment was resized since its active
// ReplicaSets were last sized (their desired-replicas annotation says so).
func (r *rollout) isScalingEvent(ctx context.Context) (bool, error) {
	newRS, old, err := r.replicaSets(ctx, false)
	if err != nil {
		return false, err
	}
	for _, rs := range active(append(old, newRS)) {
		if want, ok := int32Annotation(rs, DesiredReplicasAnnotation); ok && want != desired(r.d) {
			return true, nil
		}
	}
	return false, nil
}

// syncScale handles a resize (and paused Deployments, which only resize):
// no rollout progress, only sizes and status.
func (r *rollout) syncScale(ctx context.Context) error {
	newRS, old, err := r.replicaSets(ctx, false)
	if err != nil {
		return err
	}
	if err := r.scale(ctx, newRS, old); err != nil {
		return err
	}
	if r.d.Spec.Paused && rollbackTo(r.d) == nil {
		if err := r.cleanup(ctx, old); err != nil {
			return err
		}
	}
	return r.syncStatus(ctx, append(old, newRS), newRS)
}

func (r *rollout) syncStatusOnly(ctx context.Context) error {
	newRS, old, err := r.replicaSets(ctx, false)
	if err != nil {
		return err
	}
	return r.syncStatus(ctx, append(old, newRS), newRS)
}

// scale resizes the ReplicaSets to a new Deployment size. With one active
// ReplicaSet (or none) it takes the whole size. In the middle of a rolling
// update the change is spread over the active ReplicaSets in proportion to
// their sizes, so that neither the new template (perhaps broken) nor the
// old one gains ground just because the Deployment was resized.
func (r *rollout) scale(ctx context.Context, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) error {
	d := r.d
	if target := activeOrLatest(newRS, old); target != nil {
		if size(target) == desired(d) {
			return nil
		}
		_, _, err := r.scaleReplicaSet(ctx, target, desired(d), false)
		return err
	}
	// A new ReplicaSet that is complete makes the old ones redundant (this
	// happens after adopting ReplicaSets).
	if saturated(d, newRS) {
		for _, rs := range active(old) {
			if _, _, err := r.scaleReplicaSet(ctx, rs, 0, false); err != nil {
				return err
			}
		}
		return nil
	}
	if !isRolling(d) {
		return nil
	}
	all := active(append(old, newRS))
	var allowed int32
	if desired(d) > 0 {
		allowed = desired(d) + maxSurge(d)
	}
	toAdd := allowed - totalSize(all)
	sizes := proportionalSizes(d, all, toAdd)
	for _, rs := range all {
		if _, _, err := r.scaleReplicaSet(ctx, rs, sizes[rs.Name], true); err != nil {
			return err
		}
	}
	return nil
}

// proportionalSizes spreads toAdd (negative to remove) over the active
// ReplicaSets all, in proportion to their sizes; all is reordered so that
// the ReplicaSet taking the rounding leftover comes first: the biggest,
// the newest among equals when growing and the oldest when shrinking.
func proportionalSizes(d *appsv1.Deployment, all []*appsv1.ReplicaSet, toAdd int32) map[string]int32 {
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if size(a) != size(b) {
			return size(a) > size(b)
		}
		if toAdd > 0 {
			return createdBefore(b, a)
		}
		return createdBefore(a, b)
	})
	sizes := make(map[string]int32, len(all))
	var added int32
	for _, rs := range all {
		sizes[rs.Name] = size(rs)
		if toAdd == 0 {
			continue
		}
		share := proportion(d, rs, toAdd, added)
		sizes[rs.Name] += share
		added += share
	}
	if toAdd != 0 && len(all) > 0 {
		first := all[0].Name
		sizes[first] = max(sizes[first]+toAdd-added, 0)
	}
	return sizes
}

// proportion is rs's share of toAdd, of which added is already handed out.
func proportion(d *appsv1.Deployment, rs *appsv1.ReplicaSet, toAdd, added int32) int32 {
	if size(rs) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	share := fraction(d, rs)
	left := toAdd - added
	if toAdd > 0 {
		return min(share, left)
	}
	return max(share, left)
}

// fraction is how much rs should grow (or shrink) for its share of the
// Deployment's new maximum size, against the maximum it was sized for.
func fraction(d *appsv1.Deployment, rs *appsv1.ReplicaSet) int32 {
	if desired(d) == 0 {
		return -size(rs)
	}
	newMax := desired(d) + maxSurge(d)
	oldMax, ok := int32Annotation(rs, MaxReplicasAnnotation)
	if !ok || oldMax == 0 {
		oldMax = d.Status.Replicas
		if oldMax == 0 {
			return 0
		}
	}
	scaled := float64(size(rs)) * float64(newMax) / float64(oldMax)
	return int32(math.Round(scaled)) - size(rs)
}

// activeOrLatest is the only active ReplicaSet; with none active, the new
// one or else the newest old one; with several, nil.
func activeOrLatest(newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	if newRS == nil && len(old) == 0 {
		return nil
	}
	newestFirst := append([]*appsv1.ReplicaSet(nil), old...)
	sort.SliceStable(newestFirst, func(i, j int) bool { return createdBefore(newestFirst[j], newestFirst[i]) })
	all := active(append(newestFirst, newRS))
	switch len(all) {
	case 0:
		if newRS != nil {
			return newRS
		}
		return newestFirst[0]
	case 1:
		return all[0]
	}
	return nil
}

// saturated tells whether rs is the Deployment's full size, sized for it, and all available.
func saturated(d *appsv1.Deployment, rs *appsv1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	want, ok := int32Annotation(rs, DesiredReplicasAnnotation)
	return ok && size(rs) == desired(d) && want == desired(d) && rs.Status.AvailableReplicas == desired(d)
}

// cleanup deletes the oldest old ReplicaSets beyond revisionHistoryLimit,
// only those already scaled to zero and settled.
func (r *rollout) cleanup(ctx context.Context, old []*appsv1.ReplicaSet) error {
	d := r.d
	if d.Spec.RevisionHistoryLimit == nil || *d.Spec.RevisionHistoryLimit == math.MaxInt32 {
		return nil
	}
	var alive []*appsv1.ReplicaSet
	for _, rs := range old {
		if rs != nil && rs.DeletionTimestamp == nil {
			alive = append(alive, rs)
		}
	}
	excess := len(alive) - int(*d.Spec.RevisionHistoryLimit)
	if excess <= 0 {
		return nil
	}
	byRevision(alive)
	for _, rs := range alive[:excess] {
		if rs.Status.Replicas != 0 || size(rs) != 0 || rs.Generation > rs.Status.ObservedGeneration {
			continue
		}
		klog.FromContext(ctx).V(4).Info("Deleting old replica set", "deployment", klog.KObj(d), "replicaSet", klog.KObj(rs))
		err := r.c.client.AppsV1().ReplicaSets(rs.Namespace).Delete(ctx, rs.Name, metav1.DeleteOptions{Preconditions: metav1.NewUIDPreconditions(string(rs.UID))})
		if err != nil && !apierrors.IsNotFound(err) {
			// Stop at the first failure rather than hammer a struggling apiserver.
			return fmt.Errorf("deleting old replica set %s/%s: %w", rs.Namespace, rs.Name, err)
		}
	}
	return nil
}
