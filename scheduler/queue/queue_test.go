package queue

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/capstan-dev/capstan/scheduler/framework"
	st "github.com/capstan-dev/capstan/scheduler/schedulertest"
)

var (
	nodeAdd    = framework.ClusterEvent{Resource: framework.Node, ActionType: framework.Add}
	nodeLabels = framework.ClusterEvent{Resource: framework.Node, ActionType: framework.UpdateNodeLabel}
	podDelete  = framework.EventAssignedPodDelete
)

func queueAlways(klog.Logger, *v1.Pod, any, any) (framework.QueueingHint, error) {
	return framework.Queue, nil
}

func queueNever(klog.Logger, *v1.Pod, any, any) (framework.QueueingHint, error) {
	return framework.QueueSkip, nil
}

// newQueue has plugin "Fit" interested in node adds and pod deletions and
// plugin "Affinity" in node label changes (where its hint says no).
func newQueue(clock *testingclock.FakeClock) *PriorityQueue {
	return New(Options{
		Clock: clock,
		Hints: framework.QueueingHintMap{
			nodeAdd:    {{PluginName: "Fit", QueueingHintFn: queueAlways}},
			podDelete:  {{PluginName: "Fit", QueueingHintFn: queueAlways}},
			nodeLabels: {{PluginName: "Affinity", QueueingHintFn: queueNever}},
		},
		PreEnqueue: func(_ context.Context, pod *v1.Pod) *framework.Status {
			if len(pod.Spec.SchedulingGates) > 0 {
				return framework.NewStatus(framework.UnschedulableAndUnresolvable, "gated").WithPlugin("Gates")
			}
			return nil
		},
	})
}

func popName(t *testing.T, q *PriorityQueue) *QueuedPodInfo {
	t.Helper()
	logger, _ := ktesting.NewTestContext(t)
	return q.Pop(logger)
}

func TestPopOrder(t *testing.T) {
	clock := testingclock.NewFakeClock(time.Now())
	q := newQueue(clock)
	ctx := context.Background()
	q.Add(ctx, st.MakePod("low-old").Priority(1).Obj())
	clock.Step(time.Second)
	q.Add(ctx, st.MakePod("high").Priority(100).Obj())
	clock.Step(time.Second)
	q.Add(ctx, st.MakePod("low-new").Priority(1).Obj())
	var got []string
	for range 3 {
		p := popName(t, q)
		got = append(got, p.Pod.Name)
		if p.Attempts != 1 || p.InitialAttemptTimestamp == nil {
			t.Errorf("%s: attempts %d", p.Pod.Name, p.Attempts)
		}
		q.Done(p.Pod.UID)
	}
	if diff := cmp.Diff([]string{"high", "low-old", "low-new"}, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func fail(t *testing.T, q *PriorityQueue, p *QueuedPodInfo, plugins ...string) {
	t.Helper()
	logger, _ := ktesting.NewTestContext(t)
	p.UnschedulablePlugins = sets.New(plugins...)
	if err := q.AddUnschedulableIfNotPresent(logger, p); err != nil {
		t.Fatal(err)
	}
}

func TestBackoffDoubles(t *testing.T) {
	clock := testingclock.NewFakeClock(time.Now())
	q := newQueue(clock)
	p := &QueuedPodInfo{Timestamp: clock.Now()}
	var got []time.Duration
	for count := 1; count <= 6; count++ {
		p.UnschedulableCount = count
		p.backoffExpiration = time.Time{}
		got = append(got, q.backoffTime(p).Sub(p.Timestamp))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("back-off (-want +got):\n%s", diff)
	}
}

// TestUnschedulableWaitsForAnEvent: a rejected pod waits until an event its
// rejecting plugin registered arrives and the plugin's hint agrees.
func TestUnschedulableWaitsForAnEvent(t *testing.T) {
	logger, ctx := ktesting.NewTestContext(t)
	clock := testingclock.NewFakeClock(time.Now())
	q := newQueue(clock)
	pod := st.MakePod("p").Obj()
	q.Add(ctx, pod)
	p := popName(t, q)
	fail(t, q, p, "Fit", "Affinity")
	if where := q.Has(pod); where != "unschedulable" {
		t.Fatalf("pod in %q, want unschedulable", where)
	}
	q.MoveAllToActiveOrBackoffQueue(logger, nodeLabels, nil, st.MakeNode("n").Obj(), nil)
	if where := q.Has(pod); where != "unschedulable" {
		t.Fatalf("after an event whose hint says no: pod in %q", where)
	}
	q.MoveAllToActiveOrBackoffQueue(logger, framework.ClusterEvent{Resource: framework.AssignedPod, ActionType: framework.Add}, nil, nil, nil)
	if where := q.Has(pod); where != "unschedulable" {
		t.Fatalf("after an event nobody registered: pod in %q", where)
	}
	q.MoveAllToActiveOrBackoffQueue(logger, nodeAdd, nil, st.MakeNode("n").Obj(), nil)
	if where := q.Has(pod); where != "backoff" {
		t.Fatalf("after a node was added: pod in %q, want backoff", where)
	}
	clock.Step(1100 * time.Millisecond)
	q.FlushBackoffCompleted(logger)
	if where := q.Has(pod); where != "active" {
		t.Fatalf("after back-off: pod in %q, want active", where)
	}
}

func TestPreCheckFiltersMovedPods(t *testing.T) {
	logger, ctx := ktesting.NewTestContext(t)
	q := newQueue(testingclock.NewFakeClock(time.Now()))
	a, b := st.MakePod("a").Obj(), st.MakePod("b").Obj()
	q.Add(ctx, a)
	q.Add(ctx, b)
	fail(t, q, popName(t, q), "Fit")
	fail(t, q, popName(t, q), "Fit")
	q.MoveAllToActiveOrBackoffQueue(logger, podDelete, nil, nil, func(p *v1.Pod) bool { return p.Name == "a" })
	if q.Has(a) != "backoff" || q.Has(b) != "unschedulable" {
		t.Errorf("a in %q, b in %q", q.Has(a), q.Has(b))
	}
}

// TestEventsDuringTheCycle: an event that arrives while the pod is being
// scheduled sends it to back-off instead of the unschedulable pods, as the
// cycle may have missed the change.
func TestEventsDuringTheCycle(t *testing.T) {
	logger, ctx := ktesting.NewTestContext(t)
	q := newQueue(testingclock.NewFakeClock(time.Now()))
	pod := st.MakePod("p").Obj()
	q.Add(ctx, pod)
	p := popName(t, q)
	q.MoveAllToActiveOrBackoffQueue(logger, nodeAdd, nil, st.MakeNode("n").Obj(), nil)
	fail(t, q, p, "Fit")
	if where := q.Has(pod); where != "backoff" {
		t.Errorf("pod in %q, want backoff", where)
	}

	// An event only the other plugin cares about does not count.
	other := st.MakePod("o").Obj()
	q.Add(ctx, other)
	for {
		p = popName(t, q)
		if p.Pod.Name == "o" {
			break
		}
		q.Done(p.Pod.UID)
	}
	q.MoveAllToActiveOrBackoffQueue(logger, nodeLabels, nil, st.MakeNode("n").Obj(), nil)
	fail(t, q, p, "Affinity")
	if where := q.Has(other); where != "unschedulable" {
		t.Errorf("other in %q, want unschedulable", where)
	}
	q.mu.Lock()
	left := q.inFlightEvents.Len()
	q.mu.Unlock()
	if left != 0 {
		t.Errorf("%d in-flight events left with nothing in flight", left)
	}
}

func TestErrorsBackOff(t *testing.T) {
	logger, ctx := ktesting.NewTestContext(t)
	clock := testingclock.NewFakeClock(time.Now())
	q := newQueue(clock)
	pod := st.MakePod("p").Obj()
	q.Add(ctx, pod)
	fail(t, q, popName(t, q))
	if where := q.Has(pod); where != "backoff" {
		t.Fatalf("pod in %q after an error, want backoff", where)
	}
	// Unlike rejected pods, failed ones are not popped before their back-off ends.
	if a, b, u := q.Counts(); a != 0 || b != 1 || u != 0 {
		t.Fatalf("counts %d %d %d", a, b, u)
	}
	clock.Step(time.Second + time.Millisecond)
	q.FlushBackoffCompleted(logger)
	if where := q.Has(pod); where != "active" {
		t.Fatalf("pod in %q after back-off", where)
	}
}

// TestPopTakesBackingOffPodsWhenIdle: with nothing active, a rejected pod
// in back-off is tried at once rather than leaving the scheduler idle.
func TestPopTakesBackingOffPodsWhenIdle(t *testing.T) {
	logger, ctx := ktesting.NewTestContext(t)
	q := newQueue(testingclock.NewFakeClock(time.Now()))
	pod := st.MakePod("p").Obj()
	q.Add(ctx, pod)
	fail(t, q, popName(t, q), "Fit")
	q.MoveAllToActiveOrBackoffQueue(logger, nodeAdd, nil, st.MakeNode("n").Obj(), nil)
	done := make(chan *QueuedPodInfo)
	go func() { done <- q.Pop(logger) }()
	select {
	case p := <-done:
		if p.Pod.Name != "p" || p.Attempts != 2 {
			t.Errorf("popped %s attempt %d", p.Pod.Name, p.Attempts)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Pop blocked with a pod in back-off")
	}
}

func TestFlushUnschedulableLeftover(t *testing.T) {
	logger, ctx := ktesting.NewTestContext(t)
	clock := testingclock.NewFakeClock(time.Now())
	q := newQueue(clock)
	pod := st.MakePod("p").Obj()
	q.Add(ctx, pod)
	fail(t, q, popName(t, q), "Affinity")
	clock.Step(30 * time.Second)
	q.FlushUnschedulableLeftover(logger)
	if where := q.Has(pod); where != "unschedulable" {
		t.Fatalf("flushed after 30s: %q", where)
	}
	clock.Step(31 * time.Second)
	q.FlushUnschedulableLeftover(logger)
	if where := q.Has(pod); where != "active" {
		t.Fatalf("pod in %q after 61s, want active", where)
	}
}

func TestGatedPods(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	q := newQueue(testingclock.NewFakeClock(time.Now()))
	gated := st.MakePod("g").Gate("example.com/g").Obj()
	q.Add(ctx, gated)
	if where := q.Has(gated); where != "unschedulable" {
		t.Fatalf("gated pod in %q", where)
	}
	relabelled := gated.DeepCopy()
	relabelled.Labels = map[string]string{"a": "b"}
	relabelled.ResourceVersion = "2"
	q.Update(ctx, gated, relabelled)
	if where := q.Has(gated); where != "unschedulable" {
		t.Fatalf("gated pod in %q after an unrelated update", where)
	}
	ungated := relabelled.DeepCopy()
	ungated.Spec.SchedulingGates = nil
	q.Update(ctx, relabelled, ungated)
	// PreEnqueue judges a gated pod again on every update.
	if where := q.Has(gated); where != "active" {
		t.Fatalf("ungated pod in %q, want active", where)
	}
}

func TestUpdateAndDelete(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	q := newQueue(testingclock.NewFakeClock(time.Now()))
	pod := st.MakePod("p").Priority(1).Obj()
	q.Add(ctx, pod)
	updated := pod.DeepCopy()
	updated.Labels = map[string]string{"x": "y"}
	q.Update(ctx, pod, updated)
	p := popName(t, q)
	if p.Pod.Labels["x"] != "y" {
		t.Errorf("popped the old version: %v", p.Pod.Labels)
	}
	q.Done(p.Pod.UID)

	// An update to a pod the queue does not hold adds it.
	q.Update(ctx, pod, updated)
	if where := q.Has(pod); where != "active" {
		t.Errorf("pod in %q", where)
	}
	q.Delete(pod)
	if where := q.Has(pod); where != "" {
		t.Errorf("deleted pod in %q", where)
	}
}

func TestAddUnschedulableRejectsDuplicates(t *testing.T) {
	logger, ctx := ktesting.NewTestContext(t)
	q := newQueue(testingclock.NewFakeClock(time.Now()))
	pod := st.MakePod("p").Obj()
	q.Add(ctx, pod)
	p := popName(t, q)
	q.Add(ctx, pod)
	p.UnschedulablePlugins = sets.New("Fit")
	if err := q.AddUnschedulableIfNotPresent(logger, p); err == nil {
		t.Error("a pod already active was added again")
	}
}

func TestCloseWakesPop(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	q := newQueue(testingclock.NewFakeClock(time.Now()))
	done := make(chan *QueuedPodInfo)
	go func() { done <- q.Pop(logger) }()
	q.Close()
	select {
	case p := <-done:
		if p != nil {
			t.Errorf("popped %v from a closed queue", p.Pod.Name)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Pop did not return after Close")
	}
}
