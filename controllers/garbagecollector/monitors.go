package garbagecollector

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// monitor is a metadata informer over one resource, with its own stop channel.
type monitor struct {
	kind     schema.GroupVersionKind
	informer cache.SharedIndexInformer
	stop     chan struct{}
}

// monitorSet runs one monitor per watched resource; resources come and go
// as discovery reports them.
type monitorSet struct {
	client metadata.Interface
	emit   func(*event)

	mu       sync.Mutex
	monitors map[schema.GroupVersionResource]*monitor
	// stopped: the collector is shutting down; start nothing more.
	stopped bool
}

func newMonitorSet(client metadata.Interface, emit func(*event)) *monitorSet {
	return &monitorSet{client: client, emit: emit, monitors: map[schema.GroupVersionResource]*monitor{}}
}

// handlers turn informer notifications into graph events for kind.
func (s *monitorSet) handlers(kind schema.GroupVersionKind) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if o, ok := obj.(metav1.Object); ok {
				s.emit(&event{typ: added, obj: o, gvk: kind})
			}
		},
		UpdateFunc: func(oldObj, obj any) {
			o, ok := obj.(metav1.Object)
			old, okOld := oldObj.(metav1.Object)
			if ok && okOld {
				s.emit(&event{typ: updated, obj: o, old: old, gvk: kind})
			}
		},
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if o, ok := obj.(metav1.Object); ok {
				s.emit(&event{typ: deleted, obj: o, gvk: kind})
			}
		},
	}
}

// sync starts monitors for resources not watched yet and stops those for
// resources no longer listed. It reports how many it started and stopped.
func (s *monitorSet) sync(resources map[schema.GroupVersionResource]schema.GroupVersionKind) (started, stopped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return 0, 0
	}
	for gvr, m := range s.monitors {
		if kind, ok := resources[gvr]; ok && kind == m.kind {
			continue
		}
		close(m.stop)
		delete(s.monitors, gvr)
		stopped++
	}
	for gvr, kind := range resources {
		if _, ok := s.monitors[gvr]; ok {
			continue
		}
		inf := metadatainformer.NewFilteredMetadataInformer(s.client, gvr, metav1.NamespaceAll, 0, cache.Indexers{}, nil).Informer()
		if _, err := inf.AddEventHandler(s.handlers(kind)); err != nil {
			continue
		}
		m := &monitor{kind: kind, informer: inf, stop: make(chan struct{})}
		s.monitors[gvr] = m
		go inf.Run(m.stop)
		started++
	}
	return started, stopped
}

// resources returns the watched resources.
func (s *monitorSet) resources() map[schema.GroupVersionResource]schema.GroupVersionKind {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[schema.GroupVersionResource]schema.GroupVersionKind, len(s.monitors))
	for gvr, m := range s.monitors {
		out[gvr] = m.kind
	}
	return out
}

// watches reports whether gvr has a monitor.
func (s *monitorSet) watches(gvr schema.GroupVersionResource) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.monitors[gvr]
	return ok
}

// hasSynced reports whether the monitor of gvr exists and has synced.
func (s *monitorSet) hasSynced(gvr schema.GroupVersionResource) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.monitors[gvr]
	return ok && m.informer.HasSynced()
}

// synced reports whether there are monitors and all have synced.
func (s *monitorSet) synced() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.monitors) == 0 {
		return false
	}
	for _, m := range s.monitors {
		if !m.informer.HasSynced() {
			return false
		}
	}
	return true
}

func (s *monitorSet) stopAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	for gvr, m := range s.monitors {
		close(m.stop)
		delete(s.monitors, gvr)
	}
}

// deletableResources picks from discovery the resources the collector
// watches: those that can be listed, watched and deleted, less the ignored.
func deletableResources(lists []*metav1.APIResourceList, ignored map[schema.GroupResource]struct{}) map[schema.GroupVersionResource]schema.GroupVersionKind {
	out := map[schema.GroupVersionResource]schema.GroupVersionKind{}
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") || !hasVerbs(r.Verbs, "delete", "list", "watch") {
				continue
			}
			if _, skip := ignored[gv.WithResource(r.Name).GroupResource()]; skip {
				continue
			}
			out[gv.WithResource(r.Name)] = gv.WithKind(r.Kind)
		}
	}
	return out
}

func hasVerbs(verbs metav1.Verbs, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(verbs, w) {
			return false
		}
	}
	return true
}

// discoveryLoop keeps the monitors in line with discovery: every
// ResyncPeriod, and sooner when a worker meets a type it cannot map.
func (c *Controller) discoveryLoop(ctx context.Context) {
	const minInterval = time.Second
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-c.resync:
		}
		c.resyncMonitors(ctx)
		// Requests during the pass are served by the next one, no sooner than minInterval.
		select {
		case <-ctx.Done():
			return
		case <-time.After(minInterval):
		}
		timer.Reset(c.cfg.ResyncPeriod - minInterval)
	}
}

// resyncMonitors runs one discovery pass.
func (c *Controller) resyncMonitors(ctx context.Context) {
	logger := klog.FromContext(ctx)
	lists, err := c.cfg.Discover(ctx)
	found := deletableResources(lists, c.cfg.Ignored)
	if len(found) == 0 {
		logger.V(2).Info("Discovery reported no resources; keeping the current monitors", "err", err)
		return
	}
	current := c.monitors.resources()
	if failed, partial := discovery.GroupDiscoveryFailedErrorGroups(err); partial {
		// Keep watching what a group that failed discovery had before.
		for gvr, kind := range current {
			if _, bad := failed[gvr.GroupVersion()]; bad && c.monitors.hasSynced(gvr) {
				found[gvr] = kind
			}
		}
		logger.V(2).Info("Discovery failed for some groups", "groups", len(failed), "err", err)
	} else if err != nil {
		logger.V(2).Info("Discovery failed", "err", err)
	}
	if maps.Equal(found, current) {
		return
	}
	// Owner references to the new types must map from now on.
	c.mapper.Reset()
	started, stopped := c.monitors.sync(found)
	logger.V(2).Info("Synced resource monitors", "started", started, "stopped", stopped, "total", len(found))
}
