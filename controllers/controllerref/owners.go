package controllerref

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Resolver finds, in the informer cache, the owners of one kind that an
// event about an object they may own concerns: the object's controller, or
// for an orphan, the owners whose selector matches it.
type Resolver[O metav1.Object] struct {
	// Kind is the owners' kind; a reference to another kind is not theirs.
	Kind string
	// Get and List read owners from the cache.
	Get  func(namespace, name string) (O, error)
	List func(namespace string) ([]O, error)
	// Selector is an owner's label selector.
	Selector func(O) *metav1.LabelSelector
}

// Owner returns the owner that ref names, or the zero value (nil) when ref
// is nil, names another kind, or names an owner that is gone or was
// replaced by another of the same name.
func (r *Resolver[O]) Owner(namespace string, ref *metav1.OwnerReference) O {
	var none O
	if ref == nil || ref.Kind != r.Kind {
		return none
	}
	owner, err := r.Get(namespace, ref.Name)
	if err != nil || owner.GetUID() != ref.UID {
		return none
	}
	return owner
}

// Selecting returns the owners in namespace whose selector matches set.
// An empty or invalid selector matches nothing.
func (r *Resolver[O]) Selecting(namespace string, set map[string]string) []O {
	all, err := r.List(namespace)
	if err != nil {
		return nil
	}
	var out []O
	for _, owner := range all {
		sel, err := metav1.LabelSelectorAsSelector(r.Selector(owner))
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(set)) {
			continue
		}
		out = append(out, owner)
	}
	return out
}

// RecheckOwner returns a Claimer.Recheck for owner: it reads the owner
// afresh through fetch, which should bypass the cache, and fails if the
// owner was replaced or is being deleted. what names the owner's kind in
// those errors.
func RecheckOwner[O metav1.Object](owner O, what string, fetch func(ctx context.Context, namespace, name string) (O, error)) func(context.Context) error {
	return func(ctx context.Context) error {
		fresh, err := fetch(ctx, owner.GetNamespace(), owner.GetName())
		if err != nil {
			return err
		}
		if fresh.GetUID() != owner.GetUID() {
			return fmt.Errorf("%s %s/%s was replaced", what, owner.GetNamespace(), owner.GetName())
		}
		if fresh.GetDeletionTimestamp() != nil {
			return fmt.Errorf("%s %s/%s is being deleted", what, owner.GetNamespace(), owner.GetName())
		}
		return nil
	}
}
