package deployment

import (
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Annotations the controller keeps on Deployments and their ReplicaSets;
// kubectl rollout history and undo read them.
const (
	RevisionAnnotation        = "deployment.kubernetes.io/revision"
	RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	MaxReplicasAnnotation     = "deployment.kubernetes.io/max-replicas"
)

// maxRevisionHistory bounds the revision-history annotation (in characters).
const maxRevisionHistory = 2000

// notCopied are the Deployment annotations that stay off its ReplicaSets:
// they describe the Deployment or its rollout, not a pod template.
var notCopied = map[string]bool{
	corev1.LastAppliedConfigAnnotation: true,
	RevisionAnnotation:                 true,
	RevisionHistoryAnnotation:          true,
	DesiredReplicasAnnotation:          true,
	MaxReplicasAnnotation:              true,
	appsv1.DeprecatedRollbackTo:        true,
}

// revision reads the revision annotation; absent is revision 0.
func revision(obj metav1.Object) (int64, error) {
	v, ok := obj.GetAnnotations()[RevisionAnnotation]
	if !ok {
		return 0, nil
	}
	return strconv.ParseInt(v, 10, 64)
}

// maxRevision is the highest revision among rss, ignoring unparsable ones.
func maxRevision(rss []*appsv1.ReplicaSet) int64 {
	var top int64
	for _, rs := range rss {
		if v, err := revision(rs); err == nil && v > top {
			top = v
		}
	}
	return top
}

// previousRevision is the second highest revision among rss (0 if none).
func previousRevision(rss []*appsv1.ReplicaSet) int64 {
	var top, second int64
	for _, rs := range rss {
		v, err := revision(rs)
		if err != nil {
			continue
		}
		switch {
		case v >= top:
			second, top = top, v
		case v > second:
			second = v
		}
	}
	return second
}

// equalIgnoreHash compares pod templates without the pod-template-hash label.
func equalIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	a, b = a.DeepCopy(), b.DeepCopy()
	delete(a.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	delete(b.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	return apiequality.Semantic.DeepEqual(a, b)
}

// byCreation orders ReplicaSets oldest first, by name among equals.
func byCreation(rss []*appsv1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool { return createdBefore(rss[i], rss[j]) })
}

// byRevision orders ReplicaSets oldest revision first, by creation among
// equal or unreadable revisions.
func byRevision(rss []*appsv1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool {
		a, errA := revision(rss[i])
		b, errB := revision(rss[j])
		if errA == nil && errB == nil && a != b {
			return a < b
		}
		return createdBefore(rss[i], rss[j])
	})
}

func createdBefore(a, b *appsv1.ReplicaSet) bool {
	if a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.Name < b.Name
	}
	return a.CreationTimestamp.Before(&b.CreationTimestamp)
}

// splitReplicaSets finds the ReplicaSet whose template is the Deployment's
// (the oldest, if several are) and returns it with all the others.
func splitReplicaSets(d *appsv1.Deployment, rss []*appsv1.ReplicaSet) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet) {
	sorted := append([]*appsv1.ReplicaSet(nil), rss...)
	byCreation(sorted)
	var newRS *appsv1.ReplicaSet
	var old []*appsv1.ReplicaSet
	for _, rs := range sorted {
		if newRS == nil && equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			newRS = rs
			continue
		}
		old = append(old, rs)
	}
	return newRS, old
}

// active keeps the ReplicaSets that ask for pods.
func active(rss []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, rs := range rss {
		if rs != nil && size(rs) > 0 {
			out = append(out, rs)
		}
	}
	return out
}

// annotateNewReplicaSet brings the new ReplicaSet's annotations up to
// date: the Deployment's own annotations, the revision (moving the one it
// had into revision-history when it is reused by a rollback) and, for a
// ReplicaSet about to be created, the replica annotations. It reports
// whether anything changed.
func annotateNewReplicaSet(d *appsv1.Deployment, rs *appsv1.ReplicaSet, newRevision int64, creating bool) bool {
	changed := false
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	for k, v := range d.Annotations {
		if notCopied[k] {
			continue
		}
		if cur, ok := rs.Annotations[k]; !ok || cur != v {
			rs.Annotations[k] = v
			changed = true
		}
	}
	oldText, had := rs.Annotations[RevisionAnnotation]
	old, err := strconv.ParseInt(oldText, 10, 64)
	if err != nil && had {
		// Someone wrote garbage there; leave the revision alone rather than guess.
		return changed
	}
	if old < newRevision {
		rs.Annotations[RevisionAnnotation] = strconv.FormatInt(newRevision, 10)
		changed = true
		if had {
			rs.Annotations[RevisionHistoryAnnotation] = appendHistory(rs.Annotations[RevisionHistoryAnnotation], oldText)
		}
	}
	if creating && setReplicaAnnotations(rs, desired(d), desired(d)+maxSurge(d)) {
		changed = true
	}
	return changed
}

// appendHistory adds rev to a comma-separated revision history, dropping
// the oldest entries to stay within maxRevisionHistory characters.
func appendHistory(history, rev string) string {
	if history == "" {
		return rev
	}
	entries := strings.Split(history, ",")
	total := len(history) + 1 + len(rev)
	for total > maxRevisionHistory && len(entries) > 0 {
		total -= len(entries[0]) + 1
		entries = entries[1:]
	}
	if total > maxRevisionHistory {
		return history
	}
	return strings.Join(append(entries, rev), ",")
}

// setReplicaAnnotations records the Deployment's desired and maximum
// sizes on a ReplicaSet; proportional scaling reads them back.
func setReplicaAnnotations(rs *appsv1.ReplicaSet, desired, maximum int32) bool {
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	changed := false
	for k, v := range map[string]string{DesiredReplicasAnnotation: strconv.Itoa(int(desired)), MaxReplicasAnnotation: strconv.Itoa(int(maximum))} {
		if rs.Annotations[k] != v {
			rs.Annotations[k] = v
			changed = true
		}
	}
	return changed
}

func replicaAnnotationsStale(rs *appsv1.ReplicaSet, desired, maximum int32) bool {
	return rs.Annotations[DesiredReplicasAnnotation] != strconv.Itoa(int(desired)) ||
		rs.Annotations[MaxReplicasAnnotation] != strconv.Itoa(int(maximum))
}

// int32Annotation reads a non-negative int32 annotation.
func int32Annotation(rs *appsv1.ReplicaSet, key string) (int32, bool) {
	v, ok := rs.Annotations[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 31)
	if err != nil {
		return 0, false
	}
	return int32(n), true
}

// setRevision records the revision on the Deployment; true if it changed.
func setRevision(d *appsv1.Deployment, rev string) bool {
	if d.Annotations[RevisionAnnotation] == rev {
		return false
	}
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[RevisionAnnotation] = rev
	return true
}
