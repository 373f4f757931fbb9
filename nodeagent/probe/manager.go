package probe

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// Manager runs one worker goroutine per (pod UID, container name, probe
// kind) while the container runs, and keeps the probes' current results.
type Manager struct {
	prober   *prober
	onChange func(types.UID)
	clock    clock.Clock

	// wg and running count running workers; tests read running to know
	// when all workers wait for the clock.
	wg      sync.WaitGroup
	running atomic.Int32

	mu         sync.RWMutex
	containers map[containerKey]*containerState
	stopped    bool
}

type containerKey struct {
	podUID types.UID
	name   string
}

// containerState is what the manager knows about the current container of
// one pod container name.
type containerState struct {
	containerID string
	spec        *corev1.Container
	results     map[Kind]Result
	workers     map[Kind]*worker
	// exited is set by RemoveContainer: the container no longer runs.
	exited bool
}

// Option changes a Manager made by NewManager.
type Option func(*Manager)

// WithClock makes the workers time their probes with c instead of the real
// clock.
func WithClock(c clock.Clock) Option {
	return func(m *Manager) { m.clock = c }
}

// NewManager makes a Manager. exec runs exec probes; recorder, which may be
// nil, gets Unhealthy and ProbeWarning events; onChange, which may be nil, is
// called with the pod's UID whenever a probe changes what the agent reads
// (ready, started, kill requested), from the worker's goroutine and without
// locks held.
func NewManager(exec Execer, recorder Recorder, onChange func(podUID types.UID), opts ...Option) *Manager {
	m := &Manager{
		prober:     newProber(exec, recorder),
		onChange:   onChange,
		clock:      clock.RealClock{},
		containers: map[containerKey]*containerState{},
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

// AddContainer starts the probes of container c of pod, which started at
// started and runs as containerID. Network probes without a host go to
// pod.Status.PodIP, which must be set. Calling it again for the same
// container ID does nothing; for a new container ID it replaces the probes
// of the previous container, whose results are forgotten.
//
// ctx supplies the logger; the workers outlive it and stop on
// RemoveContainer, RemovePod or Stop.
func (m *Manager) AddContainer(ctx context.Context, pod *corev1.Pod, c *corev1.Container, containerID string, started time.Time) {
	key := containerKey{podUID: pod.UID, name: c.Name}
	logger := klog.LoggerWithValues(klog.FromContext(ctx),
		"pod", klog.KObj(pod), "podUID", pod.UID, "containerName", c.Name, "containerID", containerID)
	ctx = klog.NewContext(context.WithoutCancel(ctx), logger)

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return
	}
	if old, ok := m.containers[key]; ok {
		if old.containerID == containerID && !old.exited {
			return
		}
		old.stopWorkers()
	}

	st := &containerState{
		containerID: containerID,
		spec:        c.DeepCopy(),
		results:     map[Kind]Result{},
		workers:     map[Kind]*worker{},
	}
	m.containers[key] = st
	t := &target{
		container:   st.spec,
		containerID: containerID,
		podIP:       pod.Status.PodIP,
		ref:         containerRef(pod, c.Name),
	}
	for _, kind := range []Kind{Startup, Readiness, Liveness} {
		spec := probeOf(st.spec, kind)
		if spec == nil {
			continue
		}
		if pod.DeletionTimestamp != nil && kind != Readiness {
			// A terminating pod's containers are not restarted for failing
			// probes, as with the kubelet.
			st.results[kind] = Result{Outcome: Success}
			continue
		}
		st.results[kind] = Result{Outcome: Unknown}
		w := &worker{
			m:       m,
			key:     key,
			kind:    kind,
			spec:    withDefaults(spec),
			target:  t,
			started: started,
			trigger: make(chan struct{}, 1),
		}
		var wctx context.Context
		wctx, w.cancel = context.WithCancel(klog.NewContext(ctx, klog.LoggerWithValues(logger, "probeType", kind)))
		st.workers[kind] = w
		m.wg.Add(1)
		m.running.Add(1)
		go w.run(wctx)
	}
	logger.V(4).Info("Started probe workers", "count", len(st.workers))
}

// RemoveContainer stops the probes of the pod's container, which no longer
// runs: from now on it is not ready, and not started if it has a startup
// probe, until AddContainer is called for its next container.
func (m *Manager) RemoveContainer(podUID types.UID, container string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st, ok := m.containers[containerKey{podUID: podUID, name: container}]; ok {
		st.stopWorkers()
		st.exited = true
	}
}

// RemovePod stops the probes of all containers of the pod and forgets them.
func (m *Manager) RemovePod(podUID types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, st := range m.containers {
		if key.podUID == podUID {
			st.stopWorkers()
			delete(m.containers, key)
		}
	}
}

// StopLivenessAndStartup stops the liveness and startup probes of the pod's
// containers while readiness keeps running, for a pod that is shutting down:
// its containers are not restarted for failing probes any more.
func (m *Manager) StopLivenessAndStartup(podUID types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, st := range m.containers {
		if key.podUID != podUID {
			continue
		}
		for _, kind := range []Kind{Liveness, Startup} {
			if w, ok := st.workers[kind]; ok {
				w.cancel()
				delete(st.workers, kind)
				st.results[kind] = Result{Outcome: Success}
			}
		}
	}
}

// Stop stops all workers and waits for them to return. The Manager starts
// no workers afterwards.
func (m *Manager) Stop() {
	m.mu.Lock()
	m.stopped = true
	for _, st := range m.containers {
		st.stopWorkers()
	}
	m.mu.Unlock()
	m.wg.Wait()
}

func (st *containerState) stopWorkers() {
	for kind, w := range st.workers {
		w.cancel()
		delete(st.workers, kind)
	}
}

// Result returns the current result of the container's probe of kind, and
// false when the container has no such probe or is unknown.
func (m *Manager) Result(podUID types.UID, container string, kind Kind) (Result, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	st, ok := m.containers[containerKey{podUID: podUID, name: container}]
	if !ok {
		return Result{}, false
	}
	r, ok := st.results[kind]
	return r, ok
}

// Readiness reports whether the container's readiness probe passes. known is
// false when the container has no readiness probe (or is unknown), in which
// case it is ready whenever it runs and has started. A probed container is
// not ready until the probe first succeeds, nor after it exited.
func (m *Manager) Readiness(podUID types.UID, container string) (ready bool, known bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	st, ok := m.containers[containerKey{podUID: podUID, name: container}]
	if !ok || st.spec.ReadinessProbe == nil {
		return false, false
	}
	return !st.exited && st.results[Readiness].Outcome == Success, true
}

// Started reports whether the container is past its startup probe: true when
// it has none (or is unknown) or the probe succeeded. Until then the
// container's liveness and readiness probes do not run.
func (m *Manager) Started(podUID types.UID, container string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	st, ok := m.containers[containerKey{podUID: podUID, name: container}]
	if !ok {
		return true
	}
	return st.started()
}

func (st *containerState) started() bool {
	if st.spec.StartupProbe == nil {
		return true
	}
	return !st.exited && st.results[Startup].Outcome == Success
}

// LivenessFailed reports whether the running container has to be killed and
// restarted because its liveness probe failed failureThreshold times in a
// row, or its startup probe did (the kubelet restarts on both). message is
// the kubelet's kill reason, e.g. "Container web failed liveness probe".
// KillRequested gives the details.
func (m *Manager) LivenessFailed(podUID types.UID, container string) (failed bool, message string) {
	k, ok := m.KillRequested(podUID, container)
	return ok, k.Message
}

// KillRequested reports why the running container has to be killed and
// restarted, if its liveness or startup probe failed. It stays reported
// until RemoveContainer or AddContainer for a new container.
func (m *Manager) KillRequested(podUID types.UID, container string) (Kill, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	st, ok := m.containers[containerKey{podUID: podUID, name: container}]
	if !ok || st.exited {
		return Kill{}, false
	}
	for _, kind := range []Kind{Liveness, Startup} {
		r := st.results[kind]
		if r.Outcome != Failure {
			continue
		}
		return Kill{
			Kind:                          kind,
			Message:                       fmt.Sprintf("Container %s failed %s probe", container, strings.ToLower(string(kind))),
			ProbeMessage:                  r.Message,
			TerminationGracePeriodSeconds: probeOf(st.spec, kind).TerminationGracePeriodSeconds,
		}, true
	}
	return Kill{}, false
}

// record stores the result a worker reached and tells the agent when that
// changes what it reads. A worker that was stopped or replaced records
// nothing.
func (m *Manager) record(w *worker, r Result) {
	m.mu.Lock()
	st, ok := m.containers[w.key]
	if !ok || st.workers[w.kind] != w {
		m.mu.Unlock()
		return
	}
	changed := signal(w.kind, st.results[w.kind].Outcome) != signal(w.kind, r.Outcome)
	st.results[w.kind] = r
	if readiness, ok := st.workers[Readiness]; ok && w.kind == Startup && r.Outcome == Success {
		// Check readiness now rather than up to a period later, as the
		// kubelet's status sync would. Poking under the lock pairs with
		// mayProbe, so readiness is not checked twice for it.
		readiness.poke()
	}
	m.mu.Unlock()

	if changed && m.onChange != nil {
		m.onChange(w.key.podUID)
	}
}

// signal is what the agent reads from an outcome: whether the container is
// ready, must be killed, or has started.
func signal(kind Kind, o Outcome) Outcome {
	switch kind {
	case Readiness:
		if o != Success {
			return Failure
		}
	case Liveness:
		if o != Failure {
			return Success
		}
	}
	return o
}

// mayProbe reports whether the worker's container is past its startup probe,
// which gates its liveness and readiness probes. When it is, a pending
// trigger is dropped since the probe about to run serves it.
func (m *Manager) mayProbe(w *worker) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.containers[w.key]
	if !ok || (w.kind != Startup && !st.started()) {
		return false
	}
	select {
	case <-w.trigger:
	default:
	}
	return true
}

func probeOf(c *corev1.Container, kind Kind) *corev1.Probe {
	switch kind {
	case Liveness:
		return c.LivenessProbe
	case Readiness:
		return c.ReadinessProbe
	case Startup:
		return c.StartupProbe
	}
	return nil
}

// withDefaults fills in the API defaults, for pods that did not come through
// the API server's defaulting.
func withDefaults(p *corev1.Probe) *corev1.Probe {
	p = p.DeepCopy()
	if p.TimeoutSeconds <= 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds <= 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold <= 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold <= 0 {
		p.FailureThreshold = 3
	}
	if p.InitialDelaySeconds < 0 {
		p.InitialDelaySeconds = 0
	}
	return p
}

// containerRef is the object events about a container are recorded on.
func containerRef(pod *corev1.Pod, container string) *corev1.ObjectReference {
	field := fmt.Sprintf("spec.containers{%s}", container)
	for _, c := range pod.Spec.InitContainers {
		if c.Name == container {
			field = fmt.Sprintf("spec.initContainers{%s}", container)
			break
		}
	}
	return &corev1.ObjectReference{
		Kind:            "Pod",
		APIVersion:      "v1",
		Namespace:       pod.Namespace,
		Name:            pod.Name,
		UID:             pod.UID,
		ResourceVersion: pod.ResourceVersion,
		FieldPath:       field,
	}
}
