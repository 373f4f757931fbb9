package namespace

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/ptr"
)

var (
	// fakeList is the list kind the fake metadata client's tracker knows.
	fakeList   = schema.GroupVersionKind{Group: "fake-metadata-client-group", Version: "v1"}
	configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	widgets    = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
)

// discovered is what discovery reports: pods and configmaps with
// deletecollection, widgets (a custom resource) with delete only.
func discovered() []*metav1.APIResourceList {
	all := metav1.Verbs{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	return []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "pods", Namespaced: true, Kind: "Pod", Verbs: all},
			{Name: "pods/status", Namespaced: true, Kind: "Pod", Verbs: metav1.Verbs{"get", "patch", "update"}},
			{Name: "configmaps", Namespaced: true, Kind: "ConfigMap", Verbs: all},
			{Name: "bindings", Namespaced: true, Kind: "Binding", Verbs: metav1.Verbs{"create"}},
		}},
		{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{
			{Name: "widgets", Namespaced: true, Kind: "Widget", Verbs: metav1.Verbs{"delete", "get", "list"}},
		}},
	}
}

func item(gvr schema.GroupVersionResource, kind, name string, finalizers ...string) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: gvr.GroupVersion().String(), Kind: kind},
		ObjectMeta: metav1.ObjectMeta{Namespace: "doomed", Name: name, Finalizers: finalizers},
	}
}

func terminating(finalizers ...corev1.FinalizerName) *corev1.Namespace {
	deleted := metav1.NewTime(time.Now().Add(-time.Minute))
	return &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "doomed", UID: "ns-uid", DeletionTimestamp: &deleted},
		Spec:       corev1.NamespaceSpec{Finalizers: finalizers},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
	}
}

type fixture struct {
	d        *deleter
	kube     *fake.Clientset
	metadata *metadatafake.FakeMetadataClient
}

func newFixture(t *testing.T, ns *corev1.Namespace, pods []runtime.Object, items []*metav1.PartialObjectMetadata, discoverErr error) *fixture {
	t.Helper()
	kube := fake.NewClientset(append([]runtime.Object{ns}, pods...)...)
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	md := metadatafake.NewSimpleMetadataClient(scheme)
	for _, p := range pods {
		pod := p.(*corev1.Pod)
		if err := md.Tracker().Add(&metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: pod.ObjectMeta}); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range items {
		if err := md.Tracker().Add(i); err != nil {
			t.Fatal(err)
		}
	}
	// The fake has no deletecollection: delete what lists, keeping what finalizers hold.
	md.PrependReactor("delete-collection", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
		gvr, ns := a.GetResource(), a.GetNamespace()
		if gvr == widgets {
			return true, nil, apierrors.NewMethodNotSupported(gvr.GroupResource(), "deletecollection")
		}
		list, err := md.Tracker().List(gvr, fakeList, ns)
		if err != nil {
			return true, nil, err
		}
		for _, o := range list.(*metav1.List).Items {
			p := o.Object.(*metav1.PartialObjectMetadata)
			if len(p.Finalizers) == 0 {
				if err := md.Tracker().Delete(gvr, ns, p.Name); err != nil {
					return true, nil, err
				}
			}
		}
		return true, nil, nil
	})
	md.PrependReactor("delete", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
		d := a.(clienttesting.DeleteActionImpl)
		obj, err := md.Tracker().Get(d.Resource, d.Namespace, d.Name)
		if err != nil {
			return true, nil, err
		}
		if len(obj.(*metav1.PartialObjectMetadata).Finalizers) > 0 {
			return true, obj, nil
		}
		return true, nil, md.Tracker().Delete(d.Resource, d.Namespace, d.Name)
	})
	return &fixture{
		kube:     kube,
		metadata: md,
		d: &deleter{
			namespaces: kube.CoreV1().Namespaces(),
			pods:       kube.CoreV1(),
			metadata:   md,
			discover: func(context.Context) ([]*metav1.APIResourceList, error) {
				return discovered(), discoverErr
			},
		},
	}
}

func (f *fixture) namespace(t *testing.T) *corev1.Namespace {
	t.Helper()
	ns, err := f.kube.CoreV1().Namespaces().Get(context.Background(), "doomed", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// left lists the objects still in the namespace, as "resource/name".
func (f *fixture) left(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, gvr := range []schema.GroupVersionResource{corev1.SchemeGroupVersion.WithResource("pods"), configMaps, widgets} {
		list, err := f.metadata.Tracker().List(gvr, fakeList, "doomed")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range list.(*metav1.List).Items {
			out = append(out, gvr.Resource+"/"+o.Object.(*metav1.PartialObjectMetadata).Name)
		}
	}
	sort.Strings(out)
	return out
}

// conditionsOf keeps what the tests compare of the namespace conditions.
func conditionsOf(ns *corev1.Namespace) map[corev1.NamespaceConditionType]string {
	out := map[corev1.NamespaceConditionType]string{}
	for _, c := range ns.Status.Conditions {
		out[c.Type] = fmt.Sprintf("%s %s: %s", c.Status, c.Reason, c.Message)
	}
	return out
}

func okConditions() map[corev1.NamespaceConditionType]string {
	return map[corev1.NamespaceConditionType]string{
		corev1.NamespaceDeletionDiscoveryFailure: "False ResourcesDiscovered: All resources successfully discovered",
		corev1.NamespaceDeletionGVParsingFailure: "False ParsedGroupVersions: All legacy kube types successfully parsed",
		corev1.NamespaceDeletionContentFailure:   "False ContentDeleted: All content successfully deleted, may be waiting on finalization",
		corev1.NamespaceContentRemaining:         "False ContentRemoved: All content successfully removed",
		corev1.NamespaceFinalizersRemaining:      "False ContentHasNoFinalizers: All content-preserving finalizers finished",
	}
}

func runningPod(name string, grace int64) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "doomed", Name: name},
		Spec:       corev1.PodSpec{TerminationGracePeriodSeconds: ptr.To(grace)},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
}

func TestDelete(t *testing.T) {
	contents := func() []*metav1.PartialObjectMetadata {
		return []*metav1.PartialObjectMetadata{
			item(configMaps, "ConfigMap", "a"), item(configMaps, "ConfigMap", "b"),
			item(widgets, "Widget", "w1"), item(widgets, "Widget", "w2"),
		}
	}
	tests := []struct {
		name        string
		ns          *corev1.Namespace
		pods        []runtime.Object
		items       []*metav1.PartialObjectMetadata
		discoverErr error
		wantErr     string
		wantWait    int64 // estimate of a ContentRemainingError
		left        []string
		finalizers  []corev1.FinalizerName
		conditions  map[corev1.NamespaceConditionType]string
		phase       corev1.NamespacePhase
	}{
		{
			name: "an active namespace is left alone",
			ns: func() *corev1.Namespace {
				ns := terminating(corev1.FinalizerKubernetes)
				ns.DeletionTimestamp = nil
				return ns
			}(),
			items:      contents(),
			left:       []string{"configmaps/a", "configmaps/b", "widgets/w1", "widgets/w2"},
			finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes},
			conditions: map[corev1.NamespaceConditionType]string{},
			phase:      corev1.NamespaceActive,
		},
		{
			name:       "without the kubernetes finalizer there is nothing to do",
			ns:         terminating("example.com/other"),
			items:      contents(),
			left:       []string{"configmaps/a", "configmaps/b", "widgets/w1", "widgets/w2"},
			finalizers: []corev1.FinalizerName{"example.com/other"},
			conditions: map[corev1.NamespaceConditionType]string{},
			phase:      corev1.NamespaceActive,
		},
		{
			name:       "everything is deleted, by collection or one by one, and the namespace finalized",
			ns:         terminating("example.com/other", corev1.FinalizerKubernetes),
			pods:       []runtime.Object{&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "doomed", Name: "done"}, Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}},
			items:      contents(),
			finalizers: []corev1.FinalizerName{"example.com/other"},
			conditions: okConditions(),
			phase:      corev1.NamespaceTerminating,
		},
		{
			name:     "content held by finalizers is waited for",
			ns:       terminating(corev1.FinalizerKubernetes),
			items:    append(contents(), item(configMaps, "ConfigMap", "held", "example.com/hold"), item(widgets, "Widget", "held", "example.com/hold", "example.com/also")),
			wantWait: finalizerEstimateSeconds,
			left:     []string{"configmaps/held", "widgets/held"},
			finalizers: []corev1.FinalizerName{
				corev1.FinalizerKubernetes,
			},
			conditions: func() map[corev1.NamespaceConditionType]string {
				c := okConditions()
				c[corev1.NamespaceContentRemaining] = "True SomeResourcesRemain: Some resources are remaining: configmaps. has 1 resource instances, widgets.example.com has 1 resource instances"
				c[corev1.NamespaceFinalizersRemaining] = "True SomeFinalizersRemain: Some content in the namespace has finalizers remaining: example.com/also in 1 resource instances, example.com/hold in 2 resource instances"
				return c
			}(),
			phase: corev1.NamespaceTerminating,
		},
		{
			name: "pods still within their grace period hold back everything else",
			ns: func() *corev1.Namespace {
				ns := terminating(corev1.FinalizerKubernetes)
				ns.DeletionTimestamp = ptr.To(metav1.Now())
				return ns
			}(),
			pods:       []runtime.Object{runningPod("slow", 300), runningPod("quick", 1)},
			items:      []*metav1.PartialObjectMetadata{item(configMaps, "ConfigMap", "a")},
			wantWait:   300,
			left:       []string{"configmaps/a", "pods/quick", "pods/slow"},
			finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes},
			conditions: func() map[corev1.NamespaceConditionType]string {
				c := okConditions()
				c[corev1.NamespaceContentRemaining] = "True SomeResourcesRemain: Some resources are remaining: pods. has 2 resource instances"
				return c
			}(),
			phase: corev1.NamespaceTerminating,
		},
		{
			name:        "a partial discovery failure is reported, and what was discovered is deleted",
			ns:          terminating(corev1.FinalizerKubernetes),
			items:       contents(),
			discoverErr: &discovery.ErrGroupDiscoveryFailed{Groups: map[schema.GroupVersion]error{{Group: "broken.example.com", Version: "v1"}: errors.New("boom")}},
			wantErr:     "unable to retrieve the complete list of server APIs: broken.example.com/v1: boom",
			finalizers:  []corev1.FinalizerName{corev1.FinalizerKubernetes},
			conditions: func() map[corev1.NamespaceConditionType]string {
				c := okConditions()
				c[corev1.NamespaceDeletionDiscoveryFailure] = "True DiscoveryFailed: Discovery failed for some groups, 1 failing: unable to retrieve the complete list of server APIs: broken.example.com/v1: boom"
				return c
			}(),
			phase: corev1.NamespaceTerminating,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.ns, tc.pods, tc.items, tc.discoverErr)
			// Running pods terminate gracefully: deleting them leaves them there for now.
			f.metadata.PrependReactor("delete-collection", "pods", func(clienttesting.Action) (bool, runtime.Object, error) {
				for _, p := range tc.pods {
					if p.(*corev1.Pod).Status.Phase == corev1.PodRunning {
						return true, nil, nil
					}
				}
				return false, nil, nil
			})
			_, ctx := ktesting.NewTestContext(t)
			err := f.d.delete(ctx, "doomed")
			var remaining *ContentRemainingError
			switch {
			case tc.wantWait > 0:
				if !errors.As(err, &remaining) || remaining.Estimate != tc.wantWait {
					t.Errorf("err = %v, want content remaining for %ds", err, tc.wantWait)
				}
			case tc.wantErr != "":
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("err = %v, want %q", err, tc.wantErr)
				}
			case err != nil:
				t.Errorf("err = %v", err)
			}
			if diff := cmp.Diff(tc.left, f.left(t)); diff != "" {
				t.Errorf("objects left (-want +got):\n%s", diff)
			}
			ns := f.namespace(t)
			if diff := cmp.Diff(tc.finalizers, ns.Spec.Finalizers); diff != "" {
				t.Errorf("finalizers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.conditions, conditionsOf(ns)); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			if ns.Status.Phase != tc.phase {
				t.Errorf("phase %q, want %q", ns.Status.Phase, tc.phase)
			}
		})
	}
}

func TestConditionTransitions(t *testing.T) {
	earlier := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	now := metav1.NewTime(earlier.Add(time.Hour))
	status := &corev1.NamespaceStatus{}
	if !newConditions().apply(status, earlier) {
		t.Fatal("first apply changed nothing")
	}
	if newConditions().apply(status, now) {
		t.Error("applying the same conditions again reported a change")
	}
	c := newConditions()
	c.contentFailed(errors.New("b failed"))
	c.contentFailed(errors.New("a failed"))
	if !c.apply(status, now) {
		t.Fatal("a content failure changed nothing")
	}
	for _, cond := range status.Conditions {
		wantTime := earlier
		if cond.Type == corev1.NamespaceDeletionContentFailure {
			wantTime = now
			if cond.Message != "Failed to delete all resource types, 2 remaining: a failed, b failed" || cond.Reason != "ContentDeletionFailed" || cond.Status != corev1.ConditionTrue {
				t.Errorf("content failure condition: %+v", cond)
			}
		}
		if !cond.LastTransitionTime.Equal(&wantTime) {
			t.Errorf("%s last transition %v, want %v", cond.Type, cond.LastTransitionTime, wantTime)
		}
	}
}
