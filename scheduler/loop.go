package scheduler

import (
	"context"
	"fmt"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/scheduler/cache"
	"github.com/capstan-dev/capstan/scheduler/framework"
	"github.com/capstan-dev/capstan/scheduler/queue"
)

// loop is the scheduler during one term as leader: informers, cache, queue
// and framework built afresh, so that a new term starts from the API.
type loop struct {
	schedulerName string
	client        kubernetes.Interface
	factory       informers.SharedInformerFactory
	podInformer   toolscache.SharedIndexInformer
	podLister     corelisters.PodLister
	nodeInformer  toolscache.SharedIndexInformer

	cache     *cache.Cache
	snapshot  *cache.Snapshot
	queue     *queue.PriorityQueue
	framework *framework.Framework

	broadcaster record.EventBroadcaster
	recorder    record.EventRecorder

	// nextStartNodeIndex rotates where the search for feasible nodes
	// starts, so that every node gets its turn when not all are searched.
	nextStartNodeIndex int
	// bindings tracks binding goroutines.
	bindings sync.WaitGroup
}

// newPodInformer watches the pods that hold or may need resources:
// terminal ones (Succeeded, Failed) are left out, as upstream does.
func newPodInformer(client kubernetes.Interface, resync time.Duration) toolscache.SharedIndexInformer {
	selector := fields.AndSelectors(
		fields.OneTermNotEqualSelector("status.phase", string(v1.PodSucceeded)),
		fields.OneTermNotEqualSelector("status.phase", string(v1.PodFailed)),
	).String()
	return coreinformers.NewFilteredPodInformer(client, metav1.NamespaceAll, resync, toolscache.Indexers{},
		func(o *metav1.ListOptions) { o.FieldSelector = selector })
}

func newLoop(ctx context.Context, cfg Config, client kubernetes.Interface) (*loop, error) {
	factory := informers.NewSharedInformerFactory(client, 0)
	podInformer := factory.InformerFor(&v1.Pod{}, newPodInformer)
	l := &loop{
		schedulerName: cfg.SchedulerName,
		client:        client,
		factory:       factory,
		podInformer:   podInformer,
		podLister:     corelisters.NewPodLister(podInformer.GetIndexer()),
		nodeInformer:  factory.Core().V1().Nodes().Informer(),
		cache:         cache.New(),
		snapshot:      cache.NewEmptySnapshot(),
	}
	fw, err := framework.New(ctx, cfg.Registry, *cfg.Profile, l.snapshot, factory)
	if err != nil {
		return nil, err
	}
	hints, err := fw.QueueingHints(ctx)
	if err != nil {
		return nil, err
	}
	l.framework = fw
	l.queue = queue.New(queue.Options{
		PodInitialBackoff:         cfg.PodInitialBackoff,
		PodMaxBackoff:             cfg.PodMaxBackoff,
		PodMaxInUnschedulablePods: cfg.PodMaxInUnschedulablePods,
		PreEnqueue:                fw.RunPreEnqueuePlugins,
		Hints:                     hints,
	})
	l.broadcaster = record.NewBroadcaster(record.WithContext(ctx))
	l.recorder = l.broadcaster.NewRecorder(scheme.Scheme, v1.EventSource{Component: cfg.SchedulerName})
	return l, nil
}

// run schedules until ctx ends, then waits for bindings in flight.
func (l *loop) run(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	l.broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: l.client.CoreV1().Events("")})
	defer l.broadcaster.Shutdown()
	if err := l.addEventHandlers(logger); err != nil {
		return err
	}
	l.factory.Start(ctx.Done())
	defer l.factory.Shutdown()
	for typ, synced := range l.factory.WaitForCacheSync(ctx.Done()) {
		if !synced {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("scheduler informer for %v did not sync", typ)
		}
	}
	logger.V(2).Info("Scheduler caches synced")
	l.queue.Run(ctx)
	go func() {
		<-ctx.Done()
		l.queue.Close()
	}()
	wait.UntilWithContext(ctx, l.scheduleOne, 0)
	l.bindings.Wait()
	return nil
}
