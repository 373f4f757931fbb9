package garbagecollector

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// Name is the controller's name in the manager and in its user agent.
const Name = "garbagecollector"

// Defaults for Config.
const (
	DefaultResyncPeriod       = 30 * time.Second
	DefaultInitialSyncTimeout = 30 * time.Second
	absentCacheSize           = 500
)

// DefaultIgnoredResources are never watched: events are numerous and nobody owns them.
func DefaultIgnoredResources() map[schema.GroupResource]struct{} {
	return map[schema.GroupResource]struct{}{
		{Group: "", Resource: "events"}:                 {},
		{Group: eventsv1.GroupName, Resource: "events"}: {},
	}
}

// Config is what the garbage collector needs.
type Config struct {
	// Metadata reads, deletes and patches objects of any resource.
	Metadata metadata.Interface
	// Mapper maps owner references' apiVersion and kind to resources; it
	// is reset whenever discovery reports a change.
	Mapper meta.ResettableRESTMapper
	// Discover lists the server's preferred resources (a discovery client
	// other than the one behind Mapper, whose cache Reset invalidates).
	Discover func(ctx context.Context) ([]*metav1.APIResourceList, error)
	// Events receives the OwnerRefInvalidNamespace events; nil records none.
	Events kubernetes.Interface
	// ResyncPeriod is how often discovery is checked for new or removed resources.
	ResyncPeriod time.Duration
	// InitialSyncTimeout bounds the wait for the first informers before workers start.
	InitialSyncTimeout time.Duration
	// Ignored resources are not watched.
	Ignored map[schema.GroupResource]struct{}
}

// Controller is the garbage collector.
type Controller struct {
	cfg      Config
	metadata metadata.Interface
	mapper   meta.ResettableRESTMapper

	graph           *graph
	builder         *builder
	changes         workqueue.TypedInterface[*event]
	attemptToDelete workqueue.TypedRateLimitingInterface[types.UID]
	attemptToOrphan workqueue.TypedRateLimitingInterface[types.UID]
	absent          *absentCache
	monitors        *monitorSet
	// resync asks the discovery loop for an early pass.
	resync chan struct{}
}

// New builds the garbage collector; nothing runs until Run.
func New(cfg Config) *Controller {
	if cfg.ResyncPeriod <= 0 {
		cfg.ResyncPeriod = DefaultResyncPeriod
	}
	if cfg.InitialSyncTimeout <= 0 {
		cfg.InitialSyncTimeout = DefaultInitialSyncTimeout
	}
	if cfg.Ignored == nil {
		cfg.Ignored = DefaultIgnoredResources()
	}
	c := &Controller{
		cfg:      cfg,
		metadata: cfg.Metadata,
		mapper:   cfg.Mapper,
		graph:    newGraph(),
		changes:  workqueue.NewTypedWithConfig(workqueue.TypedQueueConfig[*event]{Name: "garbage_collector_graph_changes"}),
		attemptToDelete: workqueue.NewTypedRateLimitingQueueWithConfig(retryLimiter(),
			workqueue.TypedRateLimitingQueueConfig[types.UID]{Name: "garbage_collector_attempt_to_delete"}),
		attemptToOrphan: workqueue.NewTypedRateLimitingQueueWithConfig(retryLimiter(),
			workqueue.TypedRateLimitingQueueConfig[types.UID]{Name: "garbage_collector_attempt_to_orphan"}),
		absent: newAbsentCache(absentCacheSize),
		resync: make(chan struct{}, 1),
	}
	c.builder = &builder{graph: c.graph, attemptToDelete: c.attemptToDelete, attemptToOrphan: c.attemptToOrphan, absent: c.absent}
	c.monitors = newMonitorSet(cfg.Metadata, c.changes.Add)
	return c
}

// retryLimiter backs off per item from 5ms to a minute: an owner of a type
// the collector does not watch yet is retried until discovery catches up,
// and a minute keeps that prompt.
func retryLimiter() workqueue.TypedRateLimiter[types.UID] {
	return workqueue.NewTypedItemExponentialFailureRateLimiter[types.UID](5*time.Millisecond, time.Minute)
}

// Run watches every deletable resource and collects garbage with the given
// number of workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	logger := klog.FromContext(ctx)
	logger.Info("Starting controller", "controller", Name)
	defer logger.Info("Shutting down controller", "controller", Name)

	if c.cfg.Events != nil && c.builder.recorder == nil {
		broadcaster := record.NewBroadcaster(record.WithContext(ctx))
		broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: c.cfg.Events.CoreV1().Events("")})
		defer broadcaster.Shutdown()
		c.builder.recorder = broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "garbage-collector-controller"})
	}

	var wg sync.WaitGroup
	defer func() {
		c.changes.ShutDown()
		c.attemptToDelete.ShutDown()
		c.attemptToOrphan.ShutDown()
		c.monitors.stopAll()
		wg.Wait()
	}()
	wg.Go(func() {
		for c.processGraphChange(logger) {
		}
	})
	wg.Go(func() { c.discoveryLoop(ctx) })

	syncCtx, cancel := context.WithTimeout(ctx, c.cfg.InitialSyncTimeout)
	synced := cache.WaitForNamedCacheSyncWithContext(syncCtx, c.monitors.synced)
	cancel()
	if ctx.Err() != nil {
		return
	}
	if !synced {
		// Deletions are verified against the API server, so proceeding early is safe.
		logger.Info("Not all resource monitors synced; collecting garbage anyway")
	}
	for i := 0; i < workers; i++ {
		wg.Go(func() { wait.UntilWithContext(ctx, c.runDeleteWorker, time.Second) })
		wg.Go(func() { wait.UntilWithContext(ctx, c.runOrphanWorker, time.Second) })
	}
	<-ctx.Done()
}

func (c *Controller) processGraphChange(logger klog.Logger) bool {
	e, quit := c.changes.Get()
	if quit {
		return false
	}
	defer c.changes.Done(e)
	c.builder.process(logger, e)
	return true
}

// queueVirtualDelete tells the graph that id does not exist.
func (c *Controller) queueVirtualDelete(id ref) {
	gv, _ := schema.ParseGroupVersion(id.APIVersion)
	obj := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: id.Namespace, Name: id.Name, UID: id.UID}}
	c.changes.Add(&event{typ: deleted, virtual: true, obj: obj, gvk: gv.WithKind(id.Kind)})
}

// requestResync asks for an early discovery pass, without waiting.
func (c *Controller) requestResync() {
	select {
	case c.resync <- struct{}{}:
	default:
	}
}

// errVirtualDeleteQueued: the object is gone and the graph has been told.
var errVirtualDeleteQueued = errors.New("queued a virtual delete event")

func (c *Controller) runDeleteWorker(ctx context.Context) {
	for c.processNextDelete(ctx) {
	}
}

func (c *Controller) processNextDelete(ctx context.Context) bool {
	uid, quit := c.attemptToDelete.Get()
	if quit {
		return false
	}
	defer c.attemptToDelete.Done(uid)
	if c.syncDelete(ctx, uid) {
		c.attemptToDelete.AddRateLimited(uid)
	} else {
		c.attemptToDelete.Forget(uid)
	}
	return true
}

// syncDelete processes one item of attemptToDelete and reports whether to retry it.
func (c *Controller) syncDelete(ctx context.Context, uid types.UID) bool {
	logger := klog.FromContext(ctx)
	n, ok := c.graph.get(uid)
	if !ok {
		return false
	}
	err := c.attemptToDeleteItem(ctx, n)
	var mapErr *mappingError
	switch {
	case errors.Is(err, errVirtualDeleteQueued), errors.Is(err, errClusterScopedWithNamespacedOwner):
		return false
	case errors.As(err, &mapErr):
		// A type not served yet, or never: retried until discovery knows it.
		logger.V(5).Info("Cannot map item's type", "item", n.id, "err", err)
		return true
	case err != nil:
		utilruntime.HandleErrorWithContext(ctx, err, "Garbage collection failed", "item", n.id)
		return true
	}
	// A virtual item that exists is retried until an informer reports it,
	// so that one created and deleted while a watch restarted cannot linger.
	if now, ok := c.graph.get(uid); ok && !now.observed {
		return true
	}
	return false
}

// attemptToDeleteItem deletes n if every owner is gone (checked live), or
// removes the references to absent owners if some owner remains, or
// finishes a foreground deletion n is waiting on.
func (c *Controller) attemptToDeleteItem(ctx context.Context, n view) error {
	logger := klog.FromContext(ctx)
	logger.V(4).Info("Processing item", "item", n.id, "virtual", !n.observed)
	if n.beingDeleted && !n.deletingDependents {
		// Its deletion is under way; its dependents are handled once it is gone.
		return nil
	}
	latest, err := c.getObject(ctx, n.id)
	switch {
	case apierrors.IsNotFound(err):
		c.queueVirtualDelete(n.id)
		return errVirtualDeleteQueued
	case err != nil:
		return err
	case latest.UID != n.id.UID:
		c.queueVirtualDelete(n.id)
		return errVirtualDeleteQueued
	}
	if !n.observed {
		// An object that exists but no informer reported: usually the
		// informer is just behind, but its type may be new to discovery.
		if gvr, _, err := c.resourceFor(n.id.APIVersion, n.id.Kind); err == nil && !c.monitors.watches(gvr) {
			c.requestResync()
		}
	}
	if n.deletingDependents {
		return c.finishForeground(ctx, n)
	}
	owners := latest.OwnerReferences
	if len(owners) == 0 {
		return nil
	}
	solid, dangling, waiting, err := c.classify(ctx, n.id, owners)
	if err != nil {
		return err
	}
	logger.V(5).Info("Classified owners of item", "item", n.id, "solid", len(solid), "dangling", len(dangling), "waiting", len(waiting))
	switch {
	case len(solid) > 0:
		if len(dangling) == 0 && len(waiting) == 0 {
			return nil
		}
		// Drop references to owners that are gone, and to owners waiting in
		// the foreground for their dependents (they would wait forever).
		logger.V(2).Info("Removing references to absent or deleting owners", "item", n.id)
		return c.removeOwnerRefs(ctx, n.id, append(uids(dangling), uids(waiting)...))
	case len(waiting) > 0 && n.dependents > 0:
		// An owner waits for this item, which has dependents of its own: it
		// goes in the foreground too, so that its owner waits for the whole tree.
		for _, d := range c.graph.dependentsOf(n.id.UID) {
			if d.deletingDependents {
				// A dependent also deleting in the foreground could be waiting
				// on this item: break a possible cycle by not blocking.
				logger.V(2).Info("Unblocking owner references of item to avoid a cycle", "item", n.id, "dependent", d.id)
				if err := c.unblockOwnerRefs(ctx, n.id, n.owners); err != nil {
					return err
				}
				break
			}
		}
		logger.V(2).Info("Deleting item in the foreground", "item", n.id)
		return c.deleteLatest(ctx, n.id, latest, metav1.DeletePropagationForeground)
	default:
		policy := metav1.DeletePropagationBackground
		switch {
		case hasFinalizer(latest, metav1.FinalizerOrphanDependents):
			policy = metav1.DeletePropagationOrphan
		case hasFinalizer(latest, metav1.FinalizerDeleteDependents):
			policy = metav1.DeletePropagationForeground
		}
		logger.V(2).Info("Deleting item", "item", n.id, "propagationPolicy", policy)
		return c.deleteLatest(ctx, n.id, latest, policy)
	}
}

func (c *Controller) deleteLatest(ctx context.Context, id ref, latest *metav1.PartialObjectMetadata, policy metav1.DeletionPropagation) error {
	err := c.deleteObject(ctx, id, latest.ResourceVersion, latest.OwnerReferences, policy)
	if apierrors.IsNotFound(err) {
		c.queueVirtualDelete(id)
		return errVirtualDeleteQueued
	}
	return err
}

// finishForeground removes the foregroundDeletion finalizer from n once
// no dependent blocks it, and otherwise makes sure the blockers are deleted.
func (c *Controller) finishForeground(ctx context.Context, n view) error {
	blockers := c.graph.blockingDependentsOf(n.id.UID)
	if len(blockers) == 0 {
		klog.FromContext(ctx).V(2).Info("Removing the foregroundDeletion finalizer", "item", n.id)
		return c.removeFinalizer(ctx, n.id, metav1.FinalizerDeleteDependents)
	}
	for _, d := range blockers {
		if !d.deletingDependents {
			c.attemptToDelete.Add(d.id.UID)
		}
	}
	return nil
}

// classify sorts item's owner references: solid (the owner exists and is
// not deleting in the foreground), dangling (no such owner, checked live)
// and waiting (the owner is deleting in the foreground).
func (c *Controller) classify(ctx context.Context, item ref, owners []metav1.OwnerReference) (solid, dangling, waiting []metav1.OwnerReference, err error) {
	for _, o := range owners {
		gone, owner, err := c.isDangling(ctx, item, o)
		if err != nil {
			return nil, nil, nil, err
		}
		switch {
		case gone:
			dangling = append(dangling, o)
		case owner.DeletionTimestamp != nil && hasFinalizer(owner, metav1.FinalizerDeleteDependents):
			waiting = append(waiting, o)
		default:
			solid = append(solid, o)
		}
	}
	return solid, dangling, waiting, nil
}

// isDangling reports whether o names no existing object, as seen from
// item: by a live GET of the owner's name in the right scope, compared by
// UID. A namespaced owner is looked up in the item's namespace, so a
// reference to an owner in another namespace dangles.
func (c *Controller) isDangling(ctx context.Context, item ref, o metav1.OwnerReference) (bool, *metav1.PartialObjectMetadata, error) {
	key := refTo(o, "")
	if c.absent.has(key) {
		return true, nil, nil
	}
	key.Namespace = item.Namespace
	if c.absent.has(key) {
		return true, nil, nil
	}
	gvr, namespaced, err := c.resourceFor(o.APIVersion, o.Kind)
	if err != nil {
		return false, nil, err
	}
	rc := c.metadata.Resource(gvr)
	var owner *metav1.PartialObjectMetadata
	switch {
	case !namespaced:
		key.Namespace = ""
		owner, err = rc.Get(ctx, o.Name, metav1.GetOptions{})
	case item.Namespace == "":
		klog.FromContext(ctx).V(2).Info("Cluster-scoped item refers to a namespaced owner", "item", item, "owner", o)
		return false, nil, errClusterScopedWithNamespacedOwner
	default:
		owner, err = rc.Namespace(item.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
	}
	switch {
	case apierrors.IsNotFound(err):
		c.absent.add(key)
		return true, nil, nil
	case err != nil:
		return false, nil, err
	case owner.UID != o.UID:
		c.absent.add(key)
		return true, nil, nil
	}
	return false, owner, nil
}

func uids(refs []metav1.OwnerReference) []types.UID {
	out := make([]types.UID, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.UID)
	}
	return out
}

func (c *Controller) runOrphanWorker(ctx context.Context) {
	for c.processNextOrphan(ctx) {
	}
}

func (c *Controller) processNextOrphan(ctx context.Context) bool {
	uid, quit := c.attemptToOrphan.Get()
	if quit {
		return false
	}
	defer c.attemptToOrphan.Done(uid)
	if err := c.orphan(ctx, uid); err != nil {
		utilruntime.HandleErrorWithContext(ctx, err, "Orphaning dependents failed", "uid", uid)
		c.attemptToOrphan.AddRateLimited(uid)
	} else {
		c.attemptToOrphan.Forget(uid)
	}
	return true
}

// orphan removes the owner's references from all its dependents, then the
// orphan finalizer from the owner.
func (c *Controller) orphan(ctx context.Context, uid types.UID) error {
	owner, ok := c.graph.get(uid)
	if !ok {
		return nil
	}
	deps := c.graph.dependentsOf(uid)
	var (
		mu   sync.Mutex
		errs []error
	)
	workqueue.ParallelizeUntil(ctx, 8, len(deps), func(i int) {
		err := c.removeOwnerRefs(ctx, deps[i].id, []types.UID{uid})
		if err != nil && !apierrors.IsNotFound(err) {
			mu.Lock()
			errs = append(errs, fmt.Errorf("orphaning %s: %w", deps[i].id, err))
			mu.Unlock()
		}
	})
	if len(errs) > 0 {
		return fmt.Errorf("orphaning the dependents of %s: %w", owner.id, utilerrors.NewAggregate(errs))
	}
	klog.FromContext(ctx).V(2).Info("Orphaned the dependents; removing the orphan finalizer", "item", owner.id, "dependents", len(deps))
	return c.removeFinalizer(ctx, owner.id, metav1.FinalizerOrphanDependents)
}
