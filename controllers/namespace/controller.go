// Package namespace empties terminating namespaces: it deletes every
// namespaced object in them, of every resource including custom resources,
// waits until they are gone, and then removes the kubernetes finalizer
// through namespaces/finalize, as upstream's namespace controller does.
package namespace

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/controllers/workloop"
)

// Name is the controller's name in the manager and in its user agent.
const Name = "namespace"

// DefaultDelay is how long after a namespace starts terminating its
// content starts being deleted, so that other components' caches see the
// namespace terminating first and stop creating objects in it.
const DefaultDelay = 5 * time.Second

// Config is what the namespace controller needs.
type Config struct {
	// Client reads and finalizes namespaces and estimates pods' grace periods.
	Client kubernetes.Interface
	// Metadata lists and deletes objects of any resource.
	Metadata metadata.Interface
	// Discover lists the server's preferred namespaced resources.
	Discover func(ctx context.Context) ([]*metav1.APIResourceList, error)
	// Namespaces is the informer that reports terminating namespaces.
	Namespaces coreinformers.NamespaceInformer
	// Delay: see DefaultDelay; zero means DefaultDelay.
	Delay time.Duration
}

// Controller deletes the content of terminating namespaces.
type Controller struct {
	namespaces corelisters.NamespaceLister
	synced     cache.InformerSynced
	deleter    *deleter
	delay      time.Duration
	queue      workqueue.TypedRateLimitingInterface[string] // namespace names
}

// New wires the controller to its informer; nothing runs until Run.
func New(cfg Config) *Controller {
	if cfg.Delay <= 0 {
		cfg.Delay = DefaultDelay
	}
	c := &Controller{
		namespaces: cfg.Namespaces.Lister(),
		synced:     cfg.Namespaces.Informer().HasSynced,
		deleter: &deleter{
			namespaces: cfg.Client.CoreV1().Namespaces(),
			pods:       cfg.Client.CoreV1(),
			metadata:   cfg.Metadata,
			discover:   cfg.Discover,
		},
		delay: cfg.Delay,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](5*time.Millisecond, time.Minute),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: Name}),
	}
	_, _ = cfg.Namespaces.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
	})
	return c
}

func (c *Controller) enqueue(obj any) {
	ns, ok := obj.(*corev1.Namespace)
	if !ok || ns.DeletionTimestamp == nil {
		return
	}
	c.queue.AddAfter(ns.Name, c.delay)
}

// Run processes namespaces with the given number of workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	var run []func()
	for range workers {
		run = append(run, func() { wait.UntilWithContext(ctx, c.work, time.Second) })
	}
	workloop.Serve(ctx, Name, []cache.InformerSynced{c.synced}, c.queue.ShutDown, run...)
}

func (c *Controller) work(ctx context.Context) {
	for {
		name, quit := c.queue.Get()
		if quit {
			return
		}
		err := c.sync(ctx, name)
		var remaining *ContentRemainingError
		switch {
		case err == nil:
			c.queue.Forget(name)
		case errors.As(err, &remaining):
			// Not a failure: come back when the content should be gone.
			klog.FromContext(ctx).V(4).Info("Content remaining in namespace", "namespace", name, "wait", remaining.wait())
			c.queue.AddAfter(name, remaining.wait())
		default:
			utilruntime.HandleErrorWithContext(ctx, err, "Deleting namespace content failed", "namespace", name)
			c.queue.AddRateLimited(name)
		}
		c.queue.Done(name)
	}
}

func (c *Controller) sync(ctx context.Context, name string) error {
	if _, err := c.namespaces.Get(name); apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	return c.deleter.delete(ctx, name)
}
