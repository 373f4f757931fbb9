package deployment

import (
	"context"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Reasons of rollback events. kubectl rollout undo patches the template
// itself; these serve the deprecated rollbackTo field, which the
// extensions and apps/v1beta1 APIs carry as an annotation.
const (
	RollbackRevisionNotFound  = "DeploymentRollbackRevisionNotFound"
	RollbackTemplateUnchanged = "DeploymentRollbackTemplateUnchanged"
	RollbackDone              = "DeploymentRollback"
)

// rollbackTo is the revision the deprecated rollback annotation asks for, if valid.
func rollbackTo(d *appsv1.Deployment) *int64 {
	v, ok := d.Annotations[appsv1.DeprecatedRollbackTo]
	if !ok {
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil
	}
	return &n
}

// rollback copies the template of the requested revision (0: the previous
// one) into the Deployment and clears the request; the next sync rolls it out.
func (r *rollout) rollback(ctx context.Context) error {
	d := r.d
	newRS, old, err := r.replicaSets(ctx, true)
	if err != nil {
		return err
	}
	all := append(old, newRS)
	to := *rollbackTo(d)
	if to == 0 {
		if to = previousRevision(all); to == 0 {
			r.c.recorder.Eventf(d, corev1.EventTypeWarning, RollbackRevisionNotFound, "Unable to find last revision.")
			return r.clearRollback(ctx)
		}
	}
	for _, rs := range all {
		if v, err := revision(rs); err != nil || v != to {
			continue
		}
		if equalIgnoreHash(&d.Spec.Template, &rs.Spec.Template) {
			r.c.recorder.Eventf(d, corev1.EventTypeWarning, RollbackTemplateUnchanged, "The rollback revision contains the same template as current deployment %q", d.Name)
			return r.clearRollback(ctx)
		}
		d.Spec.Template = *rs.Spec.Template.DeepCopy()
		delete(d.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
		// The revision's annotations come back with its template, as kubectl rollout undo does.
		kept := map[string]string{}
		for k, v := range d.Annotations {
			if notCopied[k] {
				kept[k] = v
			}
		}
		for k, v := range rs.Annotations {
			if !notCopied[k] {
				kept[k] = v
			}
		}
		d.Annotations = kept
		if err := r.clearRollback(ctx); err != nil {
			return err
		}
		r.c.recorder.Eventf(d, corev1.EventTypeNormal, RollbackDone, "Rolled back deployment %q to revision %d", d.Name, to)
		return nil
	}
	r.c.recorder.Eventf(d, corev1.EventTypeWarning, RollbackRevisionNotFound, "Unable to find the revision to rollback to.")
	return r.clearRollback(ctx)
}

func (r *rollout) clearRollback(ctx context.Context) error {
	d := r.d
	delete(d.Annotations, appsv1.DeprecatedRollbackTo)
	updated, err := r.c.client.AppsV1().Deployments(d.Namespace).Update(ctx, d, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("updating deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	*d = *updated
	return nil
}
