package replicaset

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/ptr"
)

func newReplicaSet(name string, replicas int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: "uid-" + "rs-" + "web", Generation: 1},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "front"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "img"}}},
			},
		},
	}
}

// owned makes a pod controlled by rs.
func owned(b podBuilder, rs *appsv1.ReplicaSet) podBuilder {
	b.pod.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}
	return b
}

type fixture struct {
	t        *testing.T
	client   *fake.Clientset
	c        *Controller
	recorder *record.FakeRecorder
	created  atomic.Int32
}

// newFixture builds a controller whose caches hold objs, on a fake clientset that holds them too.
func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	f := &fixture{t: t, client: fake.NewClientset(objs...), recorder: record.NewFakeRecorder(100)}
	// The fake clientset does not generate names.
	f.client.PrependReactor("create", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		pod := a.(clienttesting.CreateAction).GetObject().(*corev1.Pod)
		if pod.Name == "" {
			pod.Name = fmt.Sprintf("%s%d", pod.GenerateName, f.created.Add(1))
		}
		return false, nil, nil
	})
	factory := informers.NewSharedInformerFactory(f.client, 0)
	c, err := New(f.client, f.recorder, factory.Apps().V1().ReplicaSets(), factory.Core().V1().Pods())
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return now }
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *appsv1.ReplicaSet:
			err = factory.Apps().V1().ReplicaSets().Informer().GetIndexer().Add(o)
		case *corev1.Pod:
			err = factory.Core().V1().Pods().Informer().GetIndexer().Add(o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	f.client.ClearActions()
	f.c = c
	return f
}

func (f *fixture) sync(key string) error {
	_, ctx := ktesting.NewTestContext(f.t)
	return f.c.syncOwner(ctx, key)
}

// actions lists the writes made, as "verb resource[/subresource] name".
func (f *fixture) actions() []string {
	var out []string
	for _, a := range f.client.Actions() {
		if a.GetVerb() == "get" || a.GetVerb() == "list" || a.GetVerb() == "watch" {
			continue
		}
		what := a.GetResource().Resource
		if a.GetSubresource() != "" {
			what += "/" + a.GetSubresource()
		}
		name := ""
		switch a.GetVerb() {
		case "create":
			name = a.(clienttesting.CreateAction).GetObject().(metav1.Object).GetGenerateName() + "*"
		case "update":
			name = a.(clienttesting.UpdateAction).GetObject().(metav1.Object).GetName()
		case "delete":
			name = a.(clienttesting.DeleteAction).GetName()
		case "patch":
			name = a.(clienttesting.PatchAction).GetName()
		}
		out = append(out, a.GetVerb()+" "+what+" "+name)
	}
	return out
}

func (f *fixture) events() []string {
	var out []string
	for {
		select {
		case e := <-f.recorder.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

// lastStatus is the status of the last status update.
func (f *fixture) lastStatus() *appsv1.ReplicaSetStatus {
	var st *appsv1.ReplicaSetStatus
	for _, a := range f.client.Actions() {
		if u, ok := a.(clienttesting.UpdateAction); ok && a.GetVerb() == "update" && a.GetSubresource() == "status" {
			st = &u.GetObject().(*appsv1.ReplicaSet).Status
		}
	}
	return st
}

func TestSyncCreatesMissingPods(t *testing.T) {
	rs := newReplicaSet("web", 3)
	f := newFixture(t, rs, owned(newPod("web-a").node("n").readySince(time.Minute), rs).build())
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	want := []string{"create pods web-*", "create pods web-*", "update replicasets/status web"}
	if diff := cmp.Diff(want, f.actions()); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	for _, a := range f.client.Actions() {
		if c, ok := a.(clienttesting.CreateAction); ok && a.GetVerb() == "create" {
			pod := c.GetObject().(*corev1.Pod)
			ref := metav1.GetControllerOf(pod)
			if ref == nil || ref.UID != rs.UID || ref.Kind != "ReplicaSet" || !ptr.Deref(ref.BlockOwnerDeletion, false) {
				t.Errorf("created pod's controller reference: %+v", ref)
			}
			if diff := cmp.Diff(rs.Spec.Template.Labels, pod.Labels); diff != "" {
				t.Errorf("created pod's labels (-want +got):\n%s", diff)
			}
		}
	}
	st := f.lastStatus()
	if st.Replicas != 1 || st.ReadyReplicas != 1 || st.AvailableReplicas != 1 || st.FullyLabeledReplicas != 0 ||
		ptr.Deref(st.TerminatingReplicas, -1) != 0 || st.ObservedGeneration != 1 {
		t.Errorf("status = %+v", st)
	}
	if ev := f.events(); len(ev) != 2 || !strings.HasPrefix(ev[0], "Normal SuccessfulCreate Created pod: web-") {
		t.Errorf("events = %q", ev)
	}

	// Until the informer shows the two new pods, another sync must not create them again.
	f.client.ClearActions()
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	for _, a := range f.actions() {
		if strings.HasPrefix(a, "create") {
			t.Errorf("created again before the cache caught up: %v", f.actions())
		}
	}
	f.c.exp.creationObserved("ns/web")
	f.c.exp.creationObserved("ns/web")
	if !f.c.exp.satisfied("ns/web") {
		t.Error("expectations not satisfied after both creations were observed")
	}
}

func TestSyncCreationFailure(t *testing.T) {
	rs := newReplicaSet("web", 10)
	f := newFixture(t, rs)
	var attempts atomic.Int32
	f.client.PrependReactor("create", "pods", func(clienttesting.Action) (bool, runtime.Object, error) {
		if attempts.Add(1) > 3 {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("exceeded quota"))
		}
		return false, nil, nil
	})
	err := f.sync("ns/web")
	if !apierrors.IsForbidden(err) {
		t.Fatalf("sync error = %v, want the Forbidden", err)
	}
	// Slow start: batches of 1, 2, then 4 of which one fails; nothing more is tried.
	if got := attempts.Load(); got != 7 {
		t.Errorf("%d creations attempted, want 7", got)
	}
	st := f.lastStatus()
	if st == nil {
		t.Fatal("no status update")
	}
	c := condition(st.Conditions, appsv1.ReplicaSetReplicaFailure)
	if c == nil || c.Status != corev1.ConditionTrue || c.Reason != FailedCreateReason || !strings.Contains(c.Message, "exceeded quota") {
		t.Errorf("ReplicaFailure condition = %+v", c)
	}
	var failed int
	for _, e := range f.events() {
		if strings.HasPrefix(e, "Warning FailedCreate Error creating: ") {
			failed++
		}
	}
	if failed != 4 {
		t.Errorf("%d FailedCreate events, want 4", failed)
	}
	// Only the 3 pods made are still expected.
	for range 3 {
		if f.c.exp.satisfied("ns/web") {
			t.Fatal("expectations satisfied before the created pods were observed")
		}
		f.c.exp.creationObserved("ns/web")
	}
	if !f.c.exp.satisfied("ns/web") {
		t.Error("expectations still waiting for pods that were never created")
	}
}

func TestSyncRemovesFailureCondition(t *testing.T) {
	rs := newReplicaSet("web", 1)
	rs.Status.ObservedGeneration = 1
	rs.Status.Conditions = []appsv1.ReplicaSetCondition{{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: FailedCreateReason}}
	f := newFixture(t, rs, owned(newPod("web-a"), rs).build())
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	if st := f.lastStatus(); st == nil || len(st.Conditions) != 0 {
		t.Errorf("status = %+v, want the failure condition gone", st)
	}
}

func TestSyncDeletesLeastValuablePods(t *testing.T) {
	rs := newReplicaSet("web", 2)
	pods := []runtime.Object{
		rs,
		owned(newPod("old-ready").node("n").readySince(time.Hour), rs).build(),
		owned(newPod("pending").node("n"), rs).build(),
		owned(newPod("unscheduled"), rs).build(),
		owned(newPod("new-ready").node("n").readySince(time.Minute), rs).build(),
	}
	f := newFixture(t, pods...)
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, a := range f.actions() {
		if strings.HasPrefix(a, "delete pods ") {
			deleted = append(deleted, strings.TrimPrefix(a, "delete pods "))
		}
	}
	if diff := cmp.Diff([]string{"pending", "unscheduled"}, sortedCopy(deleted)); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
	if f.c.exp.satisfied("ns/web") {
		t.Error("expectations satisfied before the deletions were observed")
	}
	f.c.exp.deletionObserved("ns/web", "ns/pending")
	f.c.exp.deletionObserved("ns/web", "ns/unscheduled")
	if !f.c.exp.satisfied("ns/web") {
		t.Error("expectations not satisfied after the deletions were observed")
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestSyncAdoptsAndReleases(t *testing.T) {
	rs := newReplicaSet("web", 2)
	orphan := newPod("orphan").build()
	strayed := owned(newPod("strayed").labels(map[string]string{"app": "other"}), rs).build()
	foreign := newPod("foreign").build()
	foreign.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "x", UID: "other", Controller: ptr.To(true)}}
	terminating := owned(newPod("terminating").deleting(), rs).build()
	f := newFixture(t, rs, orphan, strayed, foreign, terminating, owned(newPod("mine"), rs).build())
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	want := []string{"patch pods strayed", "patch pods orphan", "update replicasets/status web"}
	if diff := cmp.Diff(want, f.actions()); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	for _, a := range f.client.Actions() {
		p, ok := a.(clienttesting.PatchAction)
		if !ok {
			continue
		}
		switch p.GetName() {
		case "orphan":
			if !strings.Contains(string(p.GetPatch()), `"controller":true`) || !strings.Contains(string(p.GetPatch()), `"blockOwnerDeletion":true`) {
				t.Errorf("adoption patch %s", p.GetPatch())
			}
		case "strayed":
			if !strings.Contains(string(p.GetPatch()), `"$patch":"delete"`) {
				t.Errorf("release patch %s", p.GetPatch())
			}
		}
	}
	if st := f.lastStatus(); st.Replicas != 2 || ptr.Deref(st.TerminatingReplicas, -1) != 1 {
		t.Errorf("status = %+v, want 2 replicas and 1 terminating", st)
	}
}

func TestSyncDeletedOwnerDoesNothing(t *testing.T) {
	rs := newReplicaSet("web", 3)
	ts := metav1.NewTime(now)
	rs.DeletionTimestamp = &ts
	f := newFixture(t, rs)
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	for _, a := range f.actions() {
		if strings.HasPrefix(a, "create") {
			t.Errorf("an owner being deleted got pods: %v", f.actions())
		}
	}
}

func TestSyncRequeuesForAvailability(t *testing.T) {
	rs := newReplicaSet("web", 1)
	rs.Spec.MinReadySeconds = 30
	f := newFixture(t, rs, owned(newPod("web-a").readySince(10*time.Second), rs).build())
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	st := f.lastStatus()
	if st.ReadyReplicas != 1 || st.AvailableReplicas != 0 {
		t.Errorf("status = %+v, want 1 ready and 0 available", st)
	}
	updated := rs.DeepCopy()
	updated.Status = *st
	if after, ok := nextAvailabilityCheck(updated, []*corev1.Pod{owned(newPod("web-a").readySince(10*time.Second), rs).build()}, now); !ok || after != 20*time.Second {
		t.Errorf("next availability check in %v %v, want 20s", after, ok)
	}
}

func TestSlowStart(t *testing.T) {
	tests := []struct {
		count, failAt, wantCalls, wantDone int
	}{
		{count: 0, wantCalls: 0, wantDone: 0},
		{count: 1, wantCalls: 1, wantDone: 1},
		{count: 10, wantCalls: 10, wantDone: 10},
		{count: 10, failAt: 1, wantCalls: 1, wantDone: 0},
		{count: 10, failAt: 2, wantCalls: 3, wantDone: 2},
		{count: 10, failAt: 5, wantCalls: 7, wantDone: 6},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%d", tt.count, tt.failAt), func(t *testing.T) {
			var mu sync.Mutex
			calls := 0
			done, err := slowStart(tt.count, func() error {
				mu.Lock()
				defer mu.Unlock()
				calls++
				if calls == tt.failAt {
					return errors.New("boom")
				}
				return nil
			})
			if calls != tt.wantCalls || done != tt.wantDone || (err != nil) != (tt.failAt > 0) {
				t.Errorf("calls %d done %d err %v, want calls %d done %d", calls, done, err, tt.wantCalls, tt.wantDone)
			}
		})
	}
}

func TestExpectationsExpire(t *testing.T) {
	clock := now
	e := newExpectations(func() time.Time { return clock })
	e.expectCreations("k", 2)
	if e.satisfied("k") {
		t.Fatal("satisfied with creations pending")
	}
	clock = clock.Add(expectationsTTL + time.Second)
	if !e.satisfied("k") {
		t.Error("expectations did not expire")
	}
	if !e.satisfied("unknown") {
		t.Error("an owner without expectations must be satisfied")
	}
}
