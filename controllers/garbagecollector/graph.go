package garbagecollector

import (
	"fmt"
	"sort"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ref names an object the way an owner reference does, plus the namespace
// the object lives in (empty for cluster-scoped objects, and for owners
// whose scope is not yet known it is the namespace of the dependent that
// mentioned them).
type ref struct {
	APIVersion string
	Kind       string
	Name       string
	UID        types.UID
	Namespace  string
}

// String is the form upstream uses in logs and in the OwnerRefInvalidNamespace event.
func (r ref) String() string {
	return fmt.Sprintf("[%s/%s, namespace: %s, name: %s, uid: %s]", r.APIVersion, r.Kind, r.Namespace, r.Name, r.UID)
}

// refTo is the identity an owner reference gives its target, seen from a
// dependent in namespace.
func refTo(o metav1.OwnerReference, namespace string) ref {
	return ref{APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name, UID: o.UID, Namespace: namespace}
}

// sameCoordinates reports whether an owner reference names r (ignoring namespace).
func (r ref) sameCoordinates(o metav1.OwnerReference) bool {
	return r.UID == o.UID && r.Name == o.Name && r.Kind == o.Kind && r.APIVersion == o.APIVersion
}

// less orders identities by kind, apiVersion, namespace, name and uid.
func (r ref) less(o ref) bool {
	switch {
	case r.Kind != o.Kind:
		return r.Kind < o.Kind
	case r.APIVersion != o.APIVersion:
		return r.APIVersion < o.APIVersion
	case r.Namespace != o.Namespace:
		return r.Namespace < o.Namespace
	case r.Name != o.Name:
		return r.Name < o.Name
	}
	return r.UID < o.UID
}

// node is one object in the graph. Only the graph builder changes nodes,
// always holding graph.mu for writing; workers read them through views.
type node struct {
	id     ref
	owners []metav1.OwnerReference
	// dependents are the UIDs of nodes whose owners name this node's UID.
	dependents map[types.UID]struct{}
	// beingDeleted: the object has a deletionTimestamp.
	beingDeleted bool
	// deletingDependents: being deleted in the foreground, so its
	// dependents must go first.
	deletingDependents bool
	// virtual: known only from other objects' owner references, never
	// seen by an informer.
	virtual bool
}

// blocks reports whether n holds a blocking owner reference to uid.
func (n *node) blocks(uid types.UID) bool {
	for _, o := range n.owners {
		if o.UID == uid && o.BlockOwnerDeletion != nil && *o.BlockOwnerDeletion {
			return true
		}
	}
	return false
}

// view is a copy of a node that workers can use without holding the lock.
type view struct {
	id                 ref
	owners             []metav1.OwnerReference
	beingDeleted       bool
	deletingDependents bool
	observed           bool
	dependents         int
}

func (n *node) view() view {
	return view{
		id:                 n.id,
		owners:             append([]metav1.OwnerReference(nil), n.owners...),
		beingDeleted:       n.beingDeleted,
		deletingDependents: n.deletingDependents,
		observed:           !n.virtual,
		dependents:         len(n.dependents),
	}
}

// graph maps UIDs to nodes.
type graph struct {
	mu    sync.RWMutex
	nodes map[types.UID]*node
}

func newGraph() *graph { return &graph{nodes: map[types.UID]*node{}} }

// get returns a copy of the node with uid.
func (g *graph) get(uid types.UID) (view, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n, ok := g.nodes[uid]
	if !ok {
		return view{}, false
	}
	return n.view(), true
}

// has reports whether uid is in the graph.
func (g *graph) has(uid types.UID) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	_, ok := g.nodes[uid]
	return ok
}

// dependentsOf returns copies of the dependents of uid, sorted by identity.
func (g *graph) dependentsOf(uid types.UID) []view {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n, ok := g.nodes[uid]
	if !ok {
		return nil
	}
	return g.viewsLocked(n.dependents, func(*node) bool { return true })
}

// blockingDependentsOf returns the dependents of uid whose owner reference
// to it has blockOwnerDeletion set: those a foreground deletion waits for.
func (g *graph) blockingDependentsOf(uid types.UID) []view {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n, ok := g.nodes[uid]
	if !ok {
		return nil
	}
	return g.viewsLocked(n.dependents, func(d *node) bool { return d.blocks(uid) })
}

func (g *graph) viewsLocked(uids map[types.UID]struct{}, keep func(*node) bool) []view {
	var out []view
	for uid := range uids {
		if d, ok := g.nodes[uid]; ok && keep(d) {
			out = append(out, d.view())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id.less(out[j].id) })
	return out
}

// partition splits deps (nodes, with the lock held) into those whose owner
// references to id.UID match id's coordinates and namespace, and those that
// refer to the same UID some other way. A dependent can be in both.
func partition(deps []*node, id ref) (matching, mismatching []*node) {
	for _, d := range deps {
		match, mismatch := false, false
		if id.Namespace != "" && d.id.Namespace != id.Namespace {
			// A namespaced owner can only own objects in its own namespace.
			mismatch = true
		} else {
			for _, o := range d.owners {
				if o.UID != id.UID {
					continue
				}
				if id.sameCoordinates(o) {
					match = true
				} else {
					mismatch = true
				}
			}
		}
		if match {
			matching = append(matching, d)
		}
		if mismatch {
			mismatching = append(mismatching, d)
		}
	}
	return matching, mismatching
}

// alternateIdentity finds, among the owner references of deps to absent.UID,
// an identity other than absent (which the API server said does not exist):
// the first one after absent in identity order, or else the first overall.
// It returns nil when the dependents agree on absent.
func alternateIdentity(deps []*node, absent ref) *ref {
	clusterScoped := absent.Namespace == ""
	var candidates []ref
	seen := map[ref]bool{absent: true}
	for _, d := range deps {
		for _, o := range d.owners {
			if o.UID != absent.UID {
				continue
			}
			if absent.sameCoordinates(o) && (clusterScoped || d.id.Namespace == absent.Namespace) {
				continue
			}
			r := refTo(o, d.id.Namespace)
			if clusterScoped && r.APIVersion == absent.APIVersion && r.Kind == absent.Kind {
				// That apiVersion and kind is cluster-scoped: a namespace adds nothing.
				r.Namespace = ""
			}
			if !seen[r] {
				seen[r] = true
				candidates = append(candidates, r)
			}
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	sort.Slice(candidates, func(i, j int) bool { return candidates[i].less(candidates[j]) })
	for i := range candidates {
		if absent.less(candidates[i]) {
			return &candidates[i]
		}
	}
	return &candidates[0]
}
