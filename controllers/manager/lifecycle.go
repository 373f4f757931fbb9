package manager

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/capstan-dev/capstan/controllers/garbagecollector"
	"github.com/capstan-dev/capstan/controllers/namespace"
	"github.com/capstan-dev/capstan/controllers/podgc"
)

// lifecycleStarters are the lifecycle and housekeeping controllers (garbage
// collector, namespace deletion, pod GC, ...).
func lifecycleStarters() []starter {
	return []starter{
		{garbagecollector.Name, startGarbageCollector},
		{namespace.Name, startNamespaceController},
		{podgc.Name, startPodGC},
	}
}

// startPodGC runs with upstream's defaults (terminated-pod-gc-threshold 12500).
func startPodGC(ctx context.Context, cc controllerContext) error {
	client, err := cc.ClientFor(podgc.Name)
	if err != nil {
		return err
	}
	c := podgc.New(client, cc.Factory.Core().V1().Pods(), cc.Factory.Core().V1().Nodes(), podgc.Options{})
	go c.Run(ctx)
	return nil
}

// lifecycleConfig is the base client configuration with the controller's user agent.
func lifecycleConfig(cc controllerContext, name string) *rest.Config {
	cfg := rest.CopyConfig(cc.Config.Client)
	cfg.UserAgent = "capstan-controller-manager/" + name
	return cfg
}

func startGarbageCollector(ctx context.Context, cc controllerContext) error {
	cfg := lifecycleConfig(cc, garbagecollector.Name)
	client, err := cc.ClientFor(garbagecollector.Name)
	if err != nil {
		return err
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return err
	}
	// Two discovery clients: the mapper's cache is reset whenever the
	// collector's own discovery sees resources come or go.
	mapperDiscovery, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	resyncDiscovery, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	c := garbagecollector.New(garbagecollector.Config{
		Metadata: meta,
		Mapper:   restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(mapperDiscovery)),
		Discover: func(ctx context.Context) ([]*metav1.APIResourceList, error) {
			return resyncDiscovery.ServerPreferredResourcesWithContext(ctx)
		},
		Events: client,
	})
	go c.Run(ctx, 10)
	return nil
}

func startNamespaceController(ctx context.Context, cc controllerContext) error {
	cfg := lifecycleConfig(cc, namespace.Name)
	client, err := cc.ClientFor(namespace.Name)
	if err != nil {
		return err
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	c := namespace.New(namespace.Config{
		Client:   client,
		Metadata: meta,
		Discover: func(ctx context.Context) ([]*metav1.APIResourceList, error) {
			return disc.ServerPreferredNamespacedResourcesWithContext(ctx)
		},
		Namespaces: cc.Factory.Core().V1().Namespaces(),
	})
	go c.Run(ctx, 5)
	return nil
}
