package pod

import (
	"context"
	"fmt"
	"reflect"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/util/retry"
)

// MaxDisruptedPodSize is how many not yet confirmed evictions a PDB may
// record before eviction refuses more.
const MaxDisruptedPodSize = 2000

// EvictionsRetry is how eviction retries conflicting writes.
var EvictionsRetry = wait.Backoff{Steps: 20, Duration: 500 * time.Millisecond, Factor: 1.0, Jitter: 0.1}

// PodDisruptionBudgets is eviction's access to the policy/v1
// PodDisruptionBudget storage: the main endpoint to read, and the status
// subresource to record disruptions.
type PodDisruptionBudgets struct {
	Reader interface {
		rest.Getter
		rest.Lister
	}
	Status rest.Updater
}

var (
	policyResource = schema.GroupResource{Group: policyv1.GroupName, Resource: "poddisruptionbudget"}
	v1Eviction     = policyv1.SchemeGroupVersion.WithKind("Eviction")
)

// EvictionREST serves pods/eviction: it deletes a pod unless that would
// violate the PodDisruptionBudget covering it.
type EvictionREST struct {
	pods   rest.GracefulDeleter
	getter rest.Getter
	status rest.Updater
	pdbs   PodDisruptionBudgets
	// Retry is the backoff for conflicting writes.
	Retry wait.Backoff
}

var (
	_ rest.NamedCreater             = &EvictionREST{}
	_ rest.GroupVersionKindProvider = &EvictionREST{}
	_ rest.GroupVersionAcceptor     = &EvictionREST{}
)

// podStore is what eviction needs of the pod storage.
type podStore interface {
	rest.Getter
	rest.GracefulDeleter
}

// NewEvictionREST builds the eviction endpoint over the pod storage, its
// status subresource and the PDB storage.
func NewEvictionREST(pods podStore, status rest.Updater, pdbs PodDisruptionBudgets) *EvictionREST {
	return &EvictionREST{pods: pods, getter: pods, status: status, pdbs: pdbs, Retry: EvictionsRetry}
}

func (r *EvictionREST) New() runtime.Object { return &policyv1.Eviction{} }
func (r *EvictionREST) Destroy()            {}

// GroupVersionKind is policy/v1 Eviction whatever group serves pods.
func (r *EvictionREST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return v1Eviction
}

// AcceptsGroupVersion takes policy/v1 Evictions.
func (r *EvictionREST) AcceptsGroupVersion(gv schema.GroupVersion) bool {
	return gv == policyv1.SchemeGroupVersion
}

func propagateDryRun(e *policyv1.Eviction, options *metav1.CreateOptions) (*metav1.DeleteOptions, error) {
	if e.DeleteOptions == nil {
		return &metav1.DeleteOptions{DryRun: options.DryRun}, nil
	}
	if len(e.DeleteOptions.DryRun) == 0 {
		e.DeleteOptions.DryRun = options.DryRun
		return e.DeleteOptions, nil
	}
	if len(options.DryRun) == 0 {
		return e.DeleteOptions, nil
	}
	if !reflect.DeepEqual(options.DryRun, e.DeleteOptions.DryRun) {
		return nil, fmt.Errorf("Non-matching dry-run options in request and content: %v and %v", options.DryRun, e.DeleteOptions.DryRun)
	}
	return e.DeleteOptions, nil
}

// Create evicts the pod named in the URL.
func (r *EvictionREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	eviction, ok := obj.(*policyv1.Eviction)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a Eviction object: %T", obj))
	}
	if name != eviction.Name {
		return nil, apierrors.NewBadRequest("name in URL does not match name in Eviction object")
	}
	if o := eviction.DeleteOptions; o != nil && o.IgnoreStoreReadErrorWithClusterBreakingPotential != nil && *o.IgnoreStoreReadErrorWithClusterBreakingPotential {
		return nil, apierrors.NewInvalid(v1Eviction.GroupKind(), name, field.ErrorList{
			field.Invalid(field.NewPath("deleteOptions", "ignoreStoreReadErrorWithClusterBreakingPotential"), true, "can not be set for pod eviction, try after removing the option"),
		})
	}
	if options == nil {
		options = &metav1.CreateOptions{}
	}
	deleteOptions, err := propagateDryRun(eviction, options)
	if err != nil {
		return nil, err
	}
	if createValidation != nil {
		if err := createValidation(ctx, eviction.DeepCopyObject()); err != nil {
			return nil, err
		}
	}

	var pod *corev1.Pod
	deleted := false
	shouldRetry := apierrors.IsConflict
	if !rvUnset(deleteOptions) {
		shouldRetry = func(error) bool { return false }
	}
	err = retry.OnError(r.Retry, shouldRetry, func() error {
		obj, err := r.getter.Get(ctx, name, &metav1.GetOptions{})
		if err != nil {
			return err
		}
		pod = obj.(*corev1.Pod)
		if !canIgnorePDB(pod) {
			return nil
		}
		opts := deleteOptions
		if shouldEnforceResourceVersion(pod) && rvUnset(deleteOptions) {
			opts = opts.DeepCopy()
			setPreconditionsResourceVersion(opts, pod.ResourceVersion)
		}
		if err := r.addConditionAndDelete(ctx, name, opts); err != nil {
			return err
		}
		deleted = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	if deleted {
		return &metav1.Status{Status: metav1.StatusSuccess}, nil
	}

	pdbs, err := r.matchingPDBs(ctx, pod)
	if err != nil {
		return nil, err
	}
	if len(pdbs) > 1 {
		return &metav1.Status{
			Status:  metav1.StatusFailure,
			Message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
			Code:    500,
		}, nil
	}
	pdbName := ""
	unhealthyDelete := false
	if len(pdbs) == 1 {
		pdb := &pdbs[0]
		pdbName = pdb.Name
		switch {
		case !podReady(pod) && pdb.Spec.UnhealthyPodEvictionPolicy != nil && *pdb.Spec.UnhealthyPodEvictionPolicy == policyv1.AlwaysAllow:
			// An unready pod does not count as healthy: deleting it disrupts nothing.
			unhealthyDelete = true
		case !podReady(pod) && pdb.Status.CurrentHealthy >= pdb.Status.DesiredHealthy && pdb.Status.DesiredHealthy > 0:
			unhealthyDelete = true
		default:
			refresh := false
			err = retry.RetryOnConflict(r.Retry, func() error {
				if refresh {
					obj, err := r.pdbs.Reader.Get(ctx, pdbName, &metav1.GetOptions{})
					if err != nil {
						return err
					}
					pdb = obj.(*policyv1.PodDisruptionBudget)
				}
				if err := r.checkAndDecrement(ctx, pod.Name, *pdb, len(deleteOptions.DryRun) > 0); err != nil {
					refresh = true
					return err
				}
				return nil
			})
			if wait.Interrupted(err) {
				err = apierrors.NewTimeoutError(fmt.Sprintf("couldn't update PodDisruptionBudget %q due to conflicts", pdbName), 10)
			}
			if err != nil {
				return nil, err
			}
		}
	}

	opts := deleteOptions
	if unhealthyDelete {
		opts = opts.DeepCopy()
		setPreconditionsResourceVersion(opts, pod.ResourceVersion)
	}
	if err := r.addConditionAndDelete(ctx, name, opts); err != nil {
		if apierrors.IsConflict(err) && unhealthyDelete && rvUnset(deleteOptions) {
			return nil, tooManyRequests(pdbName)
		}
		return nil, err
	}
	return &metav1.Status{Status: metav1.StatusSuccess}, nil
}

// addConditionAndDelete marks the pod DisruptionTarget (unless dry run)
// and deletes it through the pod storage, gracefully.
func (r *EvictionREST) addConditionAndDelete(ctx context.Context, name string, options *metav1.DeleteOptions) error {
	if len(options.DryRun) == 0 {
		pre := options.Preconditions
		latest := func(_ context.Context, _, oldObj runtime.Object) (runtime.Object, error) {
			pod := oldObj.(*corev1.Pod).DeepCopy()
			if pre != nil {
				podResource := schema.GroupResource{Resource: "Pod"}
				if uid := pre.UID; uid != nil && *uid != "" && *uid != pod.UID {
					return nil, apierrors.NewConflict(podResource, pod.Name, fmt.Errorf(
						"the UID in the precondition (%s) does not match the UID in record (%s). The object might have been deleted and then recreated", *uid, pod.UID))
				}
				if rv := pre.ResourceVersion; rv != nil && *rv != "" && *rv != pod.ResourceVersion {
					return nil, apierrors.NewConflict(podResource, pod.Name, fmt.Errorf(
						"the ResourceVersion in the precondition (%s) does not match the ResourceVersion in record (%s). The object might have been modified", *rv, pod.ResourceVersion))
				}
			}
			return pod, nil
		}
		appendCondition := func(_ context.Context, obj, _ runtime.Object) (runtime.Object, error) {
			pod := obj.(*corev1.Pod)
			updatePodCondition(&pod.Status, corev1.PodCondition{
				Type:    corev1.DisruptionTarget,
				Status:  corev1.ConditionTrue,
				Reason:  "EvictionByEvictionAPI",
				Message: "Eviction API: evicting",
			})
			return pod, nil
		}
		obj, _, err := r.status.Update(ctx, name, rest.DefaultUpdatedObjectInfo(nil, latest, appendCondition),
			rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
		if err != nil {
			return err
		}
		if !rvUnset(options) {
			// The condition write moved the pod on: follow it.
			m, err := meta.Accessor(obj)
			if err != nil {
				return err
			}
			options = options.DeepCopy()
			setPreconditionsResourceVersion(options, m.GetResourceVersion())
		}
	}
	_, _, err := r.pods.Delete(ctx, name, rest.ValidateAllObjectFunc, options)
	return err
}

// checkAndDecrement takes one disruption from the budget, recording the
// pod as disrupted in the PDB status.
func (r *EvictionREST) checkAndDecrement(ctx context.Context, podName string, pdb policyv1.PodDisruptionBudget, dryRun bool) error {
	if pdb.Status.ObservedGeneration < pdb.Generation {
		return tooManyRequests(pdb.Name)
	}
	if pdb.Status.DisruptionsAllowed < 0 {
		return apierrors.NewForbidden(policyResource, pdb.Name, fmt.Errorf("pdb disruptions allowed is negative"))
	}
	if len(pdb.Status.DisruptedPods) > MaxDisruptedPodSize {
		return apierrors.NewForbidden(policyResource, pdb.Name, fmt.Errorf("DisruptedPods map too big - too many evictions not confirmed by PDB controller"))
	}
	if pdb.Status.DisruptionsAllowed == 0 {
		err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0)
		err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{
			Type: policyv1.DisruptionBudgetCause, Message: zeroBudgetMessage(&pdb),
		})
		return err
	}
	pdb.Status.DisruptionsAllowed--
	if pdb.Status.DisruptionsAllowed == 0 {
		setDisruptionAllowedCondition(&pdb)
	}
	if dryRun {
		return nil
	}
	if pdb.Status.DisruptedPods == nil {
		pdb.Status.DisruptedPods = map[string]metav1.Time{}
	}
	pdb.Status.DisruptedPods[podName] = metav1.Now()
	_, _, err := r.pdbs.Status.Update(ctx, pdb.Name, rest.DefaultUpdatedObjectInfo(&pdb),
		rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
	return err
}

// zeroBudgetMessage explains why a PDB allows no disruption.
func zeroBudgetMessage(pdb *policyv1.PodDisruptionBudget) string {
	c := meta.FindStatusCondition(pdb.Status.Conditions, policyv1.DisruptionAllowedCondition)
	failed := c != nil && c.Status == metav1.ConditionFalse && c.Message != ""
	switch {
	case failed && c.Reason == policyv1.SyncFailedReason:
		return fmt.Sprintf("The disruption budget %s does not allow evicting pods currently because it failed sync: %s", pdb.Name, c.Message)
	case pdb.Status.CurrentHealthy <= pdb.Status.DesiredHealthy:
		return fmt.Sprintf("The disruption budget %s needs %d healthy pods and has %d currently", pdb.Name, pdb.Status.DesiredHealthy, pdb.Status.CurrentHealthy)
	case failed:
		return fmt.Sprintf("The disruption budget %s does not allow evicting pods currently (%s): %s", pdb.Name, c.Reason, c.Message)
	default:
		return fmt.Sprintf("The disruption budget %s does not allow evicting pods currently", pdb.Name)
	}
}

func setDisruptionAllowedCondition(pdb *policyv1.PodDisruptionBudget) {
	c := metav1.Condition{
		Type:               policyv1.DisruptionAllowedCondition,
		Reason:             policyv1.SufficientPodsReason,
		Status:             metav1.ConditionTrue,
		ObservedGeneration: pdb.Status.ObservedGeneration,
	}
	if pdb.Status.DisruptionsAllowed <= 0 {
		c.Reason, c.Status = policyv1.InsufficientPodsReason, metav1.ConditionFalse
	}
	meta.SetStatusCondition(&pdb.Status.Conditions, c)
}

// matchingPDBs lists the PDBs of the pod's namespace whose selector
// selects it; nil, empty and invalid selectors select nothing.
func (r *EvictionREST) matchingPDBs(ctx context.Context, pod *corev1.Pod) ([]policyv1.PodDisruptionBudget, error) {
	if r.pdbs.Reader == nil {
		return nil, nil
	}
	obj, err := r.pdbs.Reader.List(ctx, &metainternalversion.ListOptions{})
	if err != nil {
		return nil, err
	}
	list, ok := obj.(*policyv1.PodDisruptionBudgetList)
	if !ok {
		return nil, fmt.Errorf("unexpected PodDisruptionBudget list %T", obj)
	}
	var out []policyv1.PodDisruptionBudget
	for _, pdb := range list.Items {
		if pdb.Namespace != pod.Namespace {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		out = append(out, pdb)
	}
	return out, nil
}

// canIgnorePDB: terminal, pending and terminating pods disrupt nothing.
func canIgnorePDB(pod *corev1.Pod) bool {
	switch pod.Status.Phase {
	case corev1.PodSucceeded, corev1.PodFailed, corev1.PodPending:
		return true
	}
	return !pod.DeletionTimestamp.IsZero()
}

func shouldEnforceResourceVersion(pod *corev1.Pod) bool {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false
	}
	return pod.DeletionTimestamp.IsZero()
}

func rvUnset(o *metav1.DeleteOptions) bool {
	return o.Preconditions == nil || o.Preconditions.ResourceVersion == nil
}

func setPreconditionsResourceVersion(o *metav1.DeleteOptions, rv string) {
	if o.Preconditions == nil {
		o.Preconditions = &metav1.Preconditions{}
	}
	o.Preconditions.ResourceVersion = &rv
}

func tooManyRequests(pdbName string) error {
	err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 10)
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{
		Type: policyv1.DisruptionBudgetCause, Message: fmt.Sprintf("The disruption budget %s is still being processed by the server.", pdbName),
	})
	return err
}

func podReady(pod *corev1.Pod) bool { return conditionTrue(pod, corev1.PodReady) }
