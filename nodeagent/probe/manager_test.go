package probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	testingclock "k8s.io/utils/clock/testing"
)

// execReply is what the fake runtime answers to a command.
type execReply struct {
	stdout string
	code   int32
	err    error
}

// fakeExec answers commands by their first word; unknown commands exit 0.
type fakeExec struct {
	mu      sync.Mutex
	replies map[string]execReply
	calls   map[string]int
}

func (f *fakeExec) ExecSync(_ context.Context, _ string, cmd []string, _ time.Duration) ([]byte, []byte, int32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[cmd[0]]++
	r := f.replies[cmd[0]]
	return []byte(r.stdout), nil, r.code, r.err
}

func (f *fakeExec) set(replies map[string]execReply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for cmd, r := range replies {
		f.replies[cmd] = r
	}
}

func (f *fakeExec) callCounts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.calls {
		out[k] = v
	}
	return out
}

// fakeRecorder keeps events as "fieldPath type reason message".
type fakeRecorder struct {
	mu     sync.Mutex
	events []string
}

func (r *fakeRecorder) Eventf(obj runtime.Object, eventType, reason, messageFmt string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ref := obj.(*corev1.ObjectReference)
	r.events = append(r.events, fmt.Sprintf("%s %s %s %s", ref.FieldPath, eventType, reason, fmt.Sprintf(messageFmt, args...)))
}

// take returns the events recorded since the last call.
func (r *fakeRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

type harness struct {
	t       *testing.T
	clock   *testingclock.FakeClock
	exec    *fakeExec
	events  *fakeRecorder
	m       *Manager
	mu      sync.Mutex
	changes map[types.UID]int
}

func newHarness(t *testing.T) *harness {
	h := &harness{
		t:       t,
		clock:   testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		exec:    &fakeExec{replies: map[string]execReply{}, calls: map[string]int{}},
		events:  &fakeRecorder{},
		changes: map[types.UID]int{},
	}
	h.m = NewManager(h.exec, h.events, func(uid types.UID) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.changes[uid]++
	}, WithClock(h.clock))
	t.Cleanup(h.m.Stop)
	return h
}

func (h *harness) changeCount(uid types.UID) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.changes[uid]
}

// idle reports whether every running worker waits for the clock.
func (h *harness) idle() bool {
	return h.clock.Waiters() == int(h.m.running.Load())
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return cond(), nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// advance moves the fake clock once all workers wait for it.
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	waitFor(h.t, "workers to be idle", h.idle)
	h.clock.Step(d)
}

// observed is what the agent can read about one container.
type observed struct {
	Ready      bool
	ReadyKnown bool
	Started    bool
	Kill       *Kill
	Calls      map[string]int
	Changes    int
}

func (h *harness) observe(pod *corev1.Pod, container string) observed {
	ready, known := h.m.Readiness(pod.UID, container)
	o := observed{
		Ready:      ready,
		ReadyKnown: known,
		Started:    h.m.Started(pod.UID, container),
		Calls:      h.exec.callCounts(),
		Changes:    h.changeCount(pod.UID),
	}
	if k, ok := h.m.KillRequested(pod.UID, container); ok {
		o.Kill = &k
	}
	return o
}

// expect waits until the container looks like want and all workers are idle.
func (h *harness) expect(pod *corev1.Pod, container string, want observed) {
	h.t.Helper()
	var got observed
	err := wait.PollUntilContextTimeout(context.Background(), time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		got = h.observe(pod, container)
		return h.idle() && cmp.Equal(want, got), nil
	})
	if err != nil {
		h.t.Fatalf("container state (-want +got):\n%s", cmp.Diff(want, got))
	}
	failed, message := h.m.LivenessFailed(pod.UID, container)
	if failed != (want.Kill != nil) || (want.Kill != nil && message != want.Kill.Message) {
		h.t.Errorf("LivenessFailed = %v %q disagrees with KillRequested %+v", failed, message, want.Kill)
	}
}

// podBuilder makes test pods.
type podBuilder struct{ pod *corev1.Pod }

func newPod(name string) *podBuilder {
	return &podBuilder{pod: &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID(name + "-uid")},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
		Status:     corev1.PodStatus{PodIP: "127.0.0.1"},
	}}
}

func (b *podBuilder) liveness(p *corev1.Probe) *podBuilder {
	b.pod.Spec.Containers[0].LivenessProbe = p
	return b
}

func (b *podBuilder) readiness(p *corev1.Probe) *podBuilder {
	b.pod.Spec.Containers[0].ReadinessProbe = p
	return b
}

func (b *podBuilder) startup(p *corev1.Probe) *podBuilder {
	b.pod.Spec.Containers[0].StartupProbe = p
	return b
}

func (b *podBuilder) deleting() *podBuilder {
	b.pod.DeletionTimestamp = &metav1.Time{}
	return b
}

// execProbe is an exec probe running cmd with the given timing.
func execProbe(cmd string, period, success, failure int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{cmd}}},
		PeriodSeconds:    period,
		SuccessThreshold: success,
		FailureThreshold: failure,
	}
}

func withDelay(p *corev1.Probe, seconds int32) *corev1.Probe {
	p.InitialDelaySeconds = seconds
	return p
}

func withGrace(p *corev1.Probe, seconds int64) *corev1.Probe {
	p.TerminationGracePeriodSeconds = &seconds
	return p
}

func calls(kv ...any) map[string]int {
	m := map[string]int{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(int)
	}
	return m
}

var (
	fail        = execReply{stdout: "not yet", code: 1}
	ok          = execReply{stdout: "fine"}
	brokenExec  = execReply{err: errors.New("container gone")}
	timedOut    = execReply{err: context.DeadlineExceeded}
	readyFailed = "spec.containers{app} Warning Unhealthy Readiness probe failed: not yet"
)

func TestManager(t *testing.T) {
	type step struct {
		name    string
		replies map[string]execReply
		advance time.Duration
		want    observed
		// wantEvents are the events recorded during the step; nil checks none.
		wantEvents []string
	}
	tests := []struct {
		name  string
		pod   *corev1.Pod
		steps []step
	}{
		{
			name: "no probes",
			pod:  newPod("plain").pod,
			steps: []step{
				{name: "running", want: observed{Started: true, Calls: calls()}, wantEvents: []string{}},
			},
		},
		{
			name: "readiness needs successThreshold successes and failureThreshold failures",
			pod:  newPod("ready").readiness(execProbe("ready", 10, 2, 3)).pod,
			steps: []step{
				{name: "first success is not enough", want: observed{ReadyKnown: true, Started: true, Calls: calls("ready", 1)}},
				{name: "second success", advance: 10 * time.Second, want: observed{Ready: true, ReadyKnown: true, Started: true, Calls: calls("ready", 2), Changes: 1}},
				{
					name: "one failure", replies: map[string]execReply{"ready": fail}, advance: 10 * time.Second,
					want:       observed{Ready: true, ReadyKnown: true, Started: true, Calls: calls("ready", 3), Changes: 1},
					wantEvents: []string{readyFailed},
				},
				{name: "two failures", advance: 10 * time.Second, want: observed{Ready: true, ReadyKnown: true, Started: true, Calls: calls("ready", 4), Changes: 1}},
				{
					name: "three failures", advance: 10 * time.Second,
					want:       observed{ReadyKnown: true, Started: true, Calls: calls("ready", 5), Changes: 2},
					wantEvents: []string{readyFailed},
				},
				{name: "keeps probing", replies: map[string]execReply{"ready": ok}, advance: 10 * time.Second, want: observed{ReadyKnown: true, Started: true, Calls: calls("ready", 6), Changes: 2}},
				{name: "ready again", advance: 10 * time.Second, want: observed{Ready: true, ReadyKnown: true, Started: true, Calls: calls("ready", 7), Changes: 3}},
			},
		},
		{
			name: "initial delay",
			pod:  newPod("delay").readiness(withDelay(execProbe("ready", 10, 1, 3), 5)).pod,
			steps: []step{
				{name: "not yet", want: observed{ReadyKnown: true, Started: true, Calls: calls()}},
				{name: "still not", advance: 4 * time.Second, want: observed{ReadyKnown: true, Started: true, Calls: calls()}},
				{name: "after the delay", advance: time.Second, want: observed{Ready: true, ReadyKnown: true, Started: true, Calls: calls("ready", 1), Changes: 1}},
				{name: "within the period", advance: 9 * time.Second, want: observed{Ready: true, ReadyKnown: true, Started: true, Calls: calls("ready", 1), Changes: 1}},
				{name: "next period", advance: time.Second, want: observed{Ready: true, ReadyKnown: true, Started: true, Calls: calls("ready", 2), Changes: 1}},
			},
		},
		{
			name: "liveness fails after failureThreshold and stops probing",
			pod:  newPod("live").liveness(withGrace(execProbe("live", 10, 1, 2), 7)).pod,
			steps: []step{
				{name: "healthy", want: observed{Started: true, Calls: calls("live", 1)}},
				{
					name: "one failure", replies: map[string]execReply{"live": {stdout: "dead\n", code: 1}}, advance: 10 * time.Second,
					want:       observed{Started: true, Calls: calls("live", 2)},
					wantEvents: []string{"spec.containers{app} Warning Unhealthy Liveness probe failed: dead\n"},
				},
				{
					name: "two failures", advance: 10 * time.Second,
					want: observed{Started: true, Calls: calls("live", 3), Changes: 1, Kill: &Kill{
						Kind:                          Liveness,
						Message:                       "Container app failed liveness probe",
						ProbeMessage:                  "Liveness probe failed: dead\n",
						TerminationGracePeriodSeconds: ptr[int64](7),
					}},
				},
				{
					name: "no more probes", advance: 30 * time.Second,
					want: observed{Started: true, Calls: calls("live", 3), Changes: 1, Kill: &Kill{
						Kind:                          Liveness,
						Message:                       "Container app failed liveness probe",
						ProbeMessage:                  "Liveness probe failed: dead\n",
						TerminationGracePeriodSeconds: ptr[int64](7),
					}},
					wantEvents: []string{},
				},
			},
		},
		{
			name: "exec timeout is a liveness failure",
			pod:  newPod("timeout").liveness(execProbe("live", 10, 1, 1)).pod,
			steps: []step{
				{
					name: "timed out", replies: map[string]execReply{"live": timedOut},
					want: observed{Started: true, Calls: calls("live", 1), Changes: 1, Kill: &Kill{
						Kind:         Liveness,
						Message:      "Container app failed liveness probe",
						ProbeMessage: `Liveness probe failed: command timed out: "live" timed out after 1s`,
					}},
					wantEvents: []string{`spec.containers{app} Warning Unhealthy Liveness probe failed: command timed out: "live" timed out after 1s`},
				},
			},
		},
		{
			name: "a probe that cannot run keeps the last result",
			pod:  newPod("broken").readiness(execProbe("ready", 10, 1, 1)).pod,
			steps: []step{
				{name: "ready", want: observed{Ready: true, ReadyKnown: true, Started: true, Calls: calls("ready", 1), Changes: 1}},
				{
					name: "exec errors, retried", replies: map[string]execReply{"ready": brokenExec}, advance: 10 * time.Second,
					want:       observed{Ready: true, ReadyKnown: true, Started: true, Calls: calls("ready", 1+maxAttempts), Changes: 1},
					wantEvents: []string{"spec.containers{app} Warning Unhealthy Readiness probe errored and resulted in unknown state: running probe command in container cid-1: container gone"},
				},
			},
		},
		{
			name: "startup gates liveness and readiness",
			pod: newPod("startup").
				startup(execProbe("start", 3, 1, 5)).
				readiness(execProbe("ready", 10, 1, 3)).
				liveness(execProbe("live", 10, 1, 3)).pod,
			steps: []step{
				{name: "starting", replies: map[string]execReply{"start": fail}, want: observed{ReadyKnown: true, Calls: calls("start", 1)}},
				{name: "still starting", advance: 3 * time.Second, want: observed{ReadyKnown: true, Calls: calls("start", 2)}},
				{
					name: "started, readiness checked at once", replies: map[string]execReply{"start": ok}, advance: 3 * time.Second,
					want: observed{Ready: true, ReadyKnown: true, Started: true, Calls: calls("start", 3, "ready", 1), Changes: 2},
				},
				{name: "liveness at its period", advance: 4 * time.Second, want: observed{Ready: true, ReadyKnown: true, Started: true, Calls: calls("start", 3, "ready", 1, "live", 1), Changes: 2}},
				{name: "readiness a period after its check", advance: 6 * time.Second, want: observed{Ready: true, ReadyKnown: true, Started: true, Calls: calls("start", 3, "ready", 2, "live", 1), Changes: 2}},
			},
		},
		{
			name: "startup failure kills the container",
			pod: newPod("nostart").
				startup(withGrace(execProbe("start", 5, 1, 2), 3)).
				liveness(execProbe("live", 10, 1, 3)).pod,
			steps: []step{
				{name: "first failure", replies: map[string]execReply{"start": {stdout: "booting", code: 1}}, want: observed{Calls: calls("start", 1)}},
				{
					name: "second failure", advance: 5 * time.Second,
					want: observed{Calls: calls("start", 2), Changes: 1, Kill: &Kill{
						Kind:                          Startup,
						Message:                       "Container app failed startup probe",
						ProbeMessage:                  "Startup probe failed: booting",
						TerminationGracePeriodSeconds: ptr[int64](3),
					}},
				},
			},
		},
		{
			name: "a terminating pod only probes readiness",
			pod: newPod("deleting").deleting().
				readiness(execProbe("ready", 10, 1, 3)).
				liveness(execProbe("live", 10, 1, 1)).pod,
			steps: []step{
				{name: "probing", replies: map[string]execReply{"live": fail}, want: observed{Ready: true, ReadyKnown: true, Started: true, Calls: calls("ready", 1), Changes: 1}},
				{name: "no liveness", advance: 10 * time.Second, want: observed{Ready: true, ReadyKnown: true, Started: true, Calls: calls("ready", 2), Changes: 1}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			pod := tc.pod
			if tc.steps[0].advance != 0 {
				t.Fatal("the first step is the container's start")
			}
			for i, s := range tc.steps {
				h.exec.set(s.replies)
				if i == 0 {
					h.m.AddContainer(context.Background(), pod, &pod.Spec.Containers[0], "cid-1", h.clock.Now())
				} else {
					h.advance(s.advance)
				}
				t.Logf("step %q", s.name)
				h.expect(pod, "app", s.want)
				if got := h.events.take(); s.wantEvents != nil && !cmp.Equal(s.wantEvents, got, cmpEmpty) {
					t.Errorf("step %q: events (-want +got):\n%s", s.name, cmp.Diff(s.wantEvents, got))
				}
			}
		})
	}
}

// cmpEmpty treats nil and empty slices alike.
var cmpEmpty = cmp.Comparer(func(a, b []string) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return cmp.Equal(a, b)
})

func TestContainerLifecycle(t *testing.T) {
	h := newHarness(t)
	pod := newPod("restart").
		startup(execProbe("start", 10, 1, 3)).
		readiness(execProbe("ready", 10, 1, 3)).
		liveness(withDelay(execProbe("live", 10, 1, 1), 10)).pod
	c := &pod.Spec.Containers[0]
	h.exec.set(map[string]execReply{"live": fail})

	h.m.AddContainer(context.Background(), pod, c, "cid-1", h.clock.Now())
	// Startup and readiness succeed at once; liveness runs after its delay.
	h.expect(pod, "app", observed{Ready: true, ReadyKnown: true, Started: true, Calls: calls("start", 1, "ready", 1), Changes: 2})
	h.advance(10 * time.Second)
	kill := &Kill{Kind: Liveness, Message: "Container app failed liveness probe", ProbeMessage: "Liveness probe failed: not yet"}
	h.expect(pod, "app", observed{Ready: true, ReadyKnown: true, Started: true, Kill: kill, Calls: calls("start", 1, "ready", 2, "live", 1), Changes: 3})

	// The agent syncs again before it kills: nothing changes.
	h.m.AddContainer(context.Background(), pod, c, "cid-1", h.clock.Now())
	h.expect(pod, "app", observed{Ready: true, ReadyKnown: true, Started: true, Kill: kill, Calls: calls("start", 1, "ready", 2, "live", 1), Changes: 3})

	// Killed: not ready, not started, no kill pending, no workers.
	h.m.RemoveContainer(pod.UID, "app")
	h.expect(pod, "app", observed{ReadyKnown: true, Calls: calls("start", 1, "ready", 2, "live", 1), Changes: 3})
	waitFor(t, "workers to stop", func() bool { return h.m.running.Load() == 0 })
	if r, ok := h.m.Result(pod.UID, "app", Liveness); !ok || r.Outcome != Failure {
		t.Errorf("last liveness result = %+v %v, want the failure", r, ok)
	}

	// Restarted: probes start over for the new container.
	h.exec.set(map[string]execReply{"live": ok, "start": fail})
	h.advance(time.Minute)
	h.m.AddContainer(context.Background(), pod, c, "cid-2", h.clock.Now())
	h.expect(pod, "app", observed{ReadyKnown: true, Calls: calls("start", 2, "ready", 2, "live", 1), Changes: 3})
	if r, _ := h.m.Result(pod.UID, "app", Readiness); r.Outcome != Unknown {
		t.Errorf("readiness of the new container = %+v, want Unknown", r)
	}

	h.m.RemovePod(pod.UID)
	if ready, known := h.m.Readiness(pod.UID, "app"); ready || known {
		t.Errorf("Readiness after RemovePod = %v %v, want false false", ready, known)
	}
	if !h.m.Started(pod.UID, "app") {
		t.Error("Started after RemovePod = false, want true for an unknown container")
	}
	waitFor(t, "workers to stop", func() bool { return h.m.running.Load() == 0 })
}

func TestStopLivenessAndStartup(t *testing.T) {
	h := newHarness(t)
	pod := newPod("stopping").
		readiness(execProbe("ready", 10, 1, 1)).
		liveness(execProbe("live", 10, 1, 1)).pod
	h.m.AddContainer(context.Background(), pod, &pod.Spec.Containers[0], "cid-1", h.clock.Now())
	h.expect(pod, "app", observed{Ready: true, ReadyKnown: true, Started: true, Calls: calls("ready", 1, "live", 1), Changes: 1})

	h.m.StopLivenessAndStartup(pod.UID)
	waitFor(t, "the liveness worker to stop", func() bool { return h.m.running.Load() == 1 })
	h.exec.set(map[string]execReply{"ready": fail, "live": fail})
	h.advance(10 * time.Second)
	h.expect(pod, "app", observed{ReadyKnown: true, Started: true, Calls: calls("ready", 2, "live", 1), Changes: 2})
}

func TestHTTPLiveness(t *testing.T) {
	var mu sync.Mutex
	code := http.StatusOK
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(code)
	}))
	defer server.Close()

	h := newHarness(t)
	probe := &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}},
		PeriodSeconds: 10,
	}
	pod := newPod("web").liveness(withGrace(probe, 2)).pod
	pod.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: int32(serverPort(t, server))}}
	h.m.AddContainer(context.Background(), pod, &pod.Spec.Containers[0], "cid-1", h.clock.Now())
	h.expect(pod, "app", observed{Started: true, Calls: calls()})

	mu.Lock()
	code = http.StatusInternalServerError
	mu.Unlock()
	for range 3 { // the default failureThreshold
		h.advance(10 * time.Second)
	}
	h.expect(pod, "app", observed{Started: true, Calls: calls(), Changes: 1, Kill: &Kill{
		Kind:                          Liveness,
		Message:                       "Container app failed liveness probe",
		ProbeMessage:                  "Liveness probe failed: HTTP probe failed with statuscode: 500",
		TerminationGracePeriodSeconds: ptr[int64](2),
	}})
	want := "spec.containers{app} Warning Unhealthy Liveness probe failed: HTTP probe failed with statuscode: 500"
	if diff := cmp.Diff([]string{want, want, want}, h.events.take()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
