// Package queue holds the pods waiting to be scheduled: an active queue in
// priority order, back-off queues for pods that recently failed, and the
// unschedulable pods, which wait for a cluster event that one of the
// plugins that rejected them says may help (or for a periodic flush).
package queue

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/capstan-dev/capstan/scheduler/framework"
)

// Defaults, as upstream except for how long a pod stays unschedulable
// without any event before it is retried anyway (upstream: 5 minutes).
const (
	DefaultPodInitialBackoff          = 1 * time.Second
	DefaultPodMaxBackoff              = 10 * time.Second
	DefaultPodMaxInUnschedulablePods  = 60 * time.Second
	backoffFlushInterval              = 1 * time.Second
	unschedulableFlushInterval        = 30 * time.Second
	unschedulableFlushIntervalMinimum = 1 * time.Second
)

// QueuedPodInfo is a pod in the queue with its scheduling history.
type QueuedPodInfo struct {
	*framework.PodInfo
	// Timestamp is when the pod was last added to the queue.
	Timestamp time.Time
	// Attempts counts scheduling cycles of the pod.
	Attempts int
	// InitialAttemptTimestamp is when the pod was first popped.
	InitialAttemptTimestamp *time.Time
	// UnschedulableCount counts failures to fit; ConsecutiveErrorsCount counts errors since the last.
	UnschedulableCount     int
	ConsecutiveErrorsCount int
	// UnschedulablePlugins rejected the pod in its last cycle; their events requeue it.
	UnschedulablePlugins sets.Set[string]
	// GatingPlugin is the PreEnqueue plugin holding the pod back, if any.
	GatingPlugin string

	backoffExpiration time.Time
}

func (p *QueuedPodInfo) key() string { return podKey(p.Pod) }

func podKey(pod *v1.Pod) string { return pod.Namespace + "/" + pod.Name }

// DeepCopy copies the entry and its pod.
func (p *QueuedPodInfo) DeepCopy() *QueuedPodInfo {
	out := *p
	pi := *p.PodInfo
	pi.Pod = p.Pod.DeepCopy()
	out.PodInfo = &pi
	out.UnschedulablePlugins = p.UnschedulablePlugins.Clone()
	return &out
}

// Options configure a queue.
type Options struct {
	Clock clock.Clock
	// PodInitialBackoff doubles with each failure up to PodMaxBackoff.
	PodInitialBackoff, PodMaxBackoff time.Duration
	// PodMaxInUnschedulablePods is how long a pod waits for a helpful event
	// before it is retried anyway.
	PodMaxInUnschedulablePods time.Duration
	// PreEnqueue runs the PreEnqueue plugins; nil admits every pod.
	PreEnqueue func(ctx context.Context, pod *v1.Pod) *framework.Status
	// Hints are the events each plugin registered.
	Hints framework.QueueingHintMap
}

type strategy int

const (
	queueSkip strategy = iota
	queueAfterBackoff
)

// clusterEvent is an event seen while pods were in flight.
type clusterEvent struct {
	event          framework.ClusterEvent
	oldObj, newObj any
	// target is the pod a TargetPod event is about.
	target types.UID
}

// PriorityQueue is the scheduling queue. It is safe for concurrent use.
type PriorityQueue struct {
	opts Options

	mu   sync.Mutex
	cond sync.Cond
	// active holds pods ready to be tried, highest priority first, then oldest.
	active *podHeap
	// backoff holds rejected pods and errorBackoff failed ones until their back-off ends.
	backoff, errorBackoff *podHeap
	unschedulable         map[string]*QueuedPodInfo
	// inFlight marks, in inFlightEvents, where each popped pod's cycle
	// started; events seen since then decide where it goes if it fails.
	inFlight       map[types.UID]*list.Element
	inFlightEvents *list.List
	cycle          int64
	closed         bool
}

// New returns a queue.
func New(opts Options) *PriorityQueue {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.PodInitialBackoff == 0 {
		opts.PodInitialBackoff = DefaultPodInitialBackoff
	}
	if opts.PodMaxBackoff == 0 {
		opts.PodMaxBackoff = DefaultPodMaxBackoff
	}
	if opts.PodMaxInUnschedulablePods == 0 {
		opts.PodMaxInUnschedulablePods = DefaultPodMaxInUnschedulablePods
	}
	q := &PriorityQueue{
		opts:           opts,
		active:         newPodHeap(lessPriority),
		unschedulable:  map[string]*QueuedPodInfo{},
		inFlight:       map[types.UID]*list.Element{},
		inFlightEvents: list.New(),
	}
	q.backoff = newPodHeap(q.lessBackoff)
	q.errorBackoff = newPodHeap(q.lessBackoff)
	q.cond.L = &q.mu
	return q
}

// lessPriority orders the active queue as upstream's PrioritySort plugin:
// higher priority first, then the pod queued earliest.
func lessPriority(a, b *QueuedPodInfo) bool {
	pa, pb := corev1helpers.PodPriority(a.Pod), corev1helpers.PodPriority(b.Pod)
	return pa > pb || (pa == pb && a.Timestamp.Before(b.Timestamp))
}

func (q *PriorityQueue) lessBackoff(a, b *QueuedPodInfo) bool {
	return q.backoffTime(a).Before(q.backoffTime(b))
}

// backoffTime is when the pod's back-off ends: the initial back-off
// doubled for each failure after the first, up to the maximum, counted
// from when the pod was last queued.
func (q *PriorityQueue) backoffTime(p *QueuedPodInfo) time.Time {
	count := p.UnschedulableCount
	if p.ConsecutiveErrorsCount > 0 {
		count = p.ConsecutiveErrorsCount
	}
	if count == 0 {
		return time.Time{}
	}
	if p.backoffExpiration.IsZero() {
		d := q.opts.PodMaxBackoff
		if shift := count - 1; shift < 32 && q.opts.PodInitialBackoff <= q.opts.PodMaxBackoff>>shift {
			d = q.opts.PodInitialBackoff << shift
		}
		p.backoffExpiration = p.Timestamp.Add(d)
	}
	return p.backoffExpiration
}

func (q *PriorityQueue) isBackingOff(p *QueuedPodInfo) bool {
	return q.backoffTime(p).After(q.opts.Clock.Now())
}

// Run flushes pods whose back-off ended and pods unschedulable for too long, until ctx ends.
func (q *PriorityQueue) Run(ctx context.Context) {
	go wait.UntilWithContext(ctx, func(context.Context) { q.FlushBackoffCompleted(klog.FromContext(ctx)) }, backoffFlushInterval)
	interval := min(unschedulableFlushInterval, max(q.opts.PodMaxInUnschedulablePods/2, unschedulableFlushIntervalMinimum))
	go wait.UntilWithContext(ctx, func(context.Context) { q.FlushUnschedulableLeftover(klog.FromContext(ctx)) }, interval)
}

// Close wakes Pop up for good.
func (q *PriorityQueue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}

func (q *PriorityQueue) newQueuedPodInfo(pod *v1.Pod) *QueuedPodInfo {
	pi, _ := framework.NewPodInfo(pod)
	return &QueuedPodInfo{PodInfo: pi, Timestamp: q.opts.Clock.Now()}
}

// Add queues a new pod.
func (q *PriorityQueue) Add(ctx context.Context, pod *v1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := q.newQueuedPodInfo(pod)
	q.deleteLocked(pod)
	q.moveToActive(ctx, p)
}

// moveToActive admits p to the active queue unless a PreEnqueue plugin
// holds it back, in which case it waits among the unschedulable pods.
func (q *PriorityQueue) moveToActive(ctx context.Context, p *QueuedPodInfo) bool {
	key := p.key()
	if q.opts.PreEnqueue != nil {
		if s := q.opts.PreEnqueue(ctx, p.Pod); !s.IsSuccess() {
			p.GatingPlugin = s.Plugin()
			q.backoff.Delete(key)
			q.errorBackoff.Delete(key)
			q.unschedulable[key] = p
			klog.FromContext(ctx).V(5).Info("Pod held back by a PreEnqueue plugin", "pod", klog.KObj(p.Pod), "plugin", s.Plugin(), "reason", s.Message())
			return false
		}
	}
	p.GatingPlugin = ""
	q.backoff.Delete(key)
	q.errorBackoff.Delete(key)
	delete(q.unschedulable, key)
	q.active.AddOrUpdate(p)
	q.cond.Broadcast()
	return true
}

func (q *PriorityQueue) moveToBackoff(p *QueuedPodInfo) {
	key := p.key()
	delete(q.unschedulable, key)
	if p.UnschedulablePlugins.Len() == 0 {
		q.backoff.Delete(key)
		q.errorBackoff.AddOrUpdate(p)
	} else {
		q.errorBackoff.Delete(key)
		q.backoff.AddOrUpdate(p)
		// Pop takes from the back-off queue when nothing else is ready.
		q.cond.Broadcast()
	}
}

// Pop blocks until a pod is ready and returns it; nil once the queue is
// closed. When the active queue is empty, a rejected pod still backing off
// is tried rather than leaving the scheduler idle, as upstream does
// (SchedulerPopFromBackoffQ).
func (q *PriorityQueue) Pop(logger klog.Logger) *QueuedPodInfo {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.active.Len() == 0 && q.backoff.Len() == 0 {
		if q.closed {
			return nil
		}
		q.cond.Wait()
	}
	if q.closed {
		return nil
	}
	p := q.active.Pop()
	if p == nil {
		p = q.backoff.Pop()
	}
	p.Attempts++
	if p.InitialAttemptTimestamp == nil {
		now := q.opts.Clock.Now()
		p.InitialAttemptTimestamp = &now
	}
	q.cycle++
	q.inFlight[p.Pod.UID] = q.inFlightEvents.PushBack(p.Pod)
	logger.V(5).Info("Popped pod", "pod", klog.KObj(p.Pod), "attempts", p.Attempts)
	return p
}

// Done ends the in-flight period of a popped pod.
func (q *PriorityQueue) Done(uid types.UID) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.doneLocked(uid)
}

func (q *PriorityQueue) doneLocked(uid types.UID) {
	e, ok := q.inFlight[uid]
	if !ok {
		return
	}
	delete(q.inFlight, uid)
	q.inFlightEvents.Remove(e)
	// Events before the oldest in-flight pod are of no use to anyone.
	for f := q.inFlightEvents.Front(); f != nil; f = q.inFlightEvents.Front() {
		if _, isEvent := f.Value.(*clusterEvent); !isEvent {
			break
		}
		q.inFlightEvents.Remove(f)
	}
}

// AddUnschedulableIfNotPresent takes back a pod whose cycle failed: it goes
// to back-off if an event seen during its cycle may help it (or it failed
// on an error), and otherwise waits among the unschedulable pods.
func (q *PriorityQueue) AddUnschedulableIfNotPresent(logger klog.Logger, p *QueuedPodInfo) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	defer q.doneLocked(p.Pod.UID)
	key := p.key()
	if _, ok := q.unschedulable[key]; ok {
		return fmt.Errorf("pod %s is already present in the unschedulable queue", key)
	}
	if _, ok := q.active.Get(key); ok {
		return fmt.Errorf("pod %s is already present in the active queue", key)
	}
	if _, ok := q.backoff.Get(key); ok {
		return fmt.Errorf("pod %s is already present in the backoff queue", key)
	}
	if _, ok := q.errorBackoff.Get(key); ok {
		return fmt.Errorf("pod %s is already present in the backoff queue", key)
	}
	if p.UnschedulablePlugins.Len() == 0 {
		p.ConsecutiveErrorsCount++
	} else {
		p.UnschedulableCount++
		p.ConsecutiveErrorsCount = 0
	}
	p.Timestamp = q.opts.Clock.Now()
	p.backoffExpiration = time.Time{}

	s := queueSkip
	if p.UnschedulablePlugins.Len() == 0 {
		s = queueAfterBackoff
	} else if e, ok := q.inFlight[p.Pod.UID]; ok {
		for n := e.Next(); n != nil; n = n.Next() {
			ev, isEvent := n.Value.(*clusterEvent)
			if !isEvent || (ev.event.Resource == framework.TargetPod && ev.target != p.Pod.UID) {
				continue
			}
			if q.worthRequeuing(logger, p, ev.event, ev.oldObj, ev.newObj) == queueAfterBackoff {
				s = queueAfterBackoff
				break
			}
		}
	}
	where := q.requeue(klog.NewContext(context.Background(), logger), p, s)
	logger.V(3).Info("Pod moved to an internal scheduling queue", "pod", klog.KObj(p.Pod), "queue", where, "unschedulablePlugins", sets.List(p.UnschedulablePlugins))
	return nil
}

// requeue puts p where s says; it returns the queue's name for logs.
func (q *PriorityQueue) requeue(ctx context.Context, p *QueuedPodInfo, s strategy) string {
	if s == queueSkip {
		q.unschedulable[p.key()] = p
		return "unschedulable"
	}
	if q.isBackingOff(p) {
		q.moveToBackoff(p)
		return "backoff"
	}
	if q.moveToActive(ctx, p) {
		return "active"
	}
	return "unschedulable"
}

// worthRequeuing asks the plugins that rejected p whether event may help it.
func (q *PriorityQueue) worthRequeuing(logger klog.Logger, p *QueuedPodInfo, event framework.ClusterEvent, oldObj, newObj any) strategy {
	rejectors := p.UnschedulablePlugins
	if p.GatingPlugin != "" {
		rejectors = sets.New(p.GatingPlugin)
	}
	if rejectors.Len() == 0 || event.IsWildCard() {
		return queueAfterBackoff
	}
	for registered, fns := range q.opts.Hints {
		if !registered.Match(event) {
			continue
		}
		for _, fn := range fns {
			if !rejectors.Has(fn.PluginName) {
				continue
			}
			hint, err := fn.QueueingHintFn(logger, p.Pod, oldObj, newObj)
			if err != nil {
				logger.Error(err, "QueueingHintFn failed; requeueing", "plugin", fn.PluginName, "event", event.String(), "pod", klog.KObj(p.Pod))
				hint = framework.Queue
			}
			if hint == framework.Queue {
				logger.V(5).Info("Event may make pod schedulable", "pod", klog.KObj(p.Pod), "event", event.String(), "plugin", fn.PluginName)
				return queueAfterBackoff
			}
		}
	}
	return queueSkip
}

func (q *PriorityQueue) interestedIn(event framework.ClusterEvent) bool {
	if event.IsWildCard() {
		return true
	}
	for registered := range q.opts.Hints {
		if registered.Match(event) {
			return true
		}
	}
	return false
}

// Update reflects a change to a pod that waits to be scheduled. A pod in
// flight has the change recorded for when its cycle ends; an unschedulable
// pod is requeued if the change may help it.
func (q *PriorityQueue) Update(ctx context.Context, oldPod, newPod *v1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	logger := klog.FromContext(ctx)
	key := podKey(newPod)
	events := framework.PodSchedulingPropertiesChange(newPod, oldPod, true)
	if _, ok := q.inFlight[newPod.UID]; ok {
		for _, e := range events {
			q.inFlightEvents.PushBack(&clusterEvent{event: e, oldObj: oldPod, newObj: newPod, target: newPod.UID})
		}
		return
	}
	refresh := func(p *QueuedPodInfo) {
		p.PodInfo, _ = framework.NewPodInfo(newPod)
	}
	if p, ok := q.active.Get(key); ok {
		refresh(p)
		q.active.AddOrUpdate(p)
		return
	}
	for _, h := range []*podHeap{q.backoff, q.errorBackoff} {
		if p, ok := h.Get(key); ok {
			refresh(p)
			h.AddOrUpdate(p)
			return
		}
	}
	if p, ok := q.unschedulable[key]; ok {
		refresh(p)
		if p.GatingPlugin != "" {
			// PreEnqueue decides again on every update of a gated pod.
			q.moveToActive(ctx, p)
			return
		}
		for _, e := range events {
			if q.worthRequeuing(logger, p, e, oldPod, newPod) == queueSkip {
				continue
			}
			delete(q.unschedulable, key)
			where := q.requeue(ctx, p, queueAfterBackoff)
			logger.V(5).Info("Pod moved after an update", "pod", klog.KObj(newPod), "event", e.String(), "queue", where)
			return
		}
		return
	}
	q.moveToActive(ctx, q.newQueuedPodInfo(newPod))
}

// Delete forgets a pod.
func (q *PriorityQueue) Delete(pod *v1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.deleteLocked(pod)
}

func (q *PriorityQueue) deleteLocked(pod *v1.Pod) {
	key := podKey(pod)
	q.active.Delete(key)
	q.backoff.Delete(key)
	q.errorBackoff.Delete(key)
	delete(q.unschedulable, key)
}

// MoveAllToActiveOrBackoffQueue requeues the unschedulable pods that event
// may help (those for which preCheck, when set, holds), and records the
// event for the pods in flight.
func (q *PriorityQueue) MoveAllToActiveOrBackoffQueue(logger klog.Logger, event framework.ClusterEvent, oldObj, newObj any, preCheck func(*v1.Pod) bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.interestedIn(event) {
		return
	}
	ctx := klog.NewContext(context.Background(), logger)
	for key, p := range q.unschedulable {
		if preCheck != nil && !preCheck(p.Pod) {
			continue
		}
		if q.worthRequeuing(logger, p, event, oldObj, newObj) == queueSkip {
			continue
		}
		delete(q.unschedulable, key)
		where := q.requeue(ctx, p, queueAfterBackoff)
		logger.V(5).Info("Pod moved by a cluster event", "pod", klog.KObj(p.Pod), "event", event.String(), "queue", where)
	}
	if len(q.inFlight) > 0 {
		q.inFlightEvents.PushBack(&clusterEvent{event: event, oldObj: oldObj, newObj: newObj})
	}
}

// FlushBackoffCompleted moves pods whose back-off ended to the active queue.
func (q *PriorityQueue) FlushBackoffCompleted(logger klog.Logger) {
	q.mu.Lock()
	defer q.mu.Unlock()
	ctx := klog.NewContext(context.Background(), logger)
	for _, h := range []*podHeap{q.backoff, q.errorBackoff} {
		for p := h.Peek(); p != nil && !q.isBackingOff(p); p = h.Peek() {
			h.Pop()
			q.moveToActive(ctx, p)
		}
	}
}

// FlushUnschedulableLeftover retries pods that have waited longer than
// PodMaxInUnschedulablePods for an event that helps them.
func (q *PriorityQueue) FlushUnschedulableLeftover(logger klog.Logger) {
	q.mu.Lock()
	var stale []*QueuedPodInfo
	now := q.opts.Clock.Now()
	for _, p := range q.unschedulable {
		if now.Sub(p.Timestamp) > q.opts.PodMaxInUnschedulablePods {
			stale = append(stale, p)
		}
	}
	q.mu.Unlock()
	if len(stale) == 0 {
		return
	}
	keys := sets.New[string]()
	for _, p := range stale {
		keys.Insert(p.key())
	}
	q.MoveAllToActiveOrBackoffQueue(logger, framework.EventUnschedulableTimeout, nil, nil, func(pod *v1.Pod) bool { return keys.Has(podKey(pod)) })
}

// Counts returns how many pods are active, backing off and unschedulable, for tests and logs.
func (q *PriorityQueue) Counts() (active, backoff, unschedulable int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.active.Len(), q.backoff.Len() + q.errorBackoff.Len(), len(q.unschedulable)
}

// Has reports where the pod is: "active", "backoff", "unschedulable" or "".
func (q *PriorityQueue) Has(pod *v1.Pod) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := podKey(pod)
	if _, ok := q.active.Get(key); ok {
		return "active"
	}
	if _, ok := q.backoff.Get(key); ok {
		return "backoff"
	}
	if _, ok := q.errorBackoff.Get(key); ok {
		return "backoff"
	}
	if _, ok := q.unschedulable[key]; ok {
		return "unschedulable"
	}
	return ""
}
