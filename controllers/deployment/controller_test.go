package deployment

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/ptr"
)

type fixture struct {
	t        *testing.T
	client   *fake.Clientset
	c        *Controller
	recorder *record.FakeRecorder
}

// newFixture builds a controller whose caches and fake apiserver hold objs.
func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	f := &fixture{t: t, client: fake.NewClientset(objs...), recorder: record.NewFakeRecorder(100)}
	factory := informers.NewSharedInformerFactory(f.client, 0)
	c, err := New(f.client, f.recorder, factory.Apps().V1().Deployments(), factory.Apps().V1().ReplicaSets(), factory.Core().V1().Pods())
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return now }
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *appsv1.Deployment:
			err = factory.Apps().V1().Deployments().Informer().GetIndexer().Add(o)
		case *appsv1.ReplicaSet:
			err = factory.Apps().V1().ReplicaSets().Informer().GetIndexer().Add(o)
		case *corev1.Pod:
			err = factory.Core().V1().Pods().Informer().GetIndexer().Add(o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	f.c = c
	return f
}

func (f *fixture) sync() {
	f.t.Helper()
	_, ctx := ktesting.NewTestContext(f.t)
	if err := f.c.syncDeployment(ctx, "ns/web"); err != nil {
		f.t.Fatalf("sync: %v", err)
	}
}

// writes lists the writes made, as "verb resource[/subresource] name".
func (f *fixture) writes() []string {
	var out []string
	for _, a := range f.client.Actions() {
		var name string
		switch a.GetVerb() {
		case "create", "update":
			name = a.(clienttesting.CreateAction).GetObject().(metav1.Object).GetName()
		case "delete":
			name = a.(clienttesting.DeleteAction).GetName()
		case "patch":
			name = a.(clienttesting.PatchAction).GetName()
		default:
			continue
		}
		what := a.GetResource().Resource
		if a.GetSubresource() != "" {
			what += "/" + a.GetSubresource()
		}
		out = append(out, a.GetVerb()+" "+what+" "+name)
	}
	return out
}

// written returns the objects written by verb to resource/subresource, in order.
func written[T runtime.Object](f *fixture, verb, resource, subresource string) []T {
	var out []T
	for _, a := range f.client.Actions() {
		if a.GetVerb() != verb || a.GetResource().Resource != resource || a.GetSubresource() != subresource {
			continue
		}
		out = append(out, a.(clienttesting.CreateAction).GetObject().(T))
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

func (f *fixture) lastStatus() *appsv1.Deployment {
	ds := written[*appsv1.Deployment](f, "update", "deployments", "status")
	if len(ds) == 0 {
		f.t.Fatal("no status update")
	}
	return ds[len(ds)-1]
}

func condition(d *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	return getCondition(d.Status, t)
}

func TestSyncNewDeployment(t *testing.T) {
	d := deployment("nginx:1", 4)
	f := newFixture(t, d)
	f.sync()
	hash := TemplateHash(&d.Spec.Template, nil)
	name := "web-" + hash
	want := []string{"create replicasets " + name, "update deployments/status web", "update deployments/status web"}
	if diff := cmp.Diff(want, f.writes()); diff != "" {
		t.Fatalf("writes (-want +got):\n%s", diff)
	}
	rs := written[*appsv1.ReplicaSet](f, "create", "replicasets", "")[0]
	if *rs.Spec.Replicas != 4 || rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash ||
		rs.Spec.Selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] != hash || rs.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash ||
		!metav1.IsControlledBy(rs, d) {
		t.Errorf("new replica set = %+v", rs)
	}
	wantAnn := map[string]string{RevisionAnnotation: "1", DesiredReplicasAnnotation: "4", MaxReplicasAnnotation: "5"}
	if diff := cmp.Diff(wantAnn, rs.Annotations); diff != "" {
		t.Errorf("replica set annotations (-want +got):\n%s", diff)
	}
	first := written[*appsv1.Deployment](f, "update", "deployments", "status")[0]
	if first.Annotations[RevisionAnnotation] != "1" {
		t.Errorf("deployment revision = %q, want 1", first.Annotations[RevisionAnnotation])
	}
	if c := condition(first, appsv1.DeploymentProgressing); c == nil || c.Reason != NewReplicaSetReason || c.Message != `Created new replica set "`+name+`"` {
		t.Errorf("Progressing = %+v", c)
	}
	last := f.lastStatus()
	if c := condition(last, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionFalse || c.Reason != MinimumReplicasUnavailable {
		t.Errorf("Available = %+v", c)
	}
	if diff := cmp.Diff([]string{"Normal ScalingReplicaSet Scaled up replica set " + name + " from 0 to 4"}, f.events()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestSyncRollingUpdate(t *testing.T) {
	tests := []struct {
		name       string
		d          *appsv1.Deployment
		rss        func(d *appsv1.Deployment) []runtime.Object
		wantWrites []string
		wantSizes  map[string]int32
		wantEvents []string
	}{
		{
			name: "new template: a new replica set within the surge",
			d:    deployment("image-b", 4),
			rss: func(d *appsv1.Deployment) []runtime.Object {
				return []runtime.Object{ownedBy(withSizedFor(withRevision(rs("a", 4, 4), 1), 4, 5), d)}
			},
			// Created at 1 (4 + 1 surge), and one old pod may go at once (1 unavailable).
			wantWrites: []string{"create replicasets web-*", "update deployments/status web", "update replicasets a", "update deployments/status web"},
			wantSizes:  map[string]int32{"a": 3},
			wantEvents: []string{"Normal ScalingReplicaSet Scaled up replica set web-* from 0 to 1", "Normal ScalingReplicaSet Scaled down replica set a from 4 to 3"},
		},
		{
			name: "new pods available: old scaled down to the minimum",
			d:    deployment("image-b", 4),
			rss: func(d *appsv1.Deployment) []runtime.Object {
				return []runtime.Object{
					ownedBy(withSizedFor(withRevision(rs("a", 4, 4), 1), 4, 5), d),
					ownedBy(withSizedFor(withRevision(rs("b", 1, 1), 2), 4, 5), d),
				}
			},
			wantWrites: []string{"update deployments/status web", "update replicasets a", "update deployments/status web"},
			wantSizes:  map[string]int32{"a": 2},
			wantEvents: []string{"Normal ScalingReplicaSet Scaled down replica set a from 4 to 2"},
		},
		{
			name: "new pods unavailable: nothing more to do",
			d:    deployment("image-b", 4),
			rss: func(d *appsv1.Deployment) []runtime.Object {
				return []runtime.Object{
					ownedBy(withSizedFor(withRevision(rs("a", 3, 3), 1), 4, 5), d),
					ownedBy(withSizedFor(withRevision(rs("b", 2, 0), 2), 4, 5), d),
				}
			},
			// 5 pods, 3 must stay available, 2 new ones unavailable: no budget.
			wantWrites: []string{"update deployments/status web", "update deployments/status web"},
		},
		{
			name: "unavailable old pods go first",
			d:    deployment("image-b", 4),
			rss: func(d *appsv1.Deployment) []runtime.Object {
				return []runtime.Object{
					ownedBy(withSizedFor(withRevision(rs("a", 4, 2), 1), 4, 5), d),
					ownedBy(withSizedFor(withRevision(rs("b", 1, 1), 2), 4, 5), d),
				}
			},
			// Budget 5 - 3 - 0 = 2: the 2 unavailable; then 3 available = the minimum.
			wantWrites: []string{"update deployments/status web", "update replicasets a", "update deployments/status web"},
			wantSizes:  map[string]int32{"a": 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.d.Spec.Template = *template("image-b")
			objs := append([]runtime.Object{tt.d}, tt.rss(tt.d)...)
			f := newFixture(t, objs...)
			f.sync()
			got := f.writes()
			for i := range got {
				if strings.HasPrefix(got[i], "create replicasets web-") {
					got[i] = "create replicasets web-*"
				}
			}
			if diff := cmp.Diff(tt.wantWrites, got); diff != "" {
				t.Errorf("writes (-want +got):\n%s", diff)
			}
			for _, rs := range written[*appsv1.ReplicaSet](f, "update", "replicasets", "") {
				if want, ok := tt.wantSizes[rs.Name]; ok && *rs.Spec.Replicas != want {
					t.Errorf("%s scaled to %d, want %d", rs.Name, *rs.Spec.Replicas, want)
				}
			}
			if tt.wantEvents != nil {
				events := f.events()
				for i := range events {
					if j := strings.Index(events[i], "web-"); j >= 0 {
						events[i] = events[i][:j] + "web-*" + events[i][strings.Index(events[i][j:], " ")+j:]
					}
				}
				if diff := cmp.Diff(tt.wantEvents, events); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestSyncRecreate(t *testing.T) {
	recreate := func() *appsv1.Deployment {
		d := deployment("image-b", 3)
		d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
		return d
	}
	runningPod := func(owner *appsv1.ReplicaSet) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: owner.Name + "-pod", Namespace: "ns",
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(owner, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning},
		}
	}
	t.Run("scales the old replica sets down first", func(t *testing.T) {
		d := recreate()
		old := ownedBy(withRevision(rs("a", 3, 3), 1), d)
		f := newFixture(t, d, old, runningPod(old))
		f.sync()
		if diff := cmp.Diff([]string{"update replicasets a", "update deployments/status web"}, f.writes()); diff != "" {
			t.Errorf("writes (-want +got):\n%s", diff)
		}
	})
	t.Run("waits for the old pods to go", func(t *testing.T) {
		d := recreate()
		old := ownedBy(withRevision(rs("a", 0, 0), 1), d)
		f := newFixture(t, d, old, runningPod(old))
		f.sync()
		for _, w := range f.writes() {
			if strings.HasPrefix(w, "create") {
				t.Errorf("created a replica set while old pods run: %v", f.writes())
			}
		}
	})
	t.Run("then starts the new ones all at once", func(t *testing.T) {
		d := recreate()
		old := ownedBy(withRevision(rs("a", 0, 0), 1), d)
		failed := runningPod(old)
		failed.Status.Phase = corev1.PodFailed
		f := newFixture(t, d, old, failed)
		f.sync()
		created := written[*appsv1.ReplicaSet](f, "create", "replicasets", "")
		if len(created) != 1 || *created[0].Spec.Replicas != 3 {
			t.Errorf("created %v, want one replica set of 3", f.writes())
		}
	})
}

func TestSyncScalingEvent(t *testing.T) {
	d := rollingDeployment(20, intstrFrom(3), intstrFrom(2))
	d.ObjectMeta = deployment("image-b", 20).ObjectMeta
	d.Spec.Selector = deployment("image-b", 20).Spec.Selector
	d.Spec.Template = *template("image-b")
	a := ownedBy(withSizedFor(withRevision(rs("a", 8, 8), 1), 10, 13), d)
	b := ownedBy(withSizedFor(withRevision(rs("b", 5, 0), 2), 10, 13), d)
	f := newFixture(t, d, a, b)
	f.sync()
	sizes := map[string]int32{}
	for _, rs := range written[*appsv1.ReplicaSet](f, "update", "replicasets", "") {
		sizes[rs.Name] = *rs.Spec.Replicas
		if rs.Annotations[DesiredReplicasAnnotation] != "20" || rs.Annotations[MaxReplicasAnnotation] != "23" {
			t.Errorf("%s annotations %v", rs.Name, rs.Annotations)
		}
	}
	if diff := cmp.Diff(map[string]int32{"a": 14, "b": 9}, sizes); diff != "" {
		t.Errorf("sizes (-want +got):\n%s", diff)
	}
}

func TestSyncPaused(t *testing.T) {
	d := deployment("image-b", 3)
	d.Spec.Paused = true
	old := ownedBy(withSizedFor(withRevision(rs("a", 2, 2), 1), 2, 3), d)
	f := newFixture(t, d, old)
	f.sync()
	// No rollout: no new replica set; but the resize happens.
	if diff := cmp.Diff([]string{"update deployments/status web", "update replicasets a", "update deployments/status web"}, f.writes()); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	first := written[*appsv1.Deployment](f, "update", "deployments", "status")[0]
	if c := condition(first, appsv1.DeploymentProgressing); c == nil || c.Status != corev1.ConditionUnknown || c.Reason != PausedReason {
		t.Errorf("Progressing = %+v", c)
	}
}

func TestSyncProgressDeadline(t *testing.T) {
	d := deployment("image-b", 4)
	d.Annotations[RevisionAnnotation] = "2"
	since := metav1.NewTime(now.Add(-11 * time.Minute))
	// Stuck: 3 old pods available, 2 new ones not, nothing can move.
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 5, UpdatedReplicas: 2, ReadyReplicas: 3, AvailableReplicas: 3, UnavailableReplicas: 2,
		TerminatingReplicas: ptr.To[int32](0),
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: MinimumReplicasAvailable, Message: "Deployment has minimum availability.", LastUpdateTime: since, LastTransitionTime: since},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: ReplicaSetUpdatedReason, LastUpdateTime: since, LastTransitionTime: since},
		}}
	a := ownedBy(withSizedFor(withRevision(rs("a", 3, 3), 1), 4, 5), d)
	a.Status.TerminatingReplicas = ptr.To[int32](0)
	b := ownedBy(withSizedFor(withRevision(rs("b", 2, 0), 2), 4, 5), d)
	b.Spec.Template = *template("image-b")
	b.Status.TerminatingReplicas = ptr.To[int32](0)
	f := newFixture(t, d, a, b)
	f.sync()
	st := f.lastStatus()
	c := condition(st, appsv1.DeploymentProgressing)
	if c == nil || c.Status != corev1.ConditionFalse || c.Reason != TimedOutReason || c.Message != `ReplicaSet "b" has timed out progressing.` {
		t.Errorf("Progressing = %+v", c)
	}
	if len(f.writes()) != 1 {
		t.Errorf("writes = %v, want only the status", f.writes())
	}
}

func TestSyncCleansUpHistory(t *testing.T) {
	d := deployment("image-d", 1)
	d.Spec.RevisionHistoryLimit = ptr.To[int32](1)
	d.Annotations[RevisionAnnotation] = "4"
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
	cur := ownedBy(withSizedFor(withRevision(rs("d", 1, 1), 4), 1, 2), d)
	cur.Spec.Template = *template("image-d")
	f := newFixture(t, d, cur,
		ownedBy(withRevision(rs("a", 0, 0), 1), d),
		ownedBy(withRevision(rs("b", 0, 0), 3), d),
		ownedBy(withRevision(rs("c", 0, 0), 2), d))
	f.sync()
	var deleted []string
	for _, w := range f.writes() {
		if strings.HasPrefix(w, "delete replicasets ") {
			deleted = append(deleted, strings.TrimPrefix(w, "delete replicasets "))
		}
	}
	if diff := cmp.Diff([]string{"a", "c"}, deleted); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
}

func TestSyncDeprecatedRollback(t *testing.T) {
	d := deployment("image-b", 2)
	d.Annotations[appsv1.DeprecatedRollbackTo] = "0"
	d.Annotations[RevisionAnnotation] = "2"
	a := ownedBy(withRevision(rs("a", 0, 0), 1), d)
	a.Annotations["kubernetes.io/change-cause"] = "first"
	a.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = "hash-a"
	b := ownedBy(withRevision(rs("b", 2, 2), 2), d)
	b.Spec.Template = *template("image-b")
	f := newFixture(t, d, a, b)
	f.sync()
	updates := written[*appsv1.Deployment](f, "update", "deployments", "")
	if len(updates) != 1 {
		t.Fatalf("writes = %v, want one deployment update", f.writes())
	}
	got := updates[0]
	if got.Spec.Template.Spec.Containers[0].Image != "image-a" || got.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != "" {
		t.Errorf("template after rollback = %+v", got.Spec.Template)
	}
	if _, ok := got.Annotations[appsv1.DeprecatedRollbackTo]; ok || got.Annotations["kubernetes.io/change-cause"] != "first" || got.Annotations[RevisionAnnotation] != "2" {
		t.Errorf("annotations after rollback = %v", got.Annotations)
	}
}
