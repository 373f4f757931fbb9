package garbagecollector

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/klog/v2/ktesting"
)

// staticMapper is a fixed REST mapper; Reset has nothing to forget.
type staticMapper struct{ meta.RESTMapper }

func (staticMapper) Reset() {}

func testMapper() meta.ResettableRESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	m.Add(configMapKind, meta.RESTScopeNamespace)
	m.Add(secretKind, meta.RESTScopeNamespace)
	m.Add(nodeKind, meta.RESTScopeRoot)
	return staticMapper{m}
}

// stored is an object as the fake API server holds it.
func stored(kind schema.GroupVersionKind, o *metav1.PartialObjectMetadata) *metav1.PartialObjectMetadata {
	o = o.DeepCopy()
	o.APIVersion, o.Kind = kind.GroupVersion().String(), kind.Kind
	if o.ResourceVersion == "" {
		o.ResourceVersion = "7"
	}
	return o
}

type fixture struct {
	c      *Controller
	client *metadatafake.FakeMetadataClient
}

// newFixture serves objects from a fake API server and puts them in the graph.
func newFixture(t *testing.T, objects map[*metav1.PartialObjectMetadata]schema.GroupVersionKind) *fixture {
	t.Helper()
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	client := metadatafake.NewSimpleMetadataClient(scheme)
	c := New(Config{Metadata: client, Mapper: testMapper()})
	t.Cleanup(func() {
		c.changes.ShutDown()
		c.attemptToDelete.ShutDown()
		c.attemptToOrphan.ShutDown()
	})
	logger, _ := ktesting.NewTestContext(t)
	for o, kind := range objects {
		if err := client.Tracker().Add(stored(kind, o)); err != nil {
			t.Fatal(err)
		}
		c.builder.process(logger, add(kind, o))
	}
	drain(c.attemptToDelete)
	drain(c.attemptToOrphan)
	return &fixture{c: c, client: client}
}

// writes lists the requests that change objects, as "verb resource ns/name detail".
func (f *fixture) writes() []string {
	var out []string
	for _, a := range f.client.Actions() {
		switch a := a.(type) {
		case clienttesting.DeleteActionImpl:
			policy := ""
			if a.DeleteOptions.PropagationPolicy != nil {
				policy = string(*a.DeleteOptions.PropagationPolicy)
			}
			uid := ""
			if p := a.DeleteOptions.Preconditions; p != nil && p.UID != nil {
				uid = string(*p.UID)
			}
			out = append(out, fmt.Sprintf("delete %s %s/%s policy=%s uid=%s", a.Resource.Resource, a.Namespace, a.Name, policy, uid))
		case clienttesting.PatchActionImpl:
			out = append(out, fmt.Sprintf("patch %s %s/%s %s %s", a.Resource.Resource, a.Namespace, a.Name, a.PatchType, compact(a.Patch)))
		}
	}
	return out
}

func compact(b []byte) string {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return string(b)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

func TestAttemptToDelete(t *testing.T) {
	owner := object("ns", "owner", "owner-uid")
	child := object("ns", "child", "child-uid", ownerRef(configMapKind, "owner", "owner-uid", true))
	tests := []struct {
		name    string
		objects map[*metav1.PartialObjectMetadata]schema.GroupVersionKind
		item    types.UID
		writes  []string
		retry   bool
		virtual bool // a virtual delete event was queued
	}{
		{
			name:    "a dependent whose owner exists stays",
			objects: map[*metav1.PartialObjectMetadata]schema.GroupVersionKind{owner: configMapKind, child: configMapKind},
			item:    "child-uid",
		},
		{
			name:    "a dependent whose owner is gone is deleted in the background, guarded by its UID",
			objects: map[*metav1.PartialObjectMetadata]schema.GroupVersionKind{child: configMapKind},
			item:    "child-uid",
			writes:  []string{"delete configmaps ns/child policy=Background uid=child-uid"},
		},
		{
			name: "an owner by the same name with another UID counts as gone",
			objects: map[*metav1.PartialObjectMetadata]schema.GroupVersionKind{
				object("ns", "owner", "new-owner-uid"): configMapKind, child: configMapKind,
			},
			item:   "child-uid",
			writes: []string{"delete configmaps ns/child policy=Background uid=child-uid"},
		},
		{
			name: "a dependent with the orphan finalizer is deleted orphaning its own dependents",
			objects: map[*metav1.PartialObjectMetadata]schema.GroupVersionKind{
				func() *metav1.PartialObjectMetadata {
					c := child.DeepCopy()
					c.Finalizers = []string{metav1.FinalizerOrphanDependents}
					return c
				}(): configMapKind,
			},
			item:   "child-uid",
			writes: []string{"delete configmaps ns/child policy=Orphan uid=child-uid"},
		},
		{
			name: "references to absent owners are removed when another owner remains",
			objects: map[*metav1.PartialObjectMetadata]schema.GroupVersionKind{
				object("ns", "other", "other-uid"): configMapKind,
				object("ns", "child", "child-uid", ownerRef(configMapKind, "owner", "owner-uid", true), ownerRef(configMapKind, "other", "other-uid", false)): configMapKind,
			},
			item:   "child-uid",
			writes: []string{`patch configmaps ns/child application/strategic-merge-patch+json {"metadata":{"ownerReferences":[{"$patch":"delete","uid":"owner-uid"}],"uid":"child-uid"}}`},
		},
		{
			name: "a cluster-scoped object cannot have a namespaced owner: left alone, not retried",
			objects: map[*metav1.PartialObjectMetadata]schema.GroupVersionKind{
				object("", "node", "node-uid", ownerRef(configMapKind, "owner", "owner-uid", false)): nodeKind,
			},
			item: "node-uid",
		},
		{
			name: "a namespaced dependent of a cluster-scoped owner stays while the owner exists",
			objects: map[*metav1.PartialObjectMetadata]schema.GroupVersionKind{
				object("", "node", "node-uid"): nodeKind,
				object("ns", "child", "child-uid", ownerRef(nodeKind, "node", "node-uid", false)): configMapKind,
			},
			item: "child-uid",
		},
		{
			name: "an owner in another namespace does not count: it is looked up in the dependent's",
			objects: map[*metav1.PartialObjectMetadata]schema.GroupVersionKind{
				object("other", "owner", "owner-uid"): configMapKind, child: configMapKind,
			},
			item:   "child-uid",
			writes: []string{"delete configmaps ns/child policy=Background uid=child-uid"},
		},
		{
			name: "a dependent of an owner deleting in the foreground goes in the background when it has no dependents",
			objects: map[*metav1.PartialObjectMetadata]schema.GroupVersionKind{
				deleting(owner, metav1.FinalizerDeleteDependents): configMapKind, child: configMapKind,
			},
			item:   "child-uid",
			writes: []string{"delete configmaps ns/child policy=Background uid=child-uid"},
		},
		{
			name: "and in the foreground when it has dependents of its own",
			objects: map[*metav1.PartialObjectMetadata]schema.GroupVersionKind{
				deleting(owner, metav1.FinalizerDeleteDependents): configMapKind, child: configMapKind,
				object("ns", "grandchild", "gc-uid", ownerRef(configMapKind, "child", "child-uid", true)): configMapKind,
			},
			item:   "child-uid",
			writes: []string{"delete configmaps ns/child policy=Foreground uid=child-uid"},
		},
		{
			name: "an owner deleting in the foreground keeps its finalizer while a blocking dependent exists",
			objects: map[*metav1.PartialObjectMetadata]schema.GroupVersionKind{
				deleting(owner, metav1.FinalizerDeleteDependents): configMapKind, child: configMapKind,
			},
			item: "owner-uid",
		},
		{
			name: "and loses it once none blocks",
			objects: map[*metav1.PartialObjectMetadata]schema.GroupVersionKind{
				deleting(owner, metav1.FinalizerDeleteDependents, "example.com/other"):                 configMapKind,
				object("ns", "free", "free-uid", ownerRef(configMapKind, "owner", "owner-uid", false)): configMapKind,
			},
			item:   "owner-uid",
			writes: []string{`patch configmaps ns/owner application/merge-patch+json {"metadata":{"finalizers":["example.com/other"],"resourceVersion":"7"}}`},
		},
		{
			name:    "an item the API server does not have is removed from the graph",
			objects: map[*metav1.PartialObjectMetadata]schema.GroupVersionKind{},
			item:    "owner-uid",
			virtual: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.objects)
			// An object in the graph the fake server lacks: the virtual owner case.
			if tc.virtual {
				logger, _ := ktesting.NewTestContext(t)
				f.c.builder.process(logger, add(configMapKind, child))
				drain(f.c.attemptToDelete)
			}
			_, ctx := ktesting.NewTestContext(t)
			retry := f.c.syncDelete(ctx, tc.item)
			if retry != tc.retry {
				t.Errorf("retry = %v, want %v", retry, tc.retry)
			}
			if diff := cmp.Diff(tc.writes, f.writes()); diff != "" {
				t.Errorf("writes (-want +got):\n%s", diff)
			}
			if got := f.c.changes.Len() > 0; got != tc.virtual {
				t.Errorf("virtual delete queued = %v, want %v", got, tc.virtual)
			}
		})
	}
}

func TestOrphan(t *testing.T) {
	owner := deleting(object("ns", "owner", "owner-uid"), metav1.FinalizerOrphanDependents)
	f := newFixture(t, map[*metav1.PartialObjectMetadata]schema.GroupVersionKind{
		owner: configMapKind,
		object("ns", "a", "a-uid", ownerRef(configMapKind, "owner", "owner-uid", true)):                                                        configMapKind,
		object("ns", "b", "b-uid", ownerRef(configMapKind, "owner", "owner-uid", false), ownerRef(configMapKind, "other", "other-uid", false)): configMapKind,
	})
	_, ctx := ktesting.NewTestContext(t)
	if err := f.c.orphan(ctx, "owner-uid"); err != nil {
		t.Fatal(err)
	}
	got := f.writes()
	want := []string{
		`patch configmaps ns/a application/strategic-merge-patch+json {"metadata":{"ownerReferences":[{"$patch":"delete","uid":"owner-uid"}],"uid":"a-uid"}}`,
		`patch configmaps ns/b application/strategic-merge-patch+json {"metadata":{"ownerReferences":[{"$patch":"delete","uid":"owner-uid"}],"uid":"b-uid"}}`,
		`patch configmaps ns/owner application/merge-patch+json {"metadata":{"finalizers":[],"resourceVersion":"7"}}`,
	}
	// The dependents are patched in parallel.
	if len(got) == 3 && got[0] > got[1] {
		got[0], got[1] = got[1], got[0]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
}

func TestDeletableResources(t *testing.T) {
	lists := []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "configmaps", Kind: "ConfigMap", Verbs: metav1.Verbs{"create", "delete", "get", "list", "watch"}},
			{Name: "events", Kind: "Event", Verbs: metav1.Verbs{"delete", "list", "watch"}},
			{Name: "componentstatuses", Kind: "ComponentStatus", Verbs: metav1.Verbs{"get", "list"}},
			{Name: "pods/status", Kind: "Pod", Verbs: metav1.Verbs{"delete", "list", "watch"}},
		}},
		{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{
			{Name: "widgets", Kind: "Widget", Verbs: metav1.Verbs{"delete", "list", "watch"}},
		}},
		{GroupVersion: "bad/group/version"},
	}
	want := map[schema.GroupVersionResource]schema.GroupVersionKind{
		{Version: "v1", Resource: "configmaps"}:                    configMapKind,
		{Group: "example.com", Version: "v1", Resource: "widgets"}: {Group: "example.com", Version: "v1", Kind: "Widget"},
	}
	if diff := cmp.Diff(want, deletableResources(lists, DefaultIgnoredResources())); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
