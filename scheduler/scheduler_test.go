package scheduler

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/klog/v2/ktesting"

	st "github.com/capstan-dev/capstan/scheduler/schedulertest"
)

// bindings records pods/binding requests and applies them to the fake's
// objects, as the apiserver would.
type bindings struct {
	mu    sync.Mutex
	nodes map[string]string
}

func (b *bindings) get(pod string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.nodes[pod]
}

func fakeClient(t *testing.T, objs ...runtime.Object) (*fake.Clientset, *bindings) {
	client := fake.NewClientset(objs...)
	b := &bindings{nodes: map[string]string{}}
	client.PrependReactor("create", "pods", func(action clienttesting.Action) (bool, runtime.Object, error) {
		if action.GetSubresource() != "binding" {
			return false, nil, nil
		}
		binding := action.(clienttesting.CreateAction).GetObject().(*v1.Binding)
		obj, err := client.Tracker().Get(v1.SchemeGroupVersion.WithResource("pods"), binding.Namespace, binding.Name)
		if err != nil {
			return true, nil, err
		}
		pod := obj.(*v1.Pod).DeepCopy()
		pod.Spec.NodeName = binding.Target.Name
		if err := client.Tracker().Update(v1.SchemeGroupVersion.WithResource("pods"), pod, pod.Namespace); err != nil {
			return true, nil, err
		}
		b.mu.Lock()
		b.nodes[binding.Name] = binding.Target.Name
		b.mu.Unlock()
		return true, binding, nil
	})
	return client, b
}

func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		return cond(), nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// TestScheduler runs the scheduler against a fake API: it takes the lease,
// binds what fits, and reports what does not with upstream's condition and
// events.
func TestScheduler(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	client, bound := fakeClient(t,
		st.MakeNode("n1").Capacity("cpu", "2").Obj(),
		st.MakeNode("n2").Capacity("cpu", "1").Obj(),
		st.MakePod("fits").Req("cpu", "1500m").Obj(),
		st.MakePod("too-big").Req("cpu", "4").Obj(),
		st.MakePod("other-scheduler").Obj(),
	)
	other, _ := client.Tracker().Get(v1.SchemeGroupVersion.WithResource("pods"), "default", "other-scheduler")
	otherPod := other.(*v1.Pod)
	otherPod.Spec.SchedulerName = "someone-else"
	if err := client.Tracker().Update(v1.SchemeGroupVersion.WithResource("pods"), otherPod, "default"); err != nil {
		t.Fatal(err)
	}

	s, err := newWithClient(Config{Client: nil, Identity: "test"}, client)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})

	poll(t, "fits to be bound", func() bool { return bound.get("fits") != "" })
	if got := bound.get("fits"); got != "n1" {
		t.Errorf("fits bound to %q, want n1", got)
	}

	const want = "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
	var cond *v1.PodCondition
	poll(t, "too-big's PodScheduled condition", func() bool {
		p, err := client.CoreV1().Pods("default").Get(ctx, "too-big", metav1.GetOptions{})
		if err != nil {
			return false
		}
		for i := range p.Status.Conditions {
			if p.Status.Conditions[i].Type == v1.PodScheduled {
				cond = &p.Status.Conditions[i]
				return true
			}
		}
		return false
	})
	if cond.Status != v1.ConditionFalse || cond.Reason != v1.PodReasonUnschedulable || cond.Message != want {
		t.Errorf("condition %+v\nwant message %q", cond, want)
	}

	events := map[string]v1.Event{}
	poll(t, "events", func() bool {
		list, err := client.CoreV1().Events("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		for _, e := range list.Items {
			events[e.InvolvedObject.Name+"/"+e.Reason] = e
		}
		return len(events) >= 2
	})
	if e := events["too-big/FailedScheduling"]; e.Type != v1.EventTypeWarning || e.Message != want || e.Source.Component != v1.DefaultSchedulerName {
		t.Errorf("FailedScheduling event %+v", e)
	}
	if e := events["fits/Scheduled"]; e.Type != v1.EventTypeNormal || e.Message != "Successfully assigned default/fits to n1" {
		t.Errorf("Scheduled event %+v", e)
	}

	// A bigger node is an event that brings too-big back.
	if _, err := client.CoreV1().Nodes().Create(ctx, st.MakeNode("n3").Capacity("cpu", "8").Obj(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, "too-big to be bound", func() bool { return bound.get("too-big") == "n3" })

	if got := bound.get("other-scheduler"); got != "" {
		t.Errorf("a pod for another scheduler was bound to %q", got)
	}
	lease, err := client.CoordinationV1().Leases(LeaseNamespace).Get(ctx, LeaseName, metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != "test" {
		t.Errorf("lease %+v, %v", lease, err)
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "client") {
		t.Errorf("New without a client: %v", err)
	}
}

func TestNumFeasibleNodesToFind(t *testing.T) {
	for _, tt := range []struct {
		pct   int32
		nodes int
		want  int
	}{
		{0, 10, 10},
		{0, 99, 99},
		{0, 100, 100},
		{0, 1000, 420},
		{0, 6000, 300},
		{0, 10000, 500},
		{10, 1000, 100},
		{50, 1000, 500},
	} {
		if got := numFeasibleNodesToFind(tt.pct, tt.nodes); got != tt.want {
			t.Errorf("numFeasibleNodesToFind(%d, %d) = %d, want %d", tt.pct, tt.nodes, got, tt.want)
		}
	}
}

func TestSetPodCondition(t *testing.T) {
	t0, t1 := metav1.NewTime(time.Unix(100, 0)), metav1.NewTime(time.Unix(200, 0))
	status := &v1.PodStatus{}
	cond := func(msg string) *v1.PodCondition {
		return &v1.PodCondition{Type: v1.PodScheduled, Status: v1.ConditionFalse, Reason: v1.PodReasonUnschedulable, Message: msg}
	}
	if !setPodCondition(status, cond("a"), t0) {
		t.Fatal("adding reported no change")
	}
	if setPodCondition(status, cond("a"), t1) {
		t.Error("the same condition reported a change")
	}
	if !setPodCondition(status, cond("b"), t1) {
		t.Error("a new message reported no change")
	}
	if got := status.Conditions[0]; got.Message != "b" || !got.LastTransitionTime.Equal(&t0) || len(status.Conditions) != 1 {
		t.Errorf("condition %+v: the transition time moves only with the status", got)
	}
}
