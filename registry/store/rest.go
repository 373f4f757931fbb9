package store

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// REST is the storage of a resource's main endpoint.
type REST struct {
	*genericregistry.Store
	shortNames []string
	categories []string
	singular   string
}

var (
	_ rest.ShortNamesProvider   = &REST{}
	_ rest.CategoriesProvider   = &REST{}
	_ rest.SingularNameProvider = &REST{}
	_ rest.StandardStorage      = &REST{}
)

func (r *REST) ShortNames() []string    { return r.shortNames }
func (r *REST) Categories() []string    { return r.categories }
func (r *REST) GetSingularName() string { return r.singular }

// StatusREST serves the /status subresource: get, update and patch of one object.
type StatusREST struct {
	store *genericregistry.Store
}

var (
	_ rest.Patcher = &StatusREST{}
	_ rest.Storage = &StatusREST{}
)

func (r *StatusREST) New() runtime.Object { return r.store.New() }
func (r *StatusREST) Destroy()            {}

func (r *StatusREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return r.store.Get(ctx, name, options)
}

func (r *StatusREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	// A status write never creates the object.
	return r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}

func (r *StatusREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}

func (r *StatusREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.store.ConvertToTable(ctx, object, tableOptions)
}

// Storage is what a resource installs: the main endpoint and, when the
// resource has one, its status subresource.
type Storage struct {
	REST   *REST
	Status *StatusREST
}

// New builds the generic store of r on the given REST options.
func New[T runtime.Object](r *Resource[T], optsGetter generic.RESTOptionsGetter) (*Storage, error) {
	s := newStrategy(r)
	singular := r.Singular
	if singular == "" {
		singular = lower(r.Kind)
	}
	st := &genericregistry.Store{
		NewFunc:                  func() runtime.Object { return r.New() },
		NewListFunc:              r.NewList,
		DefaultQualifiedResource: r.Resource,
		PredicateFunc:            r.predicate,
		CreateStrategy:           s,
		UpdateStrategy:           s,
		DeleteStrategy:           s,
		ResetFieldsStrategy:      s,
		ReturnDeletedObject:      r.ReturnDeletedObject,
		TableConvertor:           tableConvertor[T]{r},
	}
	if r.TTL != nil {
		st.TTLFunc = func(obj runtime.Object, existing uint64, update bool) (uint64, error) {
			return r.TTL(obj.(T), existing, update)
		}
	}
	if r.KeepOnUpdate != nil {
		st.ShouldDeleteDuringUpdate = func(_ context.Context, _ string, obj, _ runtime.Object) bool {
			return !r.KeepOnUpdate(obj.(T))
		}
	}
	st.SingularQualifiedResource = r.Resource
	st.SingularQualifiedResource.Resource = singular
	if err := st.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: r.attrs}); err != nil {
		return nil, err
	}
	out := &Storage{REST: &REST{Store: st, shortNames: r.ShortNames, categories: r.Categories, singular: singular}}
	if r.HasStatus {
		statusStore := *st
		ss := statusStrategy[T]{s}
		statusStore.UpdateStrategy = ss
		statusStore.ResetFieldsStrategy = ss
		out.Status = &StatusREST{store: &statusStore}
	}
	return out, nil
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
