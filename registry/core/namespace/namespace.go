// Package namespace is the storage of core/v1 Namespaces, with their
// finalize and status subresources and two-phase deletion.
package namespace

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"

	"github.com/capstan-dev/capstan/registry/store"
)

// Resource describes namespaces.
var Resource = &store.Resource[*corev1.Namespace]{
	Resource:   schema.GroupResource{Resource: "namespaces"},
	Kind:       "Namespace",
	ShortNames: []string{"ns"},
	NameFunc:   apimachineryvalidation.ValidateNamespaceName,
	HasStatus:  true,
	New:        func() *corev1.Namespace { return &corev1.Namespace{} },
	NewList:    func() runtime.Object { return &corev1.NamespaceList{} },
	PrepareForCreate: func(_ context.Context, ns *corev1.Namespace) {
		ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
		// Every namespace carries the kubernetes finalizer, emptied by the namespace controller.
		if !hasFinalizer(ns, corev1.FinalizerKubernetes) {
			ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
		}
		setNameLabel(ns)
	},
	PrepareForUpdate: func(_ context.Context, ns, old *corev1.Namespace) {
		// spec.finalizers change only through /finalize.
		ns.Spec.Finalizers = old.Spec.Finalizers
		setNameLabel(ns)
	},
	Validate: func(_ context.Context, ns *corev1.Namespace) field.ErrorList {
		return validateFinalizers(ns.Spec.Finalizers, field.NewPath("spec", "finalizers"))
	},
	PrepareForStatusUpdate: func(_ context.Context, ns, _ *corev1.Namespace) { setNameLabel(ns) },
	// Removing the last metadata finalizer (the garbage collector's orphan,
	// say) or writing the status must not delete a namespace whose content
	// is still being removed.
	KeepOnUpdate: func(ns *corev1.Namespace) bool { return len(ns.Spec.Finalizers) > 0 },
	ValidateStatusUpdate: func(_ context.Context, ns, old *corev1.Namespace) field.ErrorList {
		var errs field.ErrorList
		if old.DeletionTimestamp.IsZero() && ns.Status.Phase != corev1.NamespaceActive {
			errs = append(errs, field.Invalid(field.NewPath("status", "Phase"), ns.Status.Phase, "may only be 'Active' if `deletionTimestamp` is empty"))
		}
		if !old.DeletionTimestamp.IsZero() && ns.Status.Phase != corev1.NamespaceTerminating {
			errs = append(errs, field.Invalid(field.NewPath("status", "Phase"), ns.Status.Phase, "may only be 'Terminating' if `deletionTimestamp` is not empty"))
		}
		return errs
	},
	Fields: map[string]func(*corev1.Namespace) string{
		"status.phase": func(ns *corev1.Namespace) string { return string(ns.Status.Phase) },
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Status", Type: "string", Description: "The status of the namespace"},
		store.AgeColumn,
	},
	Row: func(ns *corev1.Namespace) []any {
		return []any{ns.Name, string(ns.Status.Phase), store.Age(ns.CreationTimestamp)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// setNameLabel keeps the immutable kubernetes.io/metadata.name label equal to the name.
func setNameLabel(ns *corev1.Namespace) {
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[corev1.LabelMetadataName] = ns.Name
}

func hasFinalizer(ns *corev1.Namespace, f corev1.FinalizerName) bool {
	for _, x := range ns.Spec.Finalizers {
		if x == f {
			return true
		}
	}
	return false
}

func validateFinalizers(fs []corev1.FinalizerName, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, f := range fs {
		errs = append(errs, apimachineryvalidation.ValidateFinalizerName(string(f), p.Index(i))...)
	}
	return errs
}

// Storage holds the namespace endpoints.
type Storage struct {
	REST     *REST
	Status   *store.StatusREST
	Finalize *FinalizeREST
}

// NewStorage builds the namespace storage.
func NewStorage(opts generic.RESTOptionsGetter) (*Storage, error) {
	s, err := store.New(Resource, opts)
	if err != nil {
		return nil, err
	}
	return &Storage{REST: &REST{REST: s.REST}, Status: s.Status, Finalize: &FinalizeREST{store: s.REST.Store}}, nil
}

// REST deletes in two phases: the first DELETE marks the namespace
// Terminating; it goes away once its spec and metadata finalizers are empty.
type REST struct{ *store.REST }

func (r *REST) Delete(ctx context.Context, name string, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions) (runtime.Object, bool, error) {
	obj, err := r.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, false, err
	}
	ns := obj.(*corev1.Namespace)
	if options == nil {
		options = metav1.NewDeleteOptions(0)
	}
	if options.Preconditions == nil {
		options.Preconditions = &metav1.Preconditions{}
	}
	if options.Preconditions.UID == nil {
		options.Preconditions.UID = &ns.UID
	} else if *options.Preconditions.UID != ns.UID {
		return nil, false, apierrors.NewConflict(Resource.Resource, name,
			fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *options.Preconditions.UID, ns.UID))
	}
	if options.Preconditions.ResourceVersion != nil && *options.Preconditions.ResourceVersion != ns.ResourceVersion {
		return nil, false, apierrors.NewConflict(Resource.Resource, name,
			fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *options.Preconditions.ResourceVersion, ns.ResourceVersion))
	}
	if ns.DeletionTimestamp.IsZero() {
		out, _, err := r.markTerminating(ctx, name, options, deleteValidation)
		if err != nil || len(out.(*corev1.Namespace).Spec.Finalizers) > 0 {
			return out, false, err
		}
	} else if len(ns.Spec.Finalizers) > 0 {
		return nil, false, apierrors.NewConflict(Resource.Resource, name,
			fmt.Errorf("The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system."))
	}
	return r.Store.Delete(ctx, name, deleteValidation, options)
}

// DeleteCollection is deliberately not the rest.CollectionDeleter method:
// namespaces, as upstream, offer no deletecollection verb (one request must
// not start the teardown of every namespace). Its different signature hides
// the generic store's method from the API installer.
func (r *REST) DeleteCollection() {}

// markTerminating sets the deletion timestamp and the Terminating phase,
// and records the orphan finalizer when the client asked to orphan.
func (r *REST) markTerminating(ctx context.Context, name string, options *metav1.DeleteOptions, deleteValidation rest.ValidateObjectFunc) (runtime.Object, bool, error) {
	key, err := r.KeyFunc(ctx, name)
	if err != nil {
		return nil, false, err
	}
	out := r.NewFunc()
	preconditions := storage.Preconditions{UID: options.Preconditions.UID, ResourceVersion: options.Preconditions.ResourceVersion}
	err = r.Storage.GuaranteedUpdate(ctx, key, out, false, &preconditions,
		storage.SimpleUpdate(func(existing runtime.Object) (runtime.Object, error) {
			if err := deleteValidation(ctx, existing); err != nil {
				return nil, err
			}
			ns := existing.(*corev1.Namespace).DeepCopy()
			if ns.DeletionTimestamp.IsZero() {
				now := metav1.Now()
				ns.DeletionTimestamp = &now
				zero := int64(0)
				ns.DeletionGracePeriodSeconds = &zero
			}
			ns.Status.Phase = corev1.NamespaceTerminating
			if orphan(options) && !hasString(ns.Finalizers, metav1.FinalizerOrphanDependents) {
				ns.Finalizers = append(ns.Finalizers, metav1.FinalizerOrphanDependents)
			}
			return ns, nil
		}), len(options.DryRun) > 0, nil)
	if err != nil {
		return nil, false, storeErr(err, name)
	}
	return out, false, nil
}

func orphan(options *metav1.DeleteOptions) bool {
	//nolint:staticcheck // OrphanDependents is still honoured upstream.
	if options.OrphanDependents != nil {
		return *options.OrphanDependents
	}
	return options.PropagationPolicy != nil && *options.PropagationPolicy == metav1.DeletePropagationOrphan
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func storeErr(err error, name string) error {
	if storage.IsNotFound(err) {
		return apierrors.NewNotFound(Resource.Resource, name)
	}
	if storage.IsConflict(err) {
		return apierrors.NewConflict(Resource.Resource, name, err)
	}
	return err
}

// FinalizeREST serves /finalize: only spec.finalizers may change; once the
// namespace is terminating and every finalizer is gone, it is deleted.
type FinalizeREST struct{ store *genericregistry.Store }

var _ rest.Updater = &FinalizeREST{}

func (r *FinalizeREST) New() runtime.Object { return &corev1.Namespace{} }
func (r *FinalizeREST) Destroy()            {}

func (r *FinalizeREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, _ bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	finalize := *r.store
	finalize.UpdateStrategy = finalizeStrategy{r.store.UpdateStrategy}
	obj, created, err := finalize.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
	if err != nil {
		return obj, created, err
	}
	ns := obj.(*corev1.Namespace)
	if !ns.DeletionTimestamp.IsZero() && len(ns.Spec.Finalizers) == 0 && len(ns.Finalizers) == 0 && len(options.DryRun) == 0 {
		zero := int64(0)
		uid := ns.UID
		if _, _, err := r.store.Delete(ctx, name, rest.ValidateAllObjectFunc, &metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}}); err != nil && !apierrors.IsNotFound(err) {
			return nil, false, err
		}
	}
	return obj, created, nil
}

type finalizeStrategy struct{ rest.RESTUpdateStrategy }

func (finalizeStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	ns, o := obj.(*corev1.Namespace), old.(*corev1.Namespace)
	finalizers := ns.Spec.Finalizers
	*ns = *o.DeepCopy()
	ns.Spec.Finalizers = finalizers
}

func (s finalizeStrategy) ValidateUpdate(_ context.Context, obj, _ runtime.Object) field.ErrorList {
	return validateFinalizers(obj.(*corev1.Namespace).Spec.Finalizers, field.NewPath("spec", "finalizers"))
}
