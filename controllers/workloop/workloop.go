// Package workloop is the loop every Capstan controller runs: a
// rate-limited queue of keys, workers that call the controller's sync
// function, and retries with back-off when a sync fails. Serve is the same
// start and stop for controllers that keep queues of their own.
package workloop

import (
	"context"
	"sync"
	"time"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// Loop feeds keys to a sync function.
type Loop struct {
	name  string
	sync  func(ctx context.Context, key string) error
	queue workqueue.TypedRateLimitingInterface[string]
}

// New returns a loop named name (for logs and metrics) around sync.
func New(name string, sync func(ctx context.Context, key string) error) *Loop {
	return &Loop{
		name: name,
		sync: sync,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: name}),
	}
}

// Add queues key; event handlers call it and do nothing else.
func (l *Loop) Add(key string) { l.queue.Add(key) }

// AddAfter queues key once d has passed, for work that falls due later
// (a pod becoming available after minReadySeconds, a progress deadline).
func (l *Loop) AddAfter(key string, d time.Duration) { l.queue.AddAfter(key, d) }

// Run waits for the informers, then runs workers until ctx ends.
func (l *Loop) Run(ctx context.Context, workers int, synced ...cache.InformerSynced) {
	defer utilruntime.HandleCrash()
	defer l.queue.ShutDown()
	logger := klog.FromContext(ctx)
	logger.Info("Starting controller", "controller", l.name)
	defer logger.Info("Shutting down controller", "controller", l.name)
	if !cache.WaitForNamedCacheSyncWithContext(ctx, synced...) {
		return
	}
	for i := 0; i < workers; i++ {
		go wait.UntilWithContext(ctx, l.work, time.Second)
	}
	<-ctx.Done()
}

func (l *Loop) work(ctx context.Context) {
	for {
		key, quit := l.queue.Get()
		if quit {
			return
		}
		if err := l.sync(ctx, key); err != nil {
			utilruntime.HandleErrorWithContext(ctx, err, "Sync failed", "controller", l.name, "key", key)
			l.queue.AddRateLimited(key)
		} else {
			l.queue.Forget(key)
		}
		l.queue.Done(key)
	}
}

// Serve runs a controller that keeps its own queues: it logs the start and
// stop of the controller called name, waits for the informers, runs each of
// run in a goroutine and, once ctx ends, calls shutDown, which must make
// them return, and waits for them.
func Serve(ctx context.Context, name string, synced []cache.InformerSynced, shutDown func(), run ...func()) {
	defer utilruntime.HandleCrash()
	logger := klog.FromContext(ctx)
	logger.Info("Starting controller", "controller", name)
	defer logger.Info("Shutting down controller", "controller", name)
	var wg sync.WaitGroup
	defer func() {
		shutDown()
		wg.Wait()
	}()
	if !cache.WaitForNamedCacheSyncWithContext(ctx, synced...) {
		return
	}
	for _, fn := range run {
		wg.Go(fn)
	}
	<-ctx.Done()
}
