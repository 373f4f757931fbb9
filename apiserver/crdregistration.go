package apiserver

import (
	"context"
	"sync/atomic"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	crdinformers "k8s.io/apiextensions-apiserver/pkg/client/informers/externalversions/apiextensions/v1"
	crdlisters "k8s.io/apiextensions-apiserver/pkg/client/listers/apiextensions/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// crdRegistration keeps a local APIService for every group-version some
// CustomResourceDefinition serves, so the aggregator routes and lists it.
type crdRegistration struct {
	lister   crdlisters.CustomResourceDefinitionLister
	synced   cache.InformerSynced
	register apiServiceRegistrar
	queue    workqueue.TypedRateLimitingInterface[schema.GroupVersion]
	// initialSynced is set once the CRDs present at start have been registered.
	initialSynced atomic.Bool
}

func newCRDRegistration(informer crdinformers.CustomResourceDefinitionInformer, r apiServiceRegistrar) *crdRegistration {
	c := &crdRegistration{
		lister:   informer.Lister(),
		synced:   informer.Informer().HasSynced,
		register: r,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[schema.GroupVersion](),
			workqueue.TypedRateLimitingQueueConfig[schema.GroupVersion]{Name: "crd-autoregister"}),
	}
	enqueue := func(obj any) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		crd, ok := obj.(*apiextensionsv1.CustomResourceDefinition)
		if !ok {
			return
		}
		for _, v := range crd.Spec.Versions {
			c.queue.Add(schema.GroupVersion{Group: crd.Spec.Group, Version: v.Name})
		}
	}
	_, _ = informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(old, cur any) { enqueue(old); enqueue(cur) },
		DeleteFunc: enqueue,
	})
	return c
}

// Run registers the CRDs present now, then follows changes until ctx ends.
func (c *crdRegistration) Run(ctx context.Context, workers int) {
	defer c.queue.ShutDown()
	if !cache.WaitForCacheSync(ctx.Done(), c.synced) {
		return
	}
	crds, err := c.lister.List(labels.Everything())
	if err != nil {
		klog.FromContext(ctx).Error(err, "Listing CustomResourceDefinitions")
	}
	for _, crd := range crds {
		for _, v := range crd.Spec.Versions {
			if err := c.sync(schema.GroupVersion{Group: crd.Spec.Group, Version: v.Name}); err != nil {
				klog.FromContext(ctx).Error(err, "Registering CRD group-version")
			}
		}
	}
	c.initialSynced.Store(true)
	for i := 0; i < workers; i++ {
		go wait.UntilWithContext(ctx, c.worker, time.Second)
	}
	<-ctx.Done()
}

// WaitForInitialSync blocks until the CRDs present at start are registered; false if ctx ended first.
func (c *crdRegistration) WaitForInitialSync(ctx context.Context) bool {
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(context.Context) (bool, error) {
		return c.initialSynced.Load(), nil
	})
	return err == nil
}

func (c *crdRegistration) worker(ctx context.Context) {
	for {
		gv, shutdown := c.queue.Get()
		if shutdown {
			return
		}
		if err := c.sync(gv); err != nil {
			c.queue.AddRateLimited(gv)
		} else {
			c.queue.Forget(gv)
		}
		c.queue.Done(gv)
	}
}

// sync registers gv while any CRD serves it and removes it afterwards.
func (c *crdRegistration) sync(gv schema.GroupVersion) error {
	// Built-in group-versions are registered on start and never removed here.
	if _, builtin := priorities[gv]; builtin {
		return nil
	}
	crds, err := c.lister.List(labels.Everything())
	if err != nil {
		return err
	}
	for _, crd := range crds {
		if crd.Spec.Group != gv.Group {
			continue
		}
		for _, v := range crd.Spec.Versions {
			if v.Name == gv.Version {
				c.register.AddAPIServiceToSync(apiServiceFor(gv))
				return nil
			}
		}
	}
	c.register.RemoveAPIServiceToSync(gv.Version + "." + gv.Group)
	return nil
}
