package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/capstan-dev/capstan/test/integration/framework"
)

// lifecycleTimeout bounds each wait for a lifecycle controller: the garbage
// collector and the namespace controller act within seconds; pod GC waits
// out a 40 s quarantine first.
const lifecycleTimeout = 90 * time.Second

func awaitCondition(t *testing.T, what string, timeout time.Duration, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, timeout, true, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// untilNotFound is a condition that holds once get reports NotFound.
func untilNotFound(get func(ctx context.Context) error) func(ctx context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		err := get(ctx)
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	}
}

func ownerRefTo(owner metav1.Object, apiVersion, kind string, block bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: owner.GetName(), UID: owner.GetUID(), BlockOwnerDeletion: ptr.To(block)}
}

type cmFixture struct {
	t  *testing.T
	c  kubernetes.Interface
	ns string
}

func (m cmFixture) create(name string, finalizers []string, owners ...metav1.OwnerReference) *corev1.ConfigMap {
	m.t.Helper()
	cm, err := m.c.CoreV1().ConfigMaps(m.ns).Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Finalizers: finalizers, OwnerReferences: owners},
	}, metav1.CreateOptions{})
	if err != nil {
		m.t.Fatal(err)
	}
	return cm
}

func (m cmFixture) get(ctx context.Context, name string) (*corev1.ConfigMap, error) {
	return m.c.CoreV1().ConfigMaps(m.ns).Get(ctx, name, metav1.GetOptions{})
}

func (m cmFixture) delete(name string, policy metav1.DeletionPropagation) {
	m.t.Helper()
	if err := m.c.CoreV1().ConfigMaps(m.ns).Delete(context.Background(), name, metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil {
		m.t.Fatal(err)
	}
}

func (m cmFixture) waitGone(names ...string) {
	m.t.Helper()
	for _, name := range names {
		awaitCondition(m.t, "configmap "+name+" deleted", lifecycleTimeout, untilNotFound(func(ctx context.Context) error {
			_, err := m.get(ctx, name)
			return err
		}))
	}
}

func (m cmFixture) dropFinalizers(name string) {
	m.t.Helper()
	patch := []byte(`{"metadata":{"finalizers":null}}`)
	if _, err := m.c.CoreV1().ConfigMaps(m.ns).Patch(context.Background(), name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		m.t.Fatal(err)
	}
}

// TestGarbageCollectorPropagation deletes owners with each propagation
// policy and checks what becomes of their dependents.
func TestGarbageCollectorPropagation(t *testing.T) {
	s := framework.Start(t)
	c := s.Client(t)
	ctx := context.Background()
	newNamespace(t, c, "gc")
	cms := cmFixture{t, c, "gc"}

	t.Run("background: a ReplicaSet's pods and configmap go after it", func(t *testing.T) {
		labels := map[string]string{"app": "web"}
		rs, err := c.AppsV1().ReplicaSets("gc").Create(ctx, &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "web"},
			Spec: appsv1.ReplicaSetSpec{
				Replicas: ptr.To[int32](2),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "img"}}},
				},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ref := ownerRefTo(rs, "apps/v1", "ReplicaSet", true)
		ref.Controller = ptr.To(true)
		for _, name := range []string{"web-1", "web-2"} {
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, OwnerReferences: []metav1.OwnerReference{ref}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "img"}}},
			}
			if _, err := c.CoreV1().Pods("gc").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		cms.create("web-config", nil, ownerRefTo(rs, "apps/v1", "ReplicaSet", false))
		if err := c.AppsV1().ReplicaSets("gc").Delete(ctx, "web", metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)}); err != nil {
			t.Fatal(err)
		}
		// Whoever created them (a ReplicaSet controller may have added its own),
		// no pod of the ReplicaSet outlives it.
		awaitCondition(t, "the ReplicaSet's pods deleted", lifecycleTimeout, func(ctx context.Context) (bool, error) {
			pods, err := c.CoreV1().Pods("gc").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
			return err == nil && len(pods.Items) == 0, err
		})
		cms.waitGone("web-config")
	})

	t.Run("foreground: the owner waits for blocking dependents, down the tree", func(t *testing.T) {
		owner := cms.create("fg-owner", nil)
		child := cms.create("fg-child", nil, ownerRefTo(owner, "v1", "ConfigMap", true))
		cms.create("fg-grandchild", []string{"example.com/hold"}, ownerRefTo(child, "v1", "ConfigMap", true))
		cms.create("fg-free", nil, ownerRefTo(owner, "v1", "ConfigMap", false))
		cms.delete("fg-owner", metav1.DeletePropagationForeground)

		cms.waitGone("fg-free")
		awaitCondition(t, "grandchild deleting", lifecycleTimeout, func(ctx context.Context) (bool, error) {
			gc, err := cms.get(ctx, "fg-grandchild")
			return err == nil && gc.DeletionTimestamp != nil, err
		})
		// The grandchild is held by its finalizer, so its ancestors must still be there.
		for _, name := range []string{"fg-owner", "fg-child"} {
			cm, err := cms.get(ctx, name)
			if err != nil {
				t.Fatalf("%s gone while a blocking descendant remains: %v", name, err)
			}
			if cm.DeletionTimestamp == nil || !slices.Contains(cm.Finalizers, metav1.FinalizerDeleteDependents) {
				t.Errorf("%s: deletionTimestamp %v finalizers %v, want a foreground deletion", name, cm.DeletionTimestamp, cm.Finalizers)
			}
		}
		cms.dropFinalizers("fg-grandchild")
		cms.waitGone("fg-grandchild", "fg-child", "fg-owner")
	})

	t.Run("orphan: dependents stay, without the reference", func(t *testing.T) {
		owner := cms.create("or-owner", nil)
		other := cms.create("or-other", nil)
		cms.create("or-dep1", nil, ownerRefTo(owner, "v1", "ConfigMap", true))
		cms.create("or-dep2", nil, ownerRefTo(owner, "v1", "ConfigMap", false), ownerRefTo(other, "v1", "ConfigMap", false))
		cms.delete("or-owner", metav1.DeletePropagationOrphan)
		cms.waitGone("or-owner")
		for name, want := range map[string][]types.UID{"or-dep1": nil, "or-dep2": {other.UID}} {
			cm, err := cms.get(ctx, name)
			if err != nil {
				t.Fatalf("orphaned %s: %v", name, err)
			}
			var got []types.UID
			for _, o := range cm.OwnerReferences {
				got = append(got, o.UID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s owners = %v, want %v", name, got, want)
			}
		}
	})

	t.Run("dangling references count as gone", func(t *testing.T) {
		ghost := &metav1.ObjectMeta{Name: "ghost", UID: "6d0e1e5c-0000-4000-8000-000000000001"}
		solid := cms.create("dg-solid", nil)
		cms.create("dg-only", nil, ownerRefTo(ghost, "v1", "ConfigMap", false))
		cms.create("dg-mixed", nil, ownerRefTo(ghost, "v1", "ConfigMap", false), ownerRefTo(solid, "v1", "ConfigMap", false))
		cms.waitGone("dg-only")
		awaitCondition(t, "dangling reference removed from dg-mixed", lifecycleTimeout, func(ctx context.Context) (bool, error) {
			cm, err := cms.get(ctx, "dg-mixed")
			if err != nil {
				return false, err
			}
			return len(cm.OwnerReferences) == 1 && cm.OwnerReferences[0].UID == solid.UID, nil
		})
	})

	t.Run("an owner in another namespace is invalid", func(t *testing.T) {
		newNamespace(t, c, "gc-other")
		owner := cms.create("ns-owner", nil)
		other := cmFixture{t, c, "gc-other"}
		other.create("ns-dep", nil, ownerRefTo(owner, "v1", "ConfigMap", false))
		other.waitGone("ns-dep")
		awaitCondition(t, "OwnerRefInvalidNamespace event", lifecycleTimeout, func(ctx context.Context) (bool, error) {
			events, err := c.CoreV1().Events("gc-other").List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("reason", "OwnerRefInvalidNamespace").String()})
			if err != nil {
				return false, err
			}
			for _, e := range events.Items {
				if e.InvolvedObject.Name == "ns-dep" && e.Type == corev1.EventTypeWarning && e.Source.Component == "garbage-collector-controller" {
					return true, nil
				}
			}
			return false, nil
		})
		if _, err := cms.get(ctx, "ns-owner"); err != nil {
			t.Errorf("the owner itself was touched: %v", err)
		}
	})
}

// createTestCRD creates a namespaced custom resource definition with kind and
// waits until its resource is served.
func createTestCRD(t *testing.T, s *framework.Server, group, kind, plural string) schema.GroupVersionResource {
	t.Helper()
	ctx := context.Background()
	ext, err := apiextensionsclient.NewForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + "." + group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: group,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: plural, Kind: kind, ListKind: kind + "List"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: ptr.To(true),
				}},
			}},
		},
	}
	if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: group, Version: "v1", Resource: plural}
	dyn := dynamic.NewForConfigOrDie(s.Config)
	awaitCondition(t, "custom resource "+plural+" served", lifecycleTimeout, func(ctx context.Context) (bool, error) {
		got, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		established := slices.ContainsFunc(got.Status.Conditions, func(c apiextensionsv1.CustomResourceDefinitionCondition) bool {
			return c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue
		})
		if !established {
			return false, nil
		}
		_, err = dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
		return err == nil, nil
	})
	awaitCondition(t, "custom resource "+plural+" in discovery", lifecycleTimeout, func(ctx context.Context) (bool, error) {
		list, err := kubernetes.NewForConfigOrDie(s.Config).Discovery().ServerResourcesForGroupVersion(group + "/v1")
		if err != nil {
			return false, nil
		}
		return slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == plural }), nil
	})
	return gvr
}

func newCustomResource(gvr schema.GroupVersionResource, kind, name string, finalizers []string, owners ...metav1.OwnerReference) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(gvr.GroupVersion().String())
	u.SetKind(kind)
	u.SetName(name)
	u.SetFinalizers(finalizers)
	u.SetOwnerReferences(owners)
	u.Object["spec"] = map[string]any{"size": int64(1)}
	return u
}

// TestGarbageCollectorCustomResources: custom resources as owners and as
// dependents, for a CRD created after the collector started.
func TestGarbageCollectorCustomResources(t *testing.T) {
	s := framework.Start(t)
	c := s.Client(t)
	ctx := context.Background()
	newNamespace(t, c, "crgc")
	gvr := createTestCRD(t, s, "gc.example.com", "Widget", "widgets")
	widgets := dynamic.NewForConfigOrDie(s.Config).Resource(gvr).Namespace("crgc")
	cms := cmFixture{t, c, "crgc"}
	create := func(name string, owners ...metav1.OwnerReference) *unstructured.Unstructured {
		t.Helper()
		w, err := widgets.Create(ctx, newCustomResource(gvr, "Widget", name, nil, owners...), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	widgetGone := func(name string) {
		t.Helper()
		awaitCondition(t, "widget "+name+" deleted", lifecycleTimeout, untilNotFound(func(ctx context.Context) error {
			_, err := widgets.Get(ctx, name, metav1.GetOptions{})
			return err
		}))
	}

	t.Run("background", func(t *testing.T) {
		owner := create("owner")
		create("child", ownerRefTo(owner, "gc.example.com/v1", "Widget", true))
		cms.create("cm-child", nil, ownerRefTo(owner, "gc.example.com/v1", "Widget", false))
		cmOwner := cms.create("cm-owner", nil)
		create("child-of-cm", ownerRefTo(cmOwner, "v1", "ConfigMap", false))
		if err := widgets.Delete(ctx, "owner", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		widgetGone("child")
		cms.waitGone("cm-child")
		cms.delete("cm-owner", metav1.DeletePropagationBackground)
		widgetGone("child-of-cm")
	})

	t.Run("orphan", func(t *testing.T) {
		owner := create("or-owner")
		create("or-child", ownerRefTo(owner, "gc.example.com/v1", "Widget", false))
		if err := widgets.Delete(ctx, "or-owner", metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationOrphan)}); err != nil {
			t.Fatal(err)
		}
		widgetGone("or-owner")
		child, err := widgets.Get(ctx, "or-child", metav1.GetOptions{})
		if err != nil || len(child.GetOwnerReferences()) != 0 {
			t.Fatalf("orphaned widget: %v, owners %v", err, child.GetOwnerReferences())
		}
	})

	t.Run("foreground", func(t *testing.T) {
		owner := create("fg-owner")
		create("fg-child", ownerRefTo(owner, "gc.example.com/v1", "Widget", true))
		if err := widgets.Delete(ctx, "fg-owner", metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationForeground)}); err != nil {
			t.Fatal(err)
		}
		widgetGone("fg-child")
		widgetGone("fg-owner")
	})
}

// TestNamespaceControllerDeletesContent deletes a namespace holding
// configmaps, secrets, pods and custom resources: the content goes, the
// conditions say what holds the namespace, and the namespace goes last.
func TestNamespaceControllerDeletesContent(t *testing.T) {
	s := framework.Start(t)
	c := s.Client(t)
	ctx := context.Background()
	gvr := createTestCRD(t, s, "ns.example.com", "Gizmo", "gizmos")
	gizmos := dynamic.NewForConfigOrDie(s.Config).Resource(gvr).Namespace("doomed-content")
	newNamespace(t, c, "doomed-content")
	cms := cmFixture{t, c, "doomed-content"}
	for i := range 3 {
		cms.create(fmt.Sprintf("cm-%d", i), nil)
		if _, err := c.CoreV1().Secrets("doomed-content").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("secret-%d", i)}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%d", i)},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "img"}}},
		}
		if _, err := c.CoreV1().Pods("doomed-content").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := gizmos.Create(ctx, newCustomResource(gvr, "Gizmo", fmt.Sprintf("gizmo-%d", i), nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := gizmos.Create(ctx, newCustomResource(gvr, "Gizmo", "held", []string{"example.com/hold"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.CoreV1().Namespaces().Delete(ctx, "doomed-content", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	want := map[corev1.NamespaceConditionType]corev1.NamespaceCondition{
		corev1.NamespaceDeletionDiscoveryFailure: {Status: corev1.ConditionFalse, Reason: "ResourcesDiscovered", Message: "All resources successfully discovered"},
		corev1.NamespaceDeletionGVParsingFailure: {Status: corev1.ConditionFalse, Reason: "ParsedGroupVersions", Message: "All legacy kube types successfully parsed"},
		corev1.NamespaceDeletionContentFailure:   {Status: corev1.ConditionFalse, Reason: "ContentDeleted", Message: "All content successfully deleted, may be waiting on finalization"},
		corev1.NamespaceContentRemaining: {Status: corev1.ConditionTrue, Reason: "SomeResourcesRemain",
			Message: "Some resources are remaining: gizmos.ns.example.com has 1 resource instances"},
		corev1.NamespaceFinalizersRemaining: {Status: corev1.ConditionTrue, Reason: "SomeFinalizersRemain",
			Message: "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances"},
	}
	var last []corev1.NamespaceCondition
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, lifecycleTimeout, true, func(ctx context.Context) (bool, error) {
		ns, err := c.CoreV1().Namespaces().Get(ctx, "doomed-content", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		last = ns.Status.Conditions
		if len(last) != len(want) {
			return false, nil
		}
		for _, got := range last {
			w, ok := want[got.Type]
			if !ok || got.Status != w.Status || got.Reason != w.Reason || got.Message != w.Message {
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		out, _ := json.MarshalIndent(last, "", "  ")
		t.Fatalf("namespace conditions: %v; last seen:\n%s", err, out)
	}

	// Everything but the held gizmo is gone by now.
	lists := map[string]func(ctx context.Context) (int, error){
		"configmaps": func(ctx context.Context) (int, error) {
			l, err := c.CoreV1().ConfigMaps("doomed-content").List(ctx, metav1.ListOptions{})
			return len(l.Items), err
		},
		"secrets": func(ctx context.Context) (int, error) {
			l, err := c.CoreV1().Secrets("doomed-content").List(ctx, metav1.ListOptions{})
			return len(l.Items), err
		},
		"pods": func(ctx context.Context) (int, error) {
			l, err := c.CoreV1().Pods("doomed-content").List(ctx, metav1.ListOptions{})
			return len(l.Items), err
		},
		"gizmos": func(ctx context.Context) (int, error) {
			l, err := gizmos.List(ctx, metav1.ListOptions{})
			if err != nil {
				return 0, err
			}
			return len(l.Items), nil
		},
	}
	for what, count := range lists {
		n, err := count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"gizmos": 1}[what]; n != want {
			t.Errorf("%d %s left in the terminating namespace, want %d", n, what, want)
		}
	}

	if _, err := gizmos.Patch(ctx, "held", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	awaitCondition(t, "namespace deleted", lifecycleTimeout, untilNotFound(func(ctx context.Context) error {
		_, err := c.CoreV1().Namespaces().Get(ctx, "doomed-content", metav1.GetOptions{})
		return err
	}))
}

// TestPodGCOrphanedPods deletes the node a running pod is bound to: after
// the quarantine, pod GC marks the pod Failed with a DisruptionTarget
// condition and force-deletes it. A terminating pod that was never
// scheduled is failed and force-deleted too.
func TestPodGCOrphanedPods(t *testing.T) {
	s := framework.Start(t)
	c := s.Client(t)
	ctx := context.Background()
	newNamespace(t, c, "podgc")
	if _, err := c.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "gone-node"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := c.CoreV1().Pods("podgc")
	pod, err := pods.Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "orphan"},
		Spec:       corev1.PodSpec{NodeName: "gone-node", Containers: []corev1.Container{{Name: "app", Image: "img"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status.Phase = corev1.PodRunning
	if pod, err = pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "unscheduled", Finalizers: []string{"example.com/hold"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "img"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := pods.Delete(ctx, "unscheduled", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	w, err := pods.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=orphan", ResourceVersion: pod.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if err := c.CoreV1().Nodes().Delete(ctx, "gone-node", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The quarantine is 40 s and the check period 20 s.
	deadline := time.After(2 * time.Minute)
	var failed bool
	for done := false; !done; {
		select {
		case <-deadline:
			t.Fatalf("orphaned pod not collected (marked failed: %v)", failed)
		case e, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("watch closed")
			}
			p, _ := e.Object.(*corev1.Pod)
			switch {
			case p == nil:
				t.Fatalf("watch event %s: %v", e.Type, e.Object)
			case e.Type == watch.Modified && p.Status.Phase == corev1.PodFailed:
				i := slices.IndexFunc(p.Status.Conditions, func(c corev1.PodCondition) bool { return c.Type == corev1.DisruptionTarget })
				if i < 0 || p.Status.Conditions[i].Status != corev1.ConditionTrue || p.Status.Conditions[i].Reason != "DeletionByPodGC" ||
					p.Status.Conditions[i].Message != "PodGC: node no longer exists" {
					t.Errorf("failed orphan's conditions: %+v", p.Status.Conditions)
				}
				failed = true
			case e.Type == watch.Deleted:
				done = true
			}
		}
	}
	if !failed {
		t.Error("orphaned pod deleted without being marked Failed first")
	}

	awaitCondition(t, "unscheduled terminating pod failed", lifecycleTimeout, func(ctx context.Context) (bool, error) {
		p, err := pods.Get(ctx, "unscheduled", metav1.GetOptions{})
		return err == nil && p.Status.Phase == corev1.PodFailed, err
	})
	if _, err := pods.Patch(ctx, "unscheduled", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	awaitCondition(t, "unscheduled pod deleted", lifecycleTimeout, untilNotFound(func(ctx context.Context) error {
		_, err := pods.Get(ctx, "unscheduled", metav1.GetOptions{})
		return err
	}))
}
