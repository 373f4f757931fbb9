// Package deployment rolls Deployments out through ReplicaSets, as
// upstream's deployment controller does: one ReplicaSet per pod template,
// named after the template's hash, scaled by the RollingUpdate or Recreate
// strategy; proportional scaling while a rollout is under way; revision
// annotations that kubectl rollout history and undo rely on; old
// ReplicaSets pruned to revisionHistoryLimit; and the Progressing and
// Available conditions.
package deployment

import (
	"context"
	"fmt"
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/controllers/controllerref"
	"github.com/capstan-dev/capstan/controllers/workloop"
)

// Name is the controller's name in the manager and in its user agent.
const Name = "deployment"

var controllerKind = appsv1.SchemeGroupVersion.WithKind("Deployment")

// Controller rolls out Deployments.
type Controller struct {
	client      kubernetes.Interface
	recorder    record.EventRecorder
	deployments appslisters.DeploymentLister
	replicaSets appslisters.ReplicaSetLister
	podIndex    cache.Indexer
	resolver    controllerref.Resolver[*appsv1.Deployment] // finds the Deployments a ReplicaSet event concerns
	now         func() time.Time
	synced      []cache.InformerSynced
	loop        *workloop.Loop // keys are namespace/name of Deployments
}

// New wires the controller to its informers; nothing runs until Run. It
// adds an index to the shared pod informer, so it must run before
// informers start.
func New(client kubernetes.Interface, recorder record.EventRecorder, deployments appsinformers.DeploymentInformer, replicaSets appsinformers.ReplicaSetInformer, pods coreinformers.PodInformer) (*Controller, error) {
	if err := controllerref.AddIndex(pods.Informer()); err != nil {
		return nil, fmt.Errorf("indexing pods by controller: %w", err)
	}
	c := &Controller{
		client:      client,
		recorder:    recorder,
		deployments: deployments.Lister(),
		replicaSets: replicaSets.Lister(),
		podIndex:    pods.Informer().GetIndexer(),
		resolver: controllerref.Resolver[*appsv1.Deployment]{
			Kind: controllerKind.Kind,
			Get: func(namespace, name string) (*appsv1.Deployment, error) {
				return deployments.Lister().Deployments(namespace).Get(name)
			},
			List: func(namespace string) ([]*appsv1.Deployment, error) {
				return deployments.Lister().Deployments(namespace).List(labels.Everything())
			},
			Selector: func(d *appsv1.Deployment) *metav1.LabelSelector { return d.Spec.Selector },
		},
		now:    time.Now,
		synced: []cache.InformerSynced{deployments.Informer().HasSynced, replicaSets.Informer().HasSynced, pods.Informer().HasSynced},
	}
	c.loop = workloop.New(Name, c.sync)
	_, _ = deployments.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
		DeleteFunc: c.enqueue,
	})
	_, _ = replicaSets.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.replicaSetAdded,
		UpdateFunc: c.replicaSetUpdated,
		DeleteFunc: c.replicaSetDeleted,
	})
	_, _ = pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: c.podDeleted})
	return c, nil
}

// Run syncs Deployments with the given number of workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) { c.loop.Run(ctx, workers, c.synced...) }

func (c *Controller) enqueue(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	if d, ok := obj.(*appsv1.Deployment); ok && d != nil {
		c.loop.Add(cache.MetaObjectToName(d).String())
	}
}

func (c *Controller) keyOf(d *appsv1.Deployment) string { return cache.MetaObjectToName(d).String() }

// selecting returns the Deployments whose selector matches an orphan ReplicaSet.
func (c *Controller) selecting(rs *appsv1.ReplicaSet) []*appsv1.Deployment {
	if len(rs.Labels) == 0 {
		return nil
	}
	return c.resolver.Selecting(rs.Namespace, rs.Labels)
}

func (c *Controller) replicaSetAdded(obj any) {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		return
	}
	if rs.DeletionTimestamp != nil {
		c.replicaSetDeleted(rs)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
		c.enqueue(c.resolver.Owner(rs.Namespace, ref))
		return
	}
	for _, d := range c.selecting(rs) {
		c.enqueue(d)
	}
}

func (c *Controller) replicaSetUpdated(oldObj, newObj any) {
	old, ok1 := oldObj.(*appsv1.ReplicaSet)
	cur, ok2 := newObj.(*appsv1.ReplicaSet)
	if !ok1 || !ok2 || old.ResourceVersion == cur.ResourceVersion {
		return
	}
	oldRef, curRef := metav1.GetControllerOfNoCopy(old), metav1.GetControllerOfNoCopy(cur)
	refChanged := !reflect.DeepEqual(oldRef, curRef)
	if refChanged && oldRef != nil {
		c.enqueue(c.resolver.Owner(old.Namespace, oldRef))
	}
	if curRef != nil {
		c.enqueue(c.resolver.Owner(cur.Namespace, curRef))
		return
	}
	if refChanged || !reflect.DeepEqual(old.Labels, cur.Labels) {
		for _, d := range c.selecting(cur) {
			c.enqueue(d)
		}
	}
}

func (c *Controller) replicaSetDeleted(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	if rs, ok := obj.(*appsv1.ReplicaSet); ok {
		c.enqueue(c.resolver.Owner(rs.Namespace, metav1.GetControllerOfNoCopy(rs)))
	}
}

// podDeleted wakes Recreate Deployments, which wait for the old pods to be
// gone before they start the new ones.
func (c *Controller) podDeleted(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != "ReplicaSet" {
		return
	}
	rs, err := c.replicaSets.ReplicaSets(pod.Namespace).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return
	}
	if d := c.resolver.Owner(rs.Namespace, metav1.GetControllerOfNoCopy(rs)); d != nil && d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		c.enqueue(d)
	}
}

// sync moves one Deployment one step towards its spec.
func (c *Controller) sync(ctx context.Context, key string) error {
	err := c.syncDeployment(ctx, key)
	switch {
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		// A terminating namespace refuses new objects; its deletion ends the Deployment too.
		return nil
	case apierrors.IsConflict(err):
		// The cache was behind. The write that got in first brings an event,
		// and with it another sync; retrying now would only conflict again.
		klog.FromContext(ctx).V(4).Info("Conflict, waiting for the cache", "deployment", key, "err", err)
		return nil
	}
	return err
}

func (c *Controller) syncDeployment(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.deployments.Deployments(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	d := cached.DeepCopy()
	if d.Spec.Selector == nil || (len(d.Spec.Selector.MatchLabels) == 0 && len(d.Spec.Selector.MatchExpressions) == 0) {
		// Validation forbids it; an old object could still have one. Selecting
		// every pod of the namespace would be a disaster, so say so and stop.
		c.recorder.Eventf(d, corev1.EventTypeWarning, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Generation {
			d.Status.ObservedGeneration = d.Generation
			return c.updateStatus(ctx, d)
		}
		return nil
	}
	rsList, err := c.claimReplicaSets(ctx, d)
	if err != nil {
		return err
	}
	r := &rollout{c: c, d: d, rsList: rsList}
	if d.DeletionTimestamp != nil {
		return r.syncStatusOnly(ctx)
	}
	if err := r.syncPausedCondition(ctx); err != nil {
		return err
	}
	if d.Spec.Paused {
		return r.syncScale(ctx)
	}
	if rollbackTo(d) != nil {
		return r.rollback(ctx)
	}
	scaling, err := r.isScalingEvent(ctx)
	if err != nil {
		return err
	}
	if scaling {
		return r.syncScale(ctx)
	}
	switch d.Spec.Strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		return r.recreate(ctx)
	case appsv1.RollingUpdateDeploymentStrategyType:
		return r.rollingUpdate(ctx)
	}
	// Validation allows no other type; nothing to retry.
	klog.FromContext(ctx).Error(nil, "Unknown deployment strategy", "deployment", klog.KObj(d), "type", d.Spec.Strategy.Type)
	return nil
}

// claimReplicaSets returns the ReplicaSets the Deployment controls, after
// adopting matching orphans and releasing those that no longer match.
func (c *Controller) claimReplicaSets(ctx context.Context, d *appsv1.Deployment) ([]*appsv1.ReplicaSet, error) {
	all, err := c.replicaSets.ReplicaSets(d.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s has an invalid selector: %w", d.Namespace, d.Name, err)
	}
	claimer := &controllerref.Claimer{
		Owner: d, Kind: controllerKind, Selector: selector,
		Patch: func(ctx context.Context, name string, patch []byte) error {
			_, err := c.client.AppsV1().ReplicaSets(d.Namespace).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		},
		Recheck: controllerref.RecheckOwner(d, "deployment", func(ctx context.Context, namespace, name string) (*appsv1.Deployment, error) {
			return c.client.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
		}),
	}
	return controllerref.Claim(ctx, claimer, all)
}

// updateStatus writes d's status (and annotations, which the status
// subresource of Deployments accepts) and keeps d up to date with the
// result, so that later writes in the same sync do not conflict.
func (c *Controller) updateStatus(ctx context.Context, d *appsv1.Deployment) error {
	updated, err := c.client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("updating status of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	*d = *updated
	return nil
}

// podsByReplicaSet maps each ReplicaSet's UID to the pods it controls.
func (c *Controller) podsByReplicaSet(rss []*appsv1.ReplicaSet) (map[types.UID][]*corev1.Pod, error) {
	out := make(map[types.UID][]*corev1.Pod, len(rss))
	for _, rs := range rss {
		pods, err := controllerref.Owned[*corev1.Pod](c.podIndex, rs.UID)
		if err != nil {
			return nil, err
		}
		out[rs.UID] = pods
	}
	return out, nil
}
