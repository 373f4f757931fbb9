package namespace

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
)

// finalizerEstimateSeconds is how long to expect objects held by finalizers
// to take, when nothing better is known.
const finalizerEstimateSeconds = 15

// ContentRemainingError says the namespace's content is being deleted but
// is not gone yet; Estimate is how many seconds that should take.
type ContentRemainingError struct{ Estimate int64 }

func (e *ContentRemainingError) Error() string {
	return fmt.Sprintf("some content remains in the namespace, estimate %d seconds before it is removed", e.Estimate)
}

// wait is when to look again: halfway through the estimate.
func (e *ContentRemainingError) wait() time.Duration {
	return time.Duration(e.Estimate/2+1) * time.Second
}

var podsResource = corev1.SchemeGroupVersion.WithResource("pods")

// deleter empties one namespace per call.
type deleter struct {
	namespaces typedcorev1.NamespaceInterface
	pods       typedcorev1.PodsGetter
	metadata   metadata.Interface
	discover   func(ctx context.Context) ([]*metav1.APIResourceList, error)
}

// delete does one pass over namespace name: mark it Terminating, delete its
// content, and once nothing is left remove the kubernetes finalizer. It
// returns a ContentRemainingError while content is on its way out.
func (d *deleter) delete(ctx context.Context, name string) error {
	ns, err := d.namespaces.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns.DeletionTimestamp == nil || !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		return nil
	}
	if ns.Status.Phase != corev1.NamespaceTerminating {
		ns = ns.DeepCopy()
		ns.Status.Phase = corev1.NamespaceTerminating
		if ns, err = d.namespaces.UpdateStatus(ctx, ns, metav1.UpdateOptions{}); err != nil {
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("marking namespace %s terminating: %w", name, err)
		}
	}
	estimate, ns, err := d.deleteContent(ctx, ns)
	if err != nil {
		return err
	}
	if estimate > 0 {
		return &ContentRemainingError{Estimate: estimate}
	}
	return d.finalize(ctx, ns)
}

// finalize removes the kubernetes finalizer through namespaces/finalize.
func (d *deleter) finalize(ctx context.Context, ns *corev1.Namespace) error {
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		keep := slices.DeleteFunc(slices.Clone(ns.Spec.Finalizers), func(f corev1.FinalizerName) bool { return f == corev1.FinalizerKubernetes })
		if len(keep) == len(ns.Spec.Finalizers) {
			return nil
		}
		update := ns.DeepCopy()
		update.Spec.Finalizers = keep
		_, err := d.namespaces.Finalize(ctx, update, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			latest, getErr := d.namespaces.Get(ctx, ns.Name, metav1.GetOptions{})
			if getErr != nil {
				return getErr
			}
			if latest.UID != ns.UID {
				return fmt.Errorf("namespace %s was replaced while finalizing", ns.Name)
			}
			ns = latest
		}
		return err
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("finalizing namespace %s: %w", ns.Name, err)
	}
	klog.FromContext(ctx).V(2).Info("Namespace emptied and finalized", "namespace", ns.Name)
	return nil
}

// left is what remains of one resource after a deletion pass.
type left struct {
	estimate   int64 // seconds; 0 is no estimate, not "nothing left"
	count      int
	finalizers map[string]int
}

// deleteContent deletes all of ns's content, pods first, and records the
// outcome in ns's conditions. It returns an estimate in seconds of how long
// what remains will take to go, and the namespace as last written.
func (d *deleter) deleteContent(ctx context.Context, ns *corev1.Namespace) (int64, *corev1.Namespace, error) {
	logger := klog.FromContext(ctx)
	conds := newConditions()
	var errs []error
	lists, err := d.discover(ctx)
	if err != nil {
		// Usually partial: delete what could be discovered, and try again.
		errs = append(errs, err)
		conds.discoveryFailed(err)
	}
	resources, err := deletableResources(lists)
	if err != nil {
		errs = append(errs, err)
		conds.groupVersionParsingFailed(err)
	}
	var estimate int64
	byResource := map[schema.GroupVersionResource]int{}
	byFinalizer := map[string]int{}
	collect := func(gvr schema.GroupVersionResource, verbs metav1.Verbs) {
		l, err := d.deleteResource(ctx, gvr, verbs, ns.Name, ns.DeletionTimestamp.Time)
		if err != nil {
			errs = append(errs, err)
			conds.contentFailed(err)
		}
		estimate = max(estimate, l.estimate)
		if l.count > 0 {
			byResource[gvr] = l.count
			for f, n := range l.finalizers {
				byFinalizer[f] += n
			}
		}
	}
	// Pods first: what they run may still need the other objects while terminating.
	if verbs, ok := resources[podsResource]; ok {
		collect(podsResource, verbs)
	}
	if byResource[podsResource] == 0 {
		for gvr, verbs := range resources {
			if gvr != podsResource {
				collect(gvr, verbs)
			}
		}
	} else {
		logger.V(4).Info("Pods remain; deleting the rest of the namespace later", "namespace", ns.Name)
	}
	conds.remaining(byResource, byFinalizer)
	update := ns.DeepCopy()
	if conds.apply(&update.Status, metav1.Now()) {
		if written, err := d.namespaces.UpdateStatus(ctx, update, metav1.UpdateOptions{}); err == nil {
			ns = written
		} else if !apierrors.IsNotFound(err) {
			// The next pass computes the conditions again.
			logger.V(2).Info("Could not update namespace conditions", "namespace", ns.Name, "err", err)
		}
	}
	logger.V(4).Info("Deleted namespace content", "namespace", ns.Name, "estimate", estimate, "errors", len(errs))
	return estimate, ns, utilerrors.NewAggregate(errs)
}

// deletableResources returns the discovered resources that can be deleted, with their verbs.
func deletableResources(lists []*metav1.APIResourceList) (map[schema.GroupVersionResource]metav1.Verbs, error) {
	out := map[schema.GroupVersionResource]metav1.Verbs{}
	var errs []error
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, r := range list.APIResources {
			if !strings.Contains(r.Name, "/") && slices.Contains(r.Verbs, "delete") {
				out[gv.WithResource(r.Name)] = r.Verbs
			}
		}
	}
	return out, utilerrors.NewAggregate(errs)
}

// deleteResource deletes every gvr object in namespace, by one
// deletecollection where the resource offers it and one by one otherwise,
// then reports what is left.
func (d *deleter) deleteResource(ctx context.Context, gvr schema.GroupVersionResource, verbs metav1.Verbs, namespace string, deletedAt time.Time) (left, error) {
	var estimate int64
	if gvr == podsResource {
		var err error
		if estimate, err = d.podsEstimate(ctx, namespace, deletedAt); err != nil {
			return left{}, err
		}
	}
	rc := d.metadata.Resource(gvr).Namespace(namespace)
	// Background: the namespace goes anyway, so no owner should wait for or orphan its dependents.
	background := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &background}
	canList := slices.Contains(verbs, "list")
	one := !slices.Contains(verbs, "deletecollection")
	if !one {
		err := rc.DeleteCollection(ctx, opts, metav1.ListOptions{})
		switch {
		case apierrors.IsMethodNotSupported(err) || apierrors.IsNotFound(err):
			one = true
		case err != nil:
			return left{estimate: estimate}, fmt.Errorf("deleting %s in %s: %w", gvr, namespace, err)
		}
	}
	if one && canList {
		items, err := rc.List(ctx, metav1.ListOptions{})
		if err != nil && !apierrors.IsMethodNotSupported(err) && !apierrors.IsNotFound(err) {
			return left{estimate: estimate}, fmt.Errorf("listing %s in %s: %w", gvr, namespace, err)
		}
		if err == nil {
			for _, item := range items.Items {
				err := rc.Delete(ctx, item.Name, opts)
				if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsMethodNotSupported(err) {
					return left{estimate: estimate}, fmt.Errorf("deleting %s %s/%s: %w", gvr, namespace, item.Name, err)
				}
			}
		}
	}
	if !canList {
		return left{estimate: estimate}, nil
	}
	items, err := rc.List(ctx, metav1.ListOptions{})
	if apierrors.IsMethodNotSupported(err) || apierrors.IsNotFound(err) {
		return left{estimate: estimate}, nil
	}
	if err != nil {
		return left{estimate: estimate}, fmt.Errorf("listing %s in %s: %w", gvr, namespace, err)
	}
	if len(items.Items) == 0 {
		return left{}, nil
	}
	l := left{estimate: estimate, count: len(items.Items), finalizers: map[string]int{}}
	for _, item := range items.Items {
		for _, f := range item.Finalizers {
			l.finalizers[f]++
		}
	}
	switch {
	case estimate > 0:
		// Graceful deletion still running.
	case len(l.finalizers) > 0:
		// Someone else's finalizer holds them; give it time.
		l.estimate = finalizerEstimateSeconds
	default:
		return l, fmt.Errorf("unexpected items still remain in namespace: %s for gvr: %v", namespace, gvr)
	}
	return l, nil
}

// podsEstimate is how long the namespace's running pods may still take to
// terminate gracefully: the longest grace period among them, less the time
// since the namespace started terminating.
func (d *deleter) podsEstimate(ctx context.Context, namespace string, deletedAt time.Time) (int64, error) {
	pods, err := d.pods.Pods(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, fmt.Errorf("listing pods in %s: %w", namespace, err)
	}
	var grace int64
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if g := p.Spec.TerminationGracePeriodSeconds; g != nil && *g > grace {
			grace = *g
		}
	}
	if time.Since(deletedAt) >= time.Duration(grace)*time.Second {
		return 0, nil
	}
	return grace, nil
}
