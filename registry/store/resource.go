package store

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/capstan-dev/capstan/registry/scheme"
)

// Resource describes one resource. Every function field is optional; the
// strategy built from it calls them with the typed object T.
type Resource[T runtime.Object] struct {
	// Resource is the plural, lower-case resource name and its group.
	Resource schema.GroupResource
	// Singular is the singular name shown in discovery (the kind, lower-cased, when empty).
	Singular string
	Kind     string
	// NameFunc validates metadata.name; DNS subdomain when nil.
	NameFunc   NameFunc
	Namespaced bool
	ShortNames []string
	Categories []string

	New     func() T
	NewList func() runtime.Object

	// HasStatus splits spec from status: writes to the main resource keep
	// the stored status, writes to /status keep the stored spec.
	HasStatus bool
	// KeepStatusOnCreate lets a create carry its status (Nodes: an agent
	// registers its Node with capacity and conditions in one request).
	KeepStatusOnCreate bool
	// Generation bumps metadata.generation whenever the spec changes.
	Generation bool
	// AllowCreateOnUpdate lets PUT create a missing object (Leases, Endpoints, ...).
	AllowCreateOnUpdate bool
	// AllowUnconditionalUpdate lets an update without resourceVersion through.
	AllowUnconditionalUpdate *bool

	PrepareForCreate func(ctx context.Context, obj T)
	PrepareForUpdate func(ctx context.Context, obj, old T)
	Validate         func(ctx context.Context, obj T) field.ErrorList
	ValidateUpdate   func(ctx context.Context, obj, old T) field.ErrorList
	WarningsOnCreate func(ctx context.Context, obj T) []string
	WarningsOnUpdate func(ctx context.Context, obj, old T) []string

	// Status subresource hooks; PrepareForStatusUpdate runs after the spec was reset.
	PrepareForStatusUpdate func(ctx context.Context, obj, old T)
	ValidateStatusUpdate   func(ctx context.Context, obj, old T) field.ErrorList

	// CheckGracefulDelete decides graceful deletion (pods); nil means immediate.
	CheckGracefulDelete func(ctx context.Context, obj T, options *metav1.DeleteOptions) bool
	// KeepOnUpdate, when set and true, keeps an object that an update would
	// otherwise delete (its last metadata finalizer gone while it is being
	// deleted): namespaces wait for their spec.finalizers as well.
	KeepOnUpdate func(obj T) bool
	// ReturnDeletedObject answers DELETE with the deleted object instead of a Status.
	ReturnDeletedObject bool
	// GCPolicy overrides the default propagation when the client names none.
	GCPolicy rest.GarbageCollectionPolicy
	// TTL, when set, gives the time to live in seconds of the object written
	// to etcd (Events expire after an hour); existing is the current TTL.
	TTL func(obj T, existing uint64, update bool) (uint64, error)

	// Fields are the field selectors upstream supports beyond metadata.name
	// and metadata.namespace, each with how to read it from an object.
	Fields map[string]func(T) string

	Columns []metav1.TableColumnDefinition
	Row     func(T) []any
}

// GVK returns the group, version and kind of the resource in version v.
func (r *Resource[T]) GVK(version string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: r.Resource.Group, Version: version, Kind: r.Kind}
}

// RegisterFieldLabels makes the scheme accept this resource's field
// selectors in the given served versions.
func (r *Resource[T]) RegisterFieldLabels(versions ...string) error {
	names := make([]string, 0, len(r.Fields))
	for f := range r.Fields {
		names = append(names, f)
	}
	for _, v := range versions {
		if err := scheme.FieldLabels(scheme.Scheme, r.GVK(v), names...); err != nil {
			return err
		}
	}
	return nil
}

// attrs is the storage.AttrFunc: labels plus every supported field.
func (r *Resource[T]) attrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil, err
	}
	fs := fields.Set{"metadata.name": m.GetName()}
	if r.Namespaced {
		fs["metadata.namespace"] = m.GetNamespace()
	}
	t := obj.(T)
	for name, get := range r.Fields {
		fs[name] = get(t)
	}
	return labels.Set(m.GetLabels()), fs, nil
}

func (r *Resource[T]) predicate(l labels.Selector, f fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: l, Field: f, GetAttrs: r.attrs}
}

func (r *Resource[T]) resetFields(path string) map[fieldpath.APIVersion]*fieldpath.Set {
	if !r.HasStatus {
		return nil
	}
	set := fieldpath.NewSet(fieldpath.MakePathOrDie(path))
	out := map[fieldpath.APIVersion]*fieldpath.Set{}
	for _, gv := range scheme.Scheme.PrioritizedVersionsForGroup(r.Resource.Group) {
		if scheme.Scheme.Recognizes(gv.WithKind(r.Kind)) {
			out[fieldpath.APIVersion(gv.String())] = set
		}
	}
	return out
}
