package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/capstan-dev/capstan/test/integration/framework"
)

func newNamespace(t *testing.T, c kubernetes.Interface, name string) {
	t.Helper()
	if _, err := c.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func deployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10"}}},
			},
		},
	}
}

func TestClientGo(t *testing.T) {
	s := framework.Start(t)
	c := s.Client(t)
	ctx := context.Background()
	newNamespace(t, c, "clientgo")

	t.Run("typed create defaults and bumps generation", func(t *testing.T) {
		d, err := c.AppsV1().Deployments("clientgo").Create(ctx, deployment("typed", 1), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || d.Spec.RevisionHistoryLimit == nil || *d.Spec.RevisionHistoryLimit != 10 {
			t.Errorf("deployment not defaulted: %+v", d.Spec)
		}
		if got := d.Spec.Template.Spec.Containers[0].TerminationMessagePath; got != "/dev/termination-log" {
			t.Errorf("pod template not defaulted: terminationMessagePath %q", got)
		}
		if d.Generation != 1 {
			t.Errorf("generation = %d, want 1", d.Generation)
		}
		// The deployment controller writes the status meanwhile: every write
		// here re-reads the object when it loses the race.
		err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur, err := c.AppsV1().Deployments("clientgo").Get(ctx, "typed", metav1.GetOptions{})
			if err != nil {
				return err
			}
			cur.Spec.Replicas = ptr.To[int32](3)
			d, err = c.AppsV1().Deployments("clientgo").Update(ctx, cur, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if d.Generation != 2 {
			t.Errorf("generation after spec change = %d, want 2", d.Generation)
		}
		// A status write must not change the spec, and a spec write must not change the status.
		err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur, err := c.AppsV1().Deployments("clientgo").Get(ctx, "typed", metav1.GetOptions{})
			if err != nil {
				return err
			}
			cur.Status.ObservedGeneration = 2
			cur.Spec.Replicas = ptr.To[int32](7)
			d, err = c.AppsV1().Deployments("clientgo").UpdateStatus(ctx, cur, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if *d.Spec.Replicas != 3 || d.Status.ObservedGeneration != 2 {
			t.Errorf("status update: replicas %d observedGeneration %d, want 3 and 2", *d.Spec.Replicas, d.Status.ObservedGeneration)
		}
	})

	t.Run("scale subresource", func(t *testing.T) {
		first := true
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			sc, err := c.AppsV1().Deployments("clientgo").GetScale(ctx, "typed", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if first && (sc.Spec.Replicas != 3 || sc.Status.Selector != "app=typed") {
				t.Errorf("scale = %+v", sc)
			}
			first = false
			sc.Spec.Replicas = 5
			_, err = c.AppsV1().Deployments("clientgo").UpdateScale(ctx, "typed", sc, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.AppsV1().Deployments("clientgo").Get(ctx, "typed", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if *d.Spec.Replicas != 5 {
			t.Errorf("replicas after scale = %d, want 5", *d.Spec.Replicas)
		}
	})

	t.Run("dynamic client", func(t *testing.T) {
		dyn, err := dynamic.NewForConfig(s.Config)
		if err != nil {
			t.Fatal(err)
		}
		gvr := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "dyn", "labels": map[string]any{"via": "dynamic"}},
			"data":     map[string]any{"k": "v"},
		}}
		if _, err := dyn.Resource(gvr).Namespace("clientgo").Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		list, err := dyn.Resource(gvr).Namespace("clientgo").List(ctx, metav1.ListOptions{LabelSelector: "via=dynamic"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 1 || list.Items[0].GetName() != "dyn" {
			t.Errorf("label-selected list = %v", list.Items)
		}
		list, err = dyn.Resource(gvr).Namespace("clientgo").List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=dyn"})
		if err != nil || len(list.Items) != 1 {
			t.Errorf("field-selected list: %v items, err %v", len(list.Items), err)
		}
		if _, err := dyn.Resource(gvr).Namespace("clientgo").List(ctx, metav1.ListOptions{FieldSelector: "spec.nonsense=x"}); !apierrors.IsBadRequest(err) {
			t.Errorf("unsupported field selector: err = %v, want 400", err)
		}
	})

	t.Run("server-side apply with apply configurations", func(t *testing.T) {
		ac := appsv1ac.Deployment("applied", "clientgo").
			WithLabels(map[string]string{"owner": "a"}).
			WithSpec(appsv1ac.DeploymentSpec().
				WithReplicas(2).
				WithSelector(metav1ac.LabelSelector().WithMatchLabels(map[string]string{"app": "applied"})).
				WithTemplate(corev1ac.PodTemplateSpec().
					WithLabels(map[string]string{"app": "applied"}).
					WithSpec(corev1ac.PodSpec().WithContainers(corev1ac.Container().WithName("app").WithImage("img:1")))))
		d, err := c.AppsV1().Deployments("clientgo").Apply(ctx, ac, metav1.ApplyOptions{FieldManager: "manager-a"})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.ManagedFields) == 0 || d.ManagedFields[0].Manager != "manager-a" {
			t.Errorf("managedFields = %+v", d.ManagedFields)
		}
		// Another manager changing an owned field conflicts unless it forces.
		other := appsv1ac.Deployment("applied", "clientgo").WithSpec(appsv1ac.DeploymentSpec().WithReplicas(4))
		_, err = c.AppsV1().Deployments("clientgo").Apply(ctx, other, metav1.ApplyOptions{FieldManager: "manager-b"})
		if !apierrors.IsConflict(err) {
			t.Fatalf("conflicting apply: err = %v, want 409 Conflict", err)
		}
		d, err = c.AppsV1().Deployments("clientgo").Apply(ctx, other, metav1.ApplyOptions{FieldManager: "manager-b", Force: true})
		if err != nil {
			t.Fatal(err)
		}
		if *d.Spec.Replicas != 4 {
			t.Errorf("forced apply: replicas %d, want 4", *d.Spec.Replicas)
		}
	})

	t.Run("informer sees adds, updates and deletes", func(t *testing.T) {
		factory := informers.NewSharedInformerFactoryWithOptions(c, 0, informers.WithNamespace("clientgo"))
		inf := factory.Core().V1().ConfigMaps().Informer()
		events := make(chan string, 100)
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { events <- "add " + o.(*corev1.ConfigMap).Name },
			UpdateFunc: func(_, o any) { events <- "update " + o.(*corev1.ConfigMap).Name },
			DeleteFunc: func(o any) {
				if cm, ok := o.(*corev1.ConfigMap); ok {
					events <- "delete " + cm.Name
				}
			},
		})
		stop := make(chan struct{})
		defer close(stop)
		factory.Start(stop)
		if !cache.WaitForCacheSync(stop, inf.HasSynced) {
			t.Fatal("informer did not sync")
		}
		cm, err := c.CoreV1().ConfigMaps("clientgo").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "informed"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cm.Data = map[string]string{"a": "b"}
		if _, err := c.CoreV1().ConfigMaps("clientgo").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := c.CoreV1().ConfigMaps("clientgo").Delete(ctx, "informed", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		want := []string{"add informed", "update informed", "delete informed"}
		var got []string
		timeout := time.After(30 * time.Second)
		for len(got) < len(want) {
			select {
			case e := <-events:
				if e == "add informed" || e == "update informed" || e == "delete informed" {
					got = append(got, e)
				}
			case <-timeout:
				t.Fatalf("informer events so far %v, want %v", got, want)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("informer events (-want +got):\n%s", diff)
		}
	})
}

func TestWatchResumeAndGone(t *testing.T) {
	s := framework.Start(t)
	c := s.Client(t)
	ctx := context.Background()
	newNamespace(t, c, "watch")
	cms := c.CoreV1().ConfigMaps("watch")
	first, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"b", "c"} {
		if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Resuming from the first object's resourceVersion replays exactly what came after it.
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: first.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	timeout := time.After(30 * time.Second)
	for len(names) < 2 {
		select {
		case e := <-w.ResultChan():
			if e.Type != watch.Added {
				t.Fatalf("unexpected event %v", e.Type)
			}
			names = append(names, e.Object.(*corev1.ConfigMap).Name)
		case <-timeout:
			t.Fatalf("resumed watch delivered only %v", names)
		}
	}
	w.Stop()
	if diff := cmp.Diff([]string{"b", "c"}, names); diff != "" {
		t.Errorf("resumed watch (-want +got):\n%s", diff)
	}

	t.Run("bookmarks and sendInitialEvents", func(t *testing.T) {
		w, err := cms.Watch(ctx, metav1.ListOptions{
			SendInitialEvents: ptr.To(true), AllowWatchBookmarks: true,
			ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		added := 0
		timeout := time.After(30 * time.Second)
		for {
			select {
			case e := <-w.ResultChan():
				switch e.Type {
				case watch.Added:
					added++
				case watch.Bookmark:
					m, _ := e.Object.(*corev1.ConfigMap)
					if m == nil || m.Annotations[metav1.InitialEventsAnnotationKey] != "true" {
						continue
					}
					if added != 3 {
						t.Errorf("initial events before the bookmark: %d, want 3", added)
					}
					return
				}
			case <-timeout:
				t.Fatalf("no initial-events-end bookmark; %d added events", added)
			}
		}
	})
}

// TestCompactedResourceVersionIsGone reconnects to a restarted server with
// a resourceVersion that etcd has compacted away: upstream answers 410 Gone
// to both the watch and the exact list, and so must Capstan.
func TestCompactedResourceVersionIsGone(t *testing.T) {
	dir := t.TempDir()
	s := framework.StartIn(t, dir)
	ctx := context.Background()
	c := s.Client(t)
	newNamespace(t, c, "gone")
	cms := c.CoreV1().ConfigMaps("gone")
	first, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "first"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("h%d", i)}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := framework.Compact(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	s = framework.StartIn(t, dir)
	cms = s.Client(t).CoreV1().ConfigMaps("gone")

	_, err = cms.List(ctx, metav1.ListOptions{ResourceVersion: first.ResourceVersion, ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
		t.Errorf("exact list at a compacted resourceVersion: err = %v, want 410", err)
	}
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: first.ResourceVersion})
	if err != nil {
		if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
			t.Fatalf("watch from a compacted resourceVersion: err = %v, want 410", err)
		}
		return
	}
	defer w.Stop()
	select {
	case e := <-w.ResultChan():
		st, ok := e.Object.(*metav1.Status)
		if e.Type != watch.Error || !ok || st.Code != 410 {
			t.Errorf("watch from a compacted resourceVersion: first event %v %+v, want an Error with code 410", e.Type, e.Object)
		}
	case <-time.After(30 * time.Second):
		t.Error("watch from a compacted resourceVersion: no event within 30s")
	}
}

func TestPaginatedList(t *testing.T) {
	s := framework.Start(t)
	c := s.Client(t)
	ctx := context.Background()
	newNamespace(t, c, "pages")
	// The namespace also holds kube-root-ca.crt, published by a controller; wait for it so the count is exact.
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := c.CoreV1().ConfigMaps("pages").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		return err == nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	const total = 3000 + 1
	cfg := rest.CopyConfig(s.Config)
	cfg.QPS, cfg.Burst = -1, 0
	fast, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, total)
	sem := make(chan struct{}, 32)
	for i := 0; i < total-1; i++ {
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem }()
			_, err := fast.CoreV1().ConfigMaps("pages").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%05d", i)}}, metav1.CreateOptions{})
			errs <- err
		}(i)
	}
	for i := 0; i < total-1; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	opts := metav1.ListOptions{Limit: 250}
	pages := 0
	var rv string
	for {
		list, err := c.CoreV1().ConfigMaps("pages").List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if rv == "" {
			rv = list.ResourceVersion
		} else if list.ResourceVersion != rv {
			t.Errorf("page %d at resourceVersion %s, first page at %s: pages must be one snapshot", pages, list.ResourceVersion, rv)
		}
		if len(list.Items) > 250 {
			t.Errorf("page of %d items, limit 250", len(list.Items))
		}
		for _, cm := range list.Items {
			if seen[cm.Name] {
				t.Errorf("%s listed twice", cm.Name)
			}
			seen[cm.Name] = true
		}
		if list.Continue == "" {
			break
		}
		if list.RemainingItemCount == nil {
			t.Errorf("page %d lacks remainingItemCount", pages)
		}
		opts.Continue = list.Continue
	}
	if wantPages := (total + 249) / 250; len(seen) != total || pages != wantPages {
		t.Errorf("listed %d objects in %d pages, want %d in %d", len(seen), pages, total, wantPages)
	}
	// resourceVersionMatch=Exact reads the snapshot of the first page.
	list, err := c.CoreV1().ConfigMaps("pages").List(ctx, metav1.ListOptions{ResourceVersion: rv, ResourceVersionMatch: metav1.ResourceVersionMatchExact, Limit: 1})
	if err != nil || len(list.Items) != 1 {
		t.Errorf("exact list: %v, err %v", list, err)
	}
}
