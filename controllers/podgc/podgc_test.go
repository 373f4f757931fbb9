package podgc

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/klog/v2/ktesting"
)

var base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type podBuilder struct{ p *corev1.Pod }

func pod(name string) podBuilder {
	return podBuilder{&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: k8stypes.UID("uid-" + name), Generation: 2}}}
}

func (b podBuilder) age(minutes int) podBuilder {
	b.p.CreationTimestamp = metav1.NewTime(base.Add(time.Duration(-minutes) * time.Minute))
	return b
}
func (b podBuilder) phase(p corev1.PodPhase) podBuilder { b.p.Status.Phase = p; return b }
func (b podBuilder) on(node string) podBuilder          { b.p.Spec.NodeName = node; return b }
func (b podBuilder) evicted() podBuilder {
	b.p.Status.Phase, b.p.Status.Reason = corev1.PodFailed, "Evicted"
	return b
}
func (b podBuilder) terminating() podBuilder {
	now := metav1.NewTime(base)
	b.p.DeletionTimestamp = &now
	return b
}

func node(name string, ready bool, taints ...corev1.Taint) *corev1.Node {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.NodeSpec{Taints: taints},
		Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status}}},
	}
}

// setup runs the collector's informers over informed objects; extra objects
// exist at the API server only.
func setup(t *testing.T, opts Options, informed []runtime.Object, extra ...runtime.Object) (*Controller, *fake.Clientset) {
	t.Helper()
	client := fake.NewClientset(append(informed, extra...)...)
	informerClient := fake.NewClientset(informed...)
	factory := informers.NewSharedInformerFactory(informerClient, 0)
	c := New(client, factory.Core().V1().Pods(), factory.Core().V1().Nodes(), opts)
	stop := make(chan struct{})
	factory.Start(stop)
	factory.WaitForCacheSync(stop)
	t.Cleanup(func() {
		c.missing.ShutDown()
		close(stop)
		factory.Shutdown()
	})
	return c, client
}

// writes lists the collector's requests: "status ns/name <phase> <conditions>" and "delete ns/name".
func writes(t *testing.T, client *fake.Clientset) []string {
	t.Helper()
	var out []string
	for _, a := range client.Actions() {
		switch a := a.(type) {
		case clienttesting.PatchActionImpl:
			var p struct {
				Metadata struct{ UID string }
				Status   struct {
					Phase              string
					ObservedGeneration int64
					Conditions         []corev1.PodCondition
				}
			}
			if err := json.Unmarshal(a.Patch, &p); err != nil {
				t.Fatal(err)
			}
			line := fmt.Sprintf("%s %s/%s uid=%s phase=%s generation=%d", a.Subresource, a.Namespace, a.Name, p.Metadata.UID, p.Status.Phase, p.Status.ObservedGeneration)
			for _, c := range p.Status.Conditions {
				line += fmt.Sprintf(" %s=%s/%s/%s/%d", c.Type, c.Status, c.Reason, c.Message, c.ObservedGeneration)
			}
			out = append(out, line)
		case clienttesting.DeleteActionImpl:
			grace := "nil"
			if g := a.DeleteOptions.GracePeriodSeconds; g != nil {
				grace = fmt.Sprint(*g)
			}
			out = append(out, fmt.Sprintf("delete %s/%s grace=%s", a.Namespace, a.Name, grace))
		}
	}
	sort.Strings(out)
	return out
}

func TestTerminatedThreshold(t *testing.T) {
	c, client := setup(t, Options{TerminatedPodThreshold: 2}, []runtime.Object{
		pod("oldest").age(50).phase(corev1.PodSucceeded).p,
		pod("old").age(40).phase(corev1.PodFailed).p,
		pod("evicted-new").age(1).evicted().p,
		pod("new").age(2).phase(corev1.PodSucceeded).p,
		pod("running").age(99).phase(corev1.PodRunning).p,
	})
	_, ctx := ktesting.NewTestContext(t)
	c.gc(ctx)
	want := []string{"delete ns/evicted-new grace=0", "delete ns/oldest grace=0"}
	if diff := cmp.Diff(want, writes(t, client)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestTerminatedThresholdDisabled(t *testing.T) {
	c, client := setup(t, Options{TerminatedPodThreshold: -1}, []runtime.Object{
		pod("a").phase(corev1.PodSucceeded).p, pod("b").phase(corev1.PodFailed).p,
	})
	_, ctx := ktesting.NewTestContext(t)
	c.gc(ctx)
	if got := writes(t, client); len(got) != 0 {
		t.Errorf("writes %v, want none", got)
	}
}

func TestOrphans(t *testing.T) {
	c, client := setup(t, Options{Quarantine: time.Millisecond}, []runtime.Object{
		node("alive", true),
		pod("on-gone-node").on("gone").phase(corev1.PodRunning).p,
		pod("done-on-gone-node").on("gone").phase(corev1.PodSucceeded).p,
		pod("on-late-node").on("late").phase(corev1.PodRunning).p,
		pod("on-alive-node").on("alive").phase(corev1.PodRunning).p,
	}, node("late", true)) // exists, but the informer has not seen it yet
	_, ctx := ktesting.NewTestContext(t)
	c.gc(ctx)
	// Both missing nodes come out of quarantine.
	c.processMissingNode(ctx)
	c.processMissingNode(ctx)
	want := []string{
		"delete ns/done-on-gone-node grace=0",
		"delete ns/on-gone-node grace=0",
		"status ns/on-gone-node uid=uid-on-gone-node phase=Failed generation=2 DisruptionTarget=True/DeletionByPodGC/PodGC: node no longer exists/2",
	}
	if diff := cmp.Diff(want, writes(t, client)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestTerminatingPods(t *testing.T) {
	outOfService := corev1.Taint{Key: corev1.TaintNodeOutOfService, Effect: corev1.TaintEffectNoExecute}
	c, client := setup(t, Options{}, []runtime.Object{
		node("down", false, outOfService),
		node("down-untainted", false),
		node("up", true, outOfService),
		pod("unscheduled").terminating().phase(corev1.PodPending).p,
		pod("unscheduled-alive").phase(corev1.PodPending).p,
		pod("on-down").on("down").terminating().phase(corev1.PodRunning).p,
		pod("on-down-untainted").on("down-untainted").terminating().phase(corev1.PodRunning).p,
		pod("on-up").on("up").terminating().phase(corev1.PodRunning).p,
	})
	_, ctx := ktesting.NewTestContext(t)
	c.gc(ctx)
	want := []string{
		"delete ns/on-down grace=0",
		"delete ns/unscheduled grace=0",
		"status ns/on-down uid=uid-on-down phase=Failed generation=2",
		"status ns/unscheduled uid=uid-unscheduled phase=Failed generation=2",
	}
	if diff := cmp.Diff(want, writes(t, client)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSetCondition(t *testing.T) {
	earlier, now := metav1.NewTime(base), metav1.NewTime(base.Add(time.Hour))
	status := &corev1.PodStatus{Conditions: []corev1.PodCondition{
		{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: earlier},
		{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "Other", LastTransitionTime: earlier},
	}}
	setCondition(status, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: ReasonDeletionByPodGC}, now)
	setCondition(status, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse}, now)
	want := []corev1.PodCondition{
		{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: now},
		{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: ReasonDeletionByPodGC, LastTransitionTime: earlier},
	}
	if diff := cmp.Diff(want, status.Conditions); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
