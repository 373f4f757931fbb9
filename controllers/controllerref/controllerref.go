// Package controllerref decides which objects a controller owns through
// controller ownerReferences, as upstream's ControllerRefManager does: an
// owner adopts the orphans its selector matches and releases the objects it
// controls that its selector no longer matches. It also indexes informers by
// controller so that an owner finds its objects without scanning a namespace.
package controllerref

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/cache"
)

// Claimer claims objects of one kind for one owner. It is made for one
// sync of the owner and thrown away afterwards.
type Claimer struct {
	// Owner is the controller, Kind its kind (for the ownerReference).
	Owner metav1.Object
	Kind  schema.GroupVersionKind
	// Selector picks the objects the owner wants.
	Selector labels.Selector
	// Patch applies a strategic merge patch to the object called name in
	// the owner's namespace.
	Patch func(ctx context.Context, name string, patch []byte) error
	// Recheck, when set, runs once before the first adoption and fails if
	// the owner is gone or being deleted. The informer cache can lag, and an
	// object adopted by a deleted owner would be garbage collected with it.
	Recheck func(ctx context.Context) error

	rechecked  bool
	recheckErr error
}

// Claim returns the objects among objs that the owner controls once
// matching orphans are adopted and non-matching objects released.
func Claim[T metav1.Object](ctx context.Context, c *Claimer, objs []T) ([]T, error) {
	var claimed []T
	var errs []error
	for _, obj := range objs {
		ok, err := c.claim(ctx, obj)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			claimed = append(claimed, obj)
		}
	}
	return claimed, utilerrors.NewAggregate(errs)
}

func (c *Claimer) claim(ctx context.Context, obj metav1.Object) (bool, error) {
	matches := c.Selector.Matches(labels.Set(obj.GetLabels()))
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		if ref.UID != c.Owner.GetUID() {
			return false, nil
		}
		if matches {
			return true, nil
		}
		// An owner being deleted leaves its objects to the garbage collector.
		if c.Owner.GetDeletionTimestamp() != nil {
			return false, nil
		}
		if err := c.release(ctx, obj); err != nil {
			return false, err
		}
		return false, nil
	}
	if !matches || c.Owner.GetDeletionTimestamp() != nil || obj.GetDeletionTimestamp() != nil ||
		obj.GetNamespace() != c.Owner.GetNamespace() {
		return false, nil
	}
	if err := c.adopt(ctx, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

func (c *Claimer) adopt(ctx context.Context, obj metav1.Object) error {
	if c.Recheck != nil && !c.rechecked {
		c.rechecked = true
		c.recheckErr = c.Recheck(ctx)
	}
	if c.recheckErr != nil {
		return fmt.Errorf("adopting %s/%s: %w", obj.GetNamespace(), obj.GetName(), c.recheckErr)
	}
	patch, err := AdoptPatch(c.Owner, c.Kind, obj.GetUID())
	if err != nil {
		return err
	}
	if err := c.Patch(ctx, obj.GetName(), patch); err != nil {
		return fmt.Errorf("adopting %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

func (c *Claimer) release(ctx context.Context, obj metav1.Object) error {
	patch, err := ReleasePatch(c.Owner.GetUID(), obj.GetUID())
	if err != nil {
		return err
	}
	err = c.Patch(ctx, obj.GetName(), patch)
	// Gone, or changed so that the patch no longer applies: either way it is not ours.
	if err == nil || apierrors.IsNotFound(err) || apierrors.IsInvalid(err) {
		return nil
	}
	return fmt.Errorf("releasing %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
}

// patchMeta is the metadata of an ownership patch. The object's UID makes
// the patch fail if the object was replaced by another of the same name.
type patchMeta struct {
	UID             types.UID `json:"uid"`
	OwnerReferences []any     `json:"ownerReferences"`
}

type patchBody struct {
	Metadata patchMeta `json:"metadata"`
}

// AdoptPatch is the strategic merge patch that makes owner the controller
// of the object with the given UID.
func AdoptPatch(owner metav1.Object, kind schema.GroupVersionKind, uid types.UID) ([]byte, error) {
	ref := metav1.NewControllerRef(owner, kind)
	return json.Marshal(patchBody{Metadata: patchMeta{UID: uid, OwnerReferences: []any{ref}}})
}

// ReleasePatch is the strategic merge patch that removes the reference to
// owner from the object with the given UID.
func ReleasePatch(owner, uid types.UID) ([]byte, error) {
	return json.Marshal(patchBody{Metadata: patchMeta{UID: uid,
		OwnerReferences: []any{map[string]string{"$patch": "delete", "uid": string(owner)}}}})
}

// IndexName is the informer index of objects by controller: the UID of the
// controller for controlled objects, orphanKey(namespace) for the others.
const IndexName = "capstan.dev/controller"

// AddIndex adds the index to an informer unless it is there already (the
// informers are shared). It must run before the informer starts.
func AddIndex(informer cache.SharedIndexInformer) error {
	if _, ok := informer.GetIndexer().GetIndexers()[IndexName]; ok {
		return nil
	}
	return informer.AddIndexers(cache.Indexers{IndexName: indexByController})
}

func indexByController(obj any) ([]string, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil
	}
	if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
		return []string{string(ref.UID)}, nil
	}
	return []string{orphanKey(m.GetNamespace())}, nil
}

// orphanKey cannot collide with a UID, which never holds a slash.
func orphanKey(namespace string) string { return "orphan/" + namespace }

// Owned returns the objects of an indexed informer controlled by the owner with the given UID.
func Owned[T any](indexer cache.Indexer, owner types.UID) ([]T, error) {
	return byIndex[T](indexer, string(owner))
}

// Orphans returns the objects of an indexed informer in namespace that have no controller.
func Orphans[T any](indexer cache.Indexer, namespace string) ([]T, error) {
	return byIndex[T](indexer, orphanKey(namespace))
}

func byIndex[T any](indexer cache.Indexer, key string) ([]T, error) {
	objs, err := indexer.ByIndex(IndexName, key)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(objs))
	for _, o := range objs {
		if t, ok := o.(T); ok {
			out = append(out, t)
		}
	}
	return out, nil
}
