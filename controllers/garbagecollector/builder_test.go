package garbagecollector

import (
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/ptr"
)

var (
	configMapKind = schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	secretKind    = schema.GroupVersionKind{Version: "v1", Kind: "Secret"}
	nodeKind      = schema.GroupVersionKind{Version: "v1", Kind: "Node"}
)

// object builds the metadata of an object; owners are added with owned.
func object(namespace, name string, uid types.UID, owners ...metav1.OwnerReference) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: uid, OwnerReferences: owners}}
}

func ownerRef(kind schema.GroupVersionKind, name string, uid types.UID, block bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: kind.GroupVersion().String(), Kind: kind.Kind, Name: name, UID: uid, BlockOwnerDeletion: ptr.To(block)}
}

func deleting(o *metav1.PartialObjectMetadata, finalizers ...string) *metav1.PartialObjectMetadata {
	o = o.DeepCopy()
	now := metav1.Now()
	o.DeletionTimestamp = &now
	o.Finalizers = finalizers
	return o
}

func add(kind schema.GroupVersionKind, o *metav1.PartialObjectMetadata) *event {
	return &event{typ: added, obj: o, gvk: kind}
}

func update(kind schema.GroupVersionKind, old, o *metav1.PartialObjectMetadata) *event {
	return &event{typ: updated, obj: o, old: old, gvk: kind}
}

func remove(kind schema.GroupVersionKind, o *metav1.PartialObjectMetadata) *event {
	return &event{typ: deleted, obj: o, gvk: kind}
}

func absentAt(kind schema.GroupVersionKind, namespace, name string, uid types.UID) *event {
	return &event{typ: deleted, virtual: true, obj: object(namespace, name, uid), gvk: kind}
}

func idOf(kind schema.GroupVersionKind, namespace, name string, uid types.UID) ref {
	return ref{APIVersion: kind.GroupVersion().String(), Kind: kind.Kind, Namespace: namespace, Name: name, UID: uid}
}

// summary is what the tests compare of a node.
type summary struct {
	ID                 ref
	Owners             []types.UID
	Dependents         []types.UID
	Virtual            bool
	BeingDeleted       bool
	DeletingDependents bool
}

func summarize(g *graph) map[types.UID]summary {
	out := map[types.UID]summary{}
	for uid, n := range g.nodes {
		s := summary{ID: n.id, Virtual: n.virtual, BeingDeleted: n.beingDeleted, DeletingDependents: n.deletingDependents}
		for _, o := range n.owners {
			s.Owners = append(s.Owners, o.UID)
		}
		for d := range n.dependents {
			s.Dependents = append(s.Dependents, d)
		}
		slices.Sort(s.Dependents)
		out[uid] = s
	}
	return out
}

func drain(q workqueue.TypedRateLimitingInterface[types.UID]) []types.UID {
	var out []types.UID
	for q.Len() > 0 {
		uid, _ := q.Get()
		q.Done(uid)
		out = append(out, uid)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

type builderResult struct {
	graph     map[types.UID]summary
	toDelete  []types.UID
	toOrphan  []types.UID
	retried   []types.UID // queued with back-off
	absent    *absentCache
	events    []string
	queueDone func()
}

func runBuilder(t *testing.T, events []*event) builderResult {
	t.Helper()
	logger, _ := ktesting.NewTestContext(t)
	recorder := record.NewFakeRecorder(10)
	b := &builder{
		graph:           newGraph(),
		attemptToDelete: workqueue.NewTypedRateLimitingQueue(retryLimiter()),
		attemptToOrphan: workqueue.NewTypedRateLimitingQueue(retryLimiter()),
		absent:          newAbsentCache(10),
		recorder:        recorder,
	}
	t.Cleanup(b.attemptToDelete.ShutDown)
	t.Cleanup(b.attemptToOrphan.ShutDown)
	for _, e := range events {
		b.process(logger, e)
	}
	res := builderResult{graph: summarize(b.graph), absent: b.absent}
	for uid := range b.graph.nodes {
		if b.attemptToDelete.NumRequeues(uid) > 0 {
			res.retried = append(res.retried, uid)
		}
	}
	res.toDelete = drain(b.attemptToDelete)
	res.toOrphan = drain(b.attemptToOrphan)
	close(recorder.Events)
	for e := range recorder.Events {
		res.events = append(res.events, e)
	}
	return res
}

func TestBuilder(t *testing.T) {
	rs := object("ns", "rs", "rs-uid")
	cmOwnedByRS := object("ns", "child", "child-uid", ownerRef(configMapKind, "rs", "rs-uid", true))

	tests := []struct {
		name       string
		events     []*event
		graph      map[types.UID]summary
		toDelete   []types.UID
		toOrphan   []types.UID
		retried    []types.UID
		absent     []ref
		notAbsent  []ref
		wantEvents []string
	}{
		{
			name:   "a dependent seen before its owner makes a virtual owner, queued to check it exists",
			events: []*event{add(configMapKind, cmOwnedByRS)},
			graph: map[types.UID]summary{
				"child-uid": {ID: idOf(configMapKind, "ns", "child", "child-uid"), Owners: []types.UID{"rs-uid"}},
				"rs-uid":    {ID: idOf(configMapKind, "ns", "rs", "rs-uid"), Dependents: []types.UID{"child-uid"}, Virtual: true},
			},
			toDelete: []types.UID{"rs-uid"},
		},
		{
			name:   "the owner observed later replaces its virtual node",
			events: []*event{add(configMapKind, cmOwnedByRS), add(configMapKind, rs)},
			graph: map[types.UID]summary{
				"child-uid": {ID: idOf(configMapKind, "ns", "child", "child-uid"), Owners: []types.UID{"rs-uid"}},
				"rs-uid":    {ID: idOf(configMapKind, "ns", "rs", "rs-uid"), Dependents: []types.UID{"child-uid"}},
			},
			toDelete: []types.UID{"rs-uid"},
		},
		{
			name:   "an owner observed with other coordinates than its dependent guessed queues the dependent",
			events: []*event{add(configMapKind, cmOwnedByRS), add(secretKind, rs)},
			graph: map[types.UID]summary{
				"child-uid": {ID: idOf(configMapKind, "ns", "child", "child-uid"), Owners: []types.UID{"rs-uid"}},
				"rs-uid":    {ID: idOf(secretKind, "ns", "rs", "rs-uid"), Dependents: []types.UID{"child-uid"}},
			},
			toDelete: []types.UID{"child-uid", "rs-uid"},
		},
		{
			name: "a dependent in another namespace than its observed owner is reported and queued",
			events: []*event{
				add(configMapKind, rs),
				add(configMapKind, object("other", "child", "child-uid", ownerRef(configMapKind, "rs", "rs-uid", false))),
			},
			graph: map[types.UID]summary{
				"child-uid": {ID: idOf(configMapKind, "other", "child", "child-uid"), Owners: []types.UID{"rs-uid"}},
				"rs-uid":    {ID: idOf(configMapKind, "ns", "rs", "rs-uid"), Dependents: []types.UID{"child-uid"}},
			},
			toDelete:   []types.UID{"child-uid"},
			wantEvents: []string{`Warning OwnerRefInvalidNamespace ownerRef [v1/ConfigMap, namespace: other, name: rs, uid: rs-uid] does not exist in namespace "other"`},
		},
		{
			name: "the same, with the dependent seen first",
			events: []*event{
				add(configMapKind, object("other", "child", "child-uid", ownerRef(configMapKind, "rs", "rs-uid", false))),
				add(configMapKind, rs),
			},
			graph: map[types.UID]summary{
				"child-uid": {ID: idOf(configMapKind, "other", "child", "child-uid"), Owners: []types.UID{"rs-uid"}},
				"rs-uid":    {ID: idOf(configMapKind, "ns", "rs", "rs-uid"), Dependents: []types.UID{"child-uid"}},
			},
			toDelete:   []types.UID{"child-uid", "rs-uid"},
			wantEvents: []string{`Warning OwnerRefInvalidNamespace ownerRef [v1/ConfigMap, namespace: other, name: rs, uid: rs-uid] does not exist in namespace "other"`},
		},
		{
			name: "a cluster-scoped owner may own objects in any namespace",
			events: []*event{
				add(nodeKind, object("", "node-1", "node-uid")),
				add(configMapKind, object("ns", "child", "child-uid", ownerRef(nodeKind, "node-1", "node-uid", false))),
			},
			graph: map[types.UID]summary{
				"child-uid": {ID: idOf(configMapKind, "ns", "child", "child-uid"), Owners: []types.UID{"node-uid"}},
				"node-uid":  {ID: idOf(nodeKind, "", "node-1", "node-uid"), Dependents: []types.UID{"child-uid"}},
			},
		},
		{
			name: "a namespaced dependent of a virtual owner guessed cluster-scoped is checked",
			events: []*event{
				add(nodeKind, object("", "pv", "pv-uid", ownerRef(configMapKind, "rs", "rs-uid", false))),
				add(configMapKind, object("ns", "child", "child-uid", ownerRef(configMapKind, "rs", "rs-uid", false))),
			},
			graph: map[types.UID]summary{
				"pv-uid":    {ID: idOf(nodeKind, "", "pv", "pv-uid"), Owners: []types.UID{"rs-uid"}},
				"child-uid": {ID: idOf(configMapKind, "ns", "child", "child-uid"), Owners: []types.UID{"rs-uid"}},
				"rs-uid":    {ID: idOf(configMapKind, "", "rs", "rs-uid"), Dependents: []types.UID{"child-uid", "pv-uid"}, Virtual: true},
			},
			toDelete: []types.UID{"child-uid", "rs-uid"},
		},
		{
			name:   "a deleted owner queues its dependents and is remembered as absent",
			events: []*event{add(configMapKind, rs), add(configMapKind, cmOwnedByRS), remove(configMapKind, rs)},
			graph: map[types.UID]summary{
				"child-uid": {ID: idOf(configMapKind, "ns", "child", "child-uid"), Owners: []types.UID{"rs-uid"}},
			},
			toDelete: []types.UID{"child-uid"},
			absent:   []ref{idOf(configMapKind, "ns", "rs", "rs-uid")},
		},
		{
			name: "foreground deletion marks the owner and queues it with its dependents",
			events: []*event{
				add(configMapKind, rs), add(configMapKind, cmOwnedByRS),
				update(configMapKind, rs, deleting(rs, metav1.FinalizerDeleteDependents)),
			},
			graph: map[types.UID]summary{
				"child-uid": {ID: idOf(configMapKind, "ns", "child", "child-uid"), Owners: []types.UID{"rs-uid"}},
				"rs-uid": {ID: idOf(configMapKind, "ns", "rs", "rs-uid"), Dependents: []types.UID{"child-uid"},
					BeingDeleted: true, DeletingDependents: true},
			},
			toDelete: []types.UID{"child-uid", "rs-uid"},
		},
		{
			name: "an owner first seen already deleting in the foreground",
			events: []*event{
				add(configMapKind, cmOwnedByRS),
				add(configMapKind, deleting(rs, metav1.FinalizerDeleteDependents)),
			},
			graph: map[types.UID]summary{
				"child-uid": {ID: idOf(configMapKind, "ns", "child", "child-uid"), Owners: []types.UID{"rs-uid"}},
				"rs-uid": {ID: idOf(configMapKind, "ns", "rs", "rs-uid"), Dependents: []types.UID{"child-uid"},
					BeingDeleted: true, DeletingDependents: true},
			},
			toDelete: []types.UID{"child-uid", "rs-uid"},
		},
		{
			name: "orphan deletion queues the owner for orphaning, once",
			events: []*event{
				add(configMapKind, rs), add(configMapKind, cmOwnedByRS),
				update(configMapKind, rs, deleting(rs, metav1.FinalizerOrphanDependents)),
				update(configMapKind, deleting(rs, metav1.FinalizerOrphanDependents), deleting(rs, metav1.FinalizerOrphanDependents)),
			},
			graph: map[types.UID]summary{
				"child-uid": {ID: idOf(configMapKind, "ns", "child", "child-uid"), Owners: []types.UID{"rs-uid"}},
				"rs-uid":    {ID: idOf(configMapKind, "ns", "rs", "rs-uid"), Dependents: []types.UID{"child-uid"}, BeingDeleted: true},
			},
			toOrphan: []types.UID{"rs-uid"},
		},
		{
			name: "dropping a blocking reference queues the owner it blocked",
			events: []*event{
				add(configMapKind, rs), add(configMapKind, cmOwnedByRS),
				update(configMapKind, cmOwnedByRS, object("ns", "child", "child-uid")),
			},
			graph: map[types.UID]summary{
				"child-uid": {ID: idOf(configMapKind, "ns", "child", "child-uid")},
				"rs-uid":    {ID: idOf(configMapKind, "ns", "rs", "rs-uid")},
			},
			toDelete: []types.UID{"rs-uid"},
		},
		{
			name: "turning blockOwnerDeletion off queues the owner",
			events: []*event{
				add(configMapKind, rs), add(configMapKind, cmOwnedByRS),
				update(configMapKind, cmOwnedByRS, object("ns", "child", "child-uid", ownerRef(configMapKind, "rs", "rs-uid", false))),
			},
			graph: map[types.UID]summary{
				"child-uid": {ID: idOf(configMapKind, "ns", "child", "child-uid"), Owners: []types.UID{"rs-uid"}},
				"rs-uid":    {ID: idOf(configMapKind, "ns", "rs", "rs-uid"), Dependents: []types.UID{"child-uid"}},
			},
			toDelete: []types.UID{"rs-uid"},
		},
		{
			name: "a deleted dependent queues its owner deleting in the foreground",
			events: []*event{
				add(configMapKind, deleting(rs, metav1.FinalizerDeleteDependents)), add(configMapKind, cmOwnedByRS),
				remove(configMapKind, cmOwnedByRS),
			},
			graph: map[types.UID]summary{
				"rs-uid": {ID: idOf(configMapKind, "ns", "rs", "rs-uid"), BeingDeleted: true, DeletingDependents: true},
			},
			toDelete: []types.UID{"rs-uid"},
		},
		{
			name:   "the API confirming a virtual owner absent removes it and queues its dependents",
			events: []*event{add(configMapKind, cmOwnedByRS), absentAt(configMapKind, "ns", "rs", "rs-uid")},
			graph: map[types.UID]summary{
				"child-uid": {ID: idOf(configMapKind, "ns", "child", "child-uid"), Owners: []types.UID{"rs-uid"}},
			},
			toDelete: []types.UID{"child-uid", "rs-uid"},
			absent:   []ref{idOf(configMapKind, "ns", "rs", "rs-uid")},
		},
		{
			name: "when dependents disagree on a virtual owner, the next identity is tried",
			events: []*event{
				add(configMapKind, cmOwnedByRS),
				add(configMapKind, object("ns", "other", "other-uid", ownerRef(secretKind, "rs", "rs-uid", false))),
				absentAt(configMapKind, "ns", "rs", "rs-uid"),
			},
			graph: map[types.UID]summary{
				"child-uid": {ID: idOf(configMapKind, "ns", "child", "child-uid"), Owners: []types.UID{"rs-uid"}},
				"other-uid": {ID: idOf(configMapKind, "ns", "other", "other-uid"), Owners: []types.UID{"rs-uid"}},
				"rs-uid":    {ID: idOf(secretKind, "ns", "rs", "rs-uid"), Dependents: []types.UID{"child-uid", "other-uid"}, Virtual: true},
			},
			toDelete: []types.UID{"child-uid", "other-uid", "rs-uid"},
			retried:  []types.UID{"rs-uid"},
			absent:   []ref{idOf(configMapKind, "ns", "rs", "rs-uid")},
		},
		{
			name: "an absent identity does not remove an observed object known by another",
			events: []*event{
				add(secretKind, rs),
				add(configMapKind, cmOwnedByRS),
				absentAt(configMapKind, "ns", "rs", "rs-uid"),
			},
			graph: map[types.UID]summary{
				"child-uid": {ID: idOf(configMapKind, "ns", "child", "child-uid"), Owners: []types.UID{"rs-uid"}},
				"rs-uid":    {ID: idOf(secretKind, "ns", "rs", "rs-uid"), Dependents: []types.UID{"child-uid"}},
			},
			toDelete:  []types.UID{"child-uid"},
			absent:    []ref{idOf(configMapKind, "ns", "rs", "rs-uid")},
			notAbsent: []ref{idOf(secretKind, "ns", "rs", "rs-uid")},
		},
		{
			name:   "a deletion of an object never seen is ignored",
			events: []*event{remove(configMapKind, rs)},
			graph:  map[types.UID]summary{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runBuilder(t, tc.events)
			if diff := cmp.Diff(tc.graph, got.graph); diff != "" {
				t.Errorf("graph (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.toDelete, got.toDelete); diff != "" {
				t.Errorf("attemptToDelete (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.toOrphan, got.toOrphan); diff != "" {
				t.Errorf("attemptToOrphan (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.retried, got.retried); diff != "" {
				t.Errorf("queued with back-off (-want +got):\n%s", diff)
			}
			for _, r := range tc.absent {
				if !got.absent.has(r) {
					t.Errorf("%s not recorded absent", r)
				}
			}
			for _, r := range tc.notAbsent {
				if got.absent.has(r) {
					t.Errorf("%s recorded absent", r)
				}
			}
			if diff := cmp.Diff(tc.wantEvents, got.events); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAlternateIdentity(t *testing.T) {
	dep := func(ns string, owners ...metav1.OwnerReference) *node {
		return &node{id: ref{Namespace: ns, Name: "d"}, owners: owners}
	}
	absent := idOf(configMapKind, "ns", "b", "u")
	tests := []struct {
		name string
		deps []*node
		want *ref
	}{
		{"all agree", []*node{dep("ns", ownerRef(configMapKind, "b", "u", false))}, nil},
		{"the first identity after the absent one", []*node{
			dep("ns", ownerRef(configMapKind, "a", "u", false)),
			dep("ns", ownerRef(configMapKind, "c", "u", false)),
			dep("ns", ownerRef(configMapKind, "d", "u", false)),
		}, ptr.To(idOf(configMapKind, "ns", "c", "u"))},
		{"wraps around to the first", []*node{
			dep("ns", ownerRef(configMapKind, "a", "u", false)),
		}, ptr.To(idOf(configMapKind, "ns", "a", "u"))},
		{"another namespace is another identity", []*node{
			dep("zz", ownerRef(configMapKind, "b", "u", false)),
		}, ptr.To(idOf(configMapKind, "zz", "b", "u"))},
		{"references to other UIDs do not count", []*node{
			dep("ns", ownerRef(configMapKind, "a", "other", false)),
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, alternateIdentity(tc.deps, absent)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiffOwners(t *testing.T) {
	a, b, c := ownerRef(configMapKind, "a", "a", true), ownerRef(configMapKind, "b", "b", false), ownerRef(configMapKind, "c", "c", true)
	aFree := ownerRef(configMapKind, "a", "a", false)
	gained, lost, unblocked := diffOwners([]metav1.OwnerReference{a, b, c}, []metav1.OwnerReference{aFree, ownerRef(configMapKind, "d", "d", false)})
	if diff := cmp.Diff([]metav1.OwnerReference{ownerRef(configMapKind, "d", "d", false)}, gained); diff != "" {
		t.Errorf("gained (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]metav1.OwnerReference{b, c}, lost); diff != "" {
		t.Errorf("lost (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]types.UID{"a", "c"}, unblocked); diff != "" {
		t.Errorf("unblocked (-want +got):\n%s", diff)
	}
}
