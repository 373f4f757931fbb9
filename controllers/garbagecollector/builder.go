package garbagecollector

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/lru"
)

type eventType int

const (
	added eventType = iota
	updated
	deleted
)

func (t eventType) String() string {
	switch t {
	case added:
		return "add"
	case updated:
		return "update"
	default:
		return "delete"
	}
}

// event is a change to one object, from an informer or, when virtual,
// from a worker that found the object absent at the API server.
type event struct {
	typ     eventType
	virtual bool
	obj     metav1.Object
	old     metav1.Object // updates only
	gvk     schema.GroupVersionKind
}

func (e *event) identity() ref {
	return ref{
		APIVersion: e.gvk.GroupVersion().String(),
		Kind:       e.gvk.Kind,
		Name:       e.obj.GetName(),
		UID:        e.obj.GetUID(),
		Namespace:  e.obj.GetNamespace(),
	}
}

// absentCache remembers owners the API server said do not exist, so that
// their many dependents need not ask again. A namespaced owner is recorded
// with its namespace, a cluster-scoped one without.
type absentCache struct{ c *lru.Cache }

func newAbsentCache(size int) *absentCache { return &absentCache{c: lru.New(size)} }
func (a *absentCache) add(r ref)           { a.c.Add(r, nil) }
func (a *absentCache) has(r ref) bool      { _, ok := a.c.Get(r); return ok }

// builder applies events to the graph, one at a time, and queues the
// objects the change may have made collectable.
type builder struct {
	graph           *graph
	attemptToDelete workqueue.TypedRateLimitingInterface[types.UID]
	attemptToOrphan workqueue.TypedRateLimitingInterface[types.UID]
	absent          *absentCache
	recorder        record.EventRecorder
}

// process applies one event.
func (b *builder) process(logger klog.Logger, e *event) {
	id := e.identity()
	logger.V(5).Info("Graph change", "item", id, "event", e.typ, "virtual", e.virtual)
	b.graph.mu.Lock()
	defer b.graph.mu.Unlock()
	n, found := b.graph.nodes[id.UID]
	if found && !e.virtual && n.virtual {
		b.observeLocked(logger, n, id)
	}
	switch {
	case e.typ != deleted && !found:
		n = &node{
			id:                 id,
			owners:             slices.Clone(e.obj.GetOwnerReferences()),
			dependents:         map[types.UID]struct{}{},
			beingDeleted:       beingDeleted(e.obj),
			deletingDependents: beingDeleted(e.obj) && hasFinalizer(e.obj, metav1.FinalizerDeleteDependents),
		}
		b.graph.nodes[id.UID] = n
		b.linkOwnersLocked(logger, n, n.owners)
		// An informer may fold a creation and a deletion into one event.
		b.transitionsLocked(logger, e, n)
	case e.typ != deleted:
		b.updateOwnersLocked(logger, n, e.obj.GetOwnerReferences())
		if beingDeleted(e.obj) {
			n.beingDeleted = true
		}
		b.transitionsLocked(logger, e, n)
	case found:
		b.removeLocked(logger, e, n, id)
	}
}

// observeLocked turns a virtual node into an observed one. When the object
// turns out to have other coordinates than its dependents guessed, the
// dependents that guessed wrong are checked again.
func (b *builder) observeLocked(logger klog.Logger, n *node, observed ref) {
	if n.id != observed {
		_, wrong := partition(b.nodesLocked(n.dependents), observed)
		for _, d := range wrong {
			if observed.Namespace != "" && d.id.Namespace != observed.Namespace {
				logger.V(2).Info("Item references an owner in another namespace", "item", d.id, "owner", observed)
				b.reportInvalidNamespace(d, observed.UID)
			}
			b.attemptToDelete.Add(d.id.UID)
		}
		logger.V(2).Info("Replacing virtual item with observed item", "virtual", n.id, "observed", observed)
		n.id = observed
	}
	n.virtual = false
}

// linkOwnersLocked records n as a dependent of owners, creating virtual
// nodes for owners not seen yet (queued so that a worker checks they
// exist). A dependent whose references disagree with what is known of the
// owner is queued too, so that a worker checks its owners against the API.
func (b *builder) linkOwnersLocked(logger klog.Logger, n *node, owners []metav1.OwnerReference) {
	suspect := false
	for _, o := range owners {
		owner, ok := b.graph.nodes[o.UID]
		if !ok {
			owner = &node{id: refTo(o, n.id.Namespace), dependents: map[types.UID]struct{}{}, virtual: true}
			b.graph.nodes[o.UID] = owner
			owner.dependents[n.id.UID] = struct{}{}
			logger.V(5).Info("Added virtual item", "item", owner.id)
			b.attemptToDelete.Add(o.UID)
			continue
		}
		owner.dependents[n.id.UID] = struct{}{}
		if suspect {
			continue
		}
		switch {
		case owner.id.Namespace != "" && owner.id.Namespace != n.id.Namespace:
			// Cluster-scoped owners may own objects anywhere; namespaced ones only in their namespace.
			if !owner.virtual {
				logger.V(2).Info("Item references an owner in another namespace", "item", n.id, "owner", owner.id)
				b.reportInvalidNamespace(n, o.UID)
			}
			suspect = true
		case !owner.id.sameCoordinates(o):
			if !owner.virtual {
				logger.V(2).Info("Item references an owner with other coordinates than observed", "item", n.id, "owner", owner.id)
			}
			suspect = true
		case owner.id.Namespace == "" && n.id.Namespace != "" && owner.virtual:
			// The owner was guessed cluster-scoped from a cluster-scoped
			// dependent; it may really be a namespaced object that a
			// cluster-scoped object cannot own.
			suspect = true
		}
	}
	if suspect {
		b.attemptToDelete.Add(n.id.UID)
	}
}

func (b *builder) unlinkOwnersLocked(n *node, owners []metav1.OwnerReference) {
	for _, o := range owners {
		if owner, ok := b.graph.nodes[o.UID]; ok {
			delete(owner.dependents, n.id.UID)
		}
	}
}

// updateOwnersLocked brings n's owners up to date. Owners whose blocking
// reference from n went away may be waiting for that, so they are queued.
func (b *builder) updateOwnersLocked(logger klog.Logger, n *node, owners []metav1.OwnerReference) {
	if ownersEqual(n.owners, owners) {
		return
	}
	gained, lost, unblocked := diffOwners(n.owners, owners)
	for _, uid := range unblocked {
		if _, ok := b.graph.nodes[uid]; ok {
			b.attemptToDelete.Add(uid)
		}
	}
	n.owners = slices.Clone(owners)
	b.linkOwnersLocked(logger, n, gained)
	b.unlinkOwnersLocked(n, lost)
}

// transitionsLocked queues an owner whose deletion just started with the
// orphan or the foregroundDeletion finalizer.
func (b *builder) transitionsLocked(logger klog.Logger, e *event, n *node) {
	if startsDeletingWith(e, metav1.FinalizerOrphanDependents) {
		logger.V(5).Info("Orphaning the dependents of item", "item", n.id)
		b.attemptToOrphan.Add(n.id.UID)
		return
	}
	if startsDeletingWith(e, metav1.FinalizerDeleteDependents) {
		logger.V(2).Info("Deleting the dependents of item before it", "item", n.id)
		n.deletingDependents = true
		for uid := range n.dependents {
			b.attemptToDelete.Add(uid)
		}
		b.attemptToDelete.Add(n.id.UID)
	}
}

// removeLocked handles a deletion. A virtual deletion (the API server has
// no object with id's coordinates) removes the node only when nothing
// suggests the object exists under other coordinates.
func (b *builder) removeLocked(logger klog.Logger, e *event, n *node, id ref) {
	if e.virtual {
		deps := b.nodesLocked(n.dependents)
		if n.virtual {
			matching, mismatching := partition(deps, id)
			if len(mismatching) > 0 {
				// Some dependents name this UID differently: keep the node
				// and let the next guess be checked.
				b.confirmAbsentLocked(id, matching)
				if n.id == id {
					if alt := alternateIdentity(mismatching, id); alt != nil {
						logger.V(2).Info("Trying another identity for virtual item", "absent", id, "next", *alt)
						n.id = *alt
						b.attemptToDelete.AddRateLimited(n.id.UID)
					}
				}
				return
			}
		} else if n.id != id {
			// The object exists under the coordinates the informer saw;
			// only the dependents that named it otherwise are affected.
			matching, _ := partition(deps, id)
			b.confirmAbsentLocked(id, matching)
			return
		}
	}
	delete(b.graph.nodes, id.UID)
	b.unlinkOwnersLocked(n, n.owners)
	if len(n.dependents) > 0 {
		b.absent.add(id)
	}
	for uid := range n.dependents {
		b.attemptToDelete.Add(uid)
	}
	// An owner deleting in the foreground may have waited for this one.
	for _, o := range n.owners {
		if owner, ok := b.graph.nodes[o.UID]; ok && owner.deletingDependents {
			b.attemptToDelete.Add(o.UID)
		}
	}
	logger.V(5).Info("Removed item from the graph", "item", id)
}

func (b *builder) confirmAbsentLocked(id ref, deps []*node) {
	if len(deps) == 0 {
		return
	}
	b.absent.add(id)
	for _, d := range deps {
		b.attemptToDelete.Add(d.id.UID)
	}
}

func (b *builder) nodesLocked(uids map[types.UID]struct{}) []*node {
	out := make([]*node, 0, len(uids))
	for uid := range uids {
		if d, ok := b.graph.nodes[uid]; ok {
			out = append(out, d)
		}
	}
	return out
}

// reportInvalidNamespace records an event on n: its reference to ownerUID
// points at an object in another namespace, which it cannot have as owner.
func (b *builder) reportInvalidNamespace(n *node, ownerUID types.UID) {
	if b.recorder == nil {
		return
	}
	i := slices.IndexFunc(n.owners, func(o metav1.OwnerReference) bool { return o.UID == ownerUID })
	if i < 0 {
		return
	}
	invalid := refTo(n.owners[i], n.id.Namespace)
	target := &corev1.ObjectReference{Kind: n.id.Kind, APIVersion: n.id.APIVersion, Namespace: n.id.Namespace, Name: n.id.Name, UID: n.id.UID}
	b.recorder.Eventf(target, corev1.EventTypeWarning, "OwnerRefInvalidNamespace", "ownerRef %s does not exist in namespace %q", invalid, n.id.Namespace)
}

func beingDeleted(o metav1.Object) bool { return o.GetDeletionTimestamp() != nil }

func hasFinalizer(o metav1.Object, f string) bool { return slices.Contains(o.GetFinalizers(), f) }

// startsDeletingWith reports whether e is the first sign of the object
// being deleted while holding finalizer f.
func startsDeletingWith(e *event, f string) bool {
	if !beingDeleted(e.obj) || !hasFinalizer(e.obj, f) {
		return false
	}
	return e.old == nil || !beingDeleted(e.old) || !hasFinalizer(e.old, f)
}

// diffOwners compares two lists of owner references by UID: the ones
// gained and lost, and the UIDs whose reference stopped blocking.
func diffOwners(before, after []metav1.OwnerReference) (gained, lost []metav1.OwnerReference, unblocked []types.UID) {
	old := make(map[types.UID]metav1.OwnerReference, len(before))
	for _, o := range before {
		old[o.UID] = o
	}
	for _, o := range after {
		prev, ok := old[o.UID]
		if !ok {
			gained = append(gained, o)
			continue
		}
		delete(old, o.UID)
		if blocking(prev) && !blocking(o) {
			unblocked = append(unblocked, o.UID)
		}
	}
	for _, o := range before {
		if _, ok := old[o.UID]; ok {
			lost = append(lost, o)
			if blocking(o) {
				unblocked = append(unblocked, o.UID)
			}
		}
	}
	return gained, lost, unblocked
}

func blocking(o metav1.OwnerReference) bool {
	return o.BlockOwnerDeletion != nil && *o.BlockOwnerDeletion
}

func ownersEqual(a, b []metav1.OwnerReference) bool {
	return slices.EqualFunc(a, b, func(x, y metav1.OwnerReference) bool {
		return x.UID == y.UID && x.Name == y.Name && x.Kind == y.Kind && x.APIVersion == y.APIVersion &&
			blocking(x) == blocking(y) && (x.Controller != nil && *x.Controller) == (y.Controller != nil && *y.Controller)
	})
}
