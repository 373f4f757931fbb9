package store

import (
	"context"
	"reflect"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/capstan-dev/capstan/registry/scheme"
)

// NameFunc validates an object's name; prefix is true for generateName.
type NameFunc = apimachineryvalidation.ValidateNameFunc

// strategy is the create/update/delete strategy of a Resource.
type strategy[T runtime.Object] struct {
	runtime.ObjectTyper
	names.NameGenerator
	r *Resource[T]
}

var (
	_ rest.RESTCreateStrategy              = &strategy[runtime.Object]{}
	_ rest.RESTUpdateStrategy              = &strategy[runtime.Object]{}
	_ rest.RESTDeleteStrategy              = &strategy[runtime.Object]{}
	_ rest.ResetFieldsStrategy             = &strategy[runtime.Object]{}
	_ rest.GarbageCollectionDeleteStrategy = &strategy[runtime.Object]{}
	_ rest.RESTGracefulDeleteStrategy      = &strategy[runtime.Object]{}
)

func newStrategy[T runtime.Object](r *Resource[T]) *strategy[T] {
	return &strategy[T]{ObjectTyper: scheme.Scheme, NameGenerator: names.SimpleNameGenerator, r: r}
}

func (s *strategy[T]) NamespaceScoped() bool { return s.r.Namespaced }

func (s *strategy[T]) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	if s.r.HasStatus && !s.r.KeepStatusOnCreate {
		resetField(obj, nil, "Status")
	}
	if s.r.Generation {
		mustMeta(obj).SetGeneration(1)
	}
	if s.r.PrepareForCreate != nil {
		s.r.PrepareForCreate(ctx, obj.(T))
	}
}

func (s *strategy[T]) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	if s.r.HasStatus {
		resetField(obj, old, "Status")
	}
	if s.r.Generation {
		newMeta, oldMeta := mustMeta(obj), mustMeta(old)
		newMeta.SetGeneration(oldMeta.GetGeneration())
		if !apiequality.Semantic.DeepEqual(specOf(obj), specOf(old)) {
			newMeta.SetGeneration(oldMeta.GetGeneration() + 1)
		}
	}
	if s.r.PrepareForUpdate != nil {
		s.r.PrepareForUpdate(ctx, obj.(T), old.(T))
	}
}

func (s *strategy[T]) nameFunc() NameFunc {
	if s.r.NameFunc != nil {
		return s.r.NameFunc
	}
	return apimachineryvalidation.NameIsDNSSubdomain
}

func (s *strategy[T]) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	errs := apimachineryvalidation.ValidateObjectMetaAccessor(mustMeta(obj), s.r.Namespaced, s.nameFunc(), field.NewPath("metadata"))
	if s.r.Validate != nil {
		errs = append(errs, s.r.Validate(ctx, obj.(T))...)
	}
	return errs
}

func (s *strategy[T]) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	errs := apimachineryvalidation.ValidateObjectMetaAccessorUpdate(mustMeta(obj), mustMeta(old), field.NewPath("metadata"))
	errs = append(errs, apimachineryvalidation.ValidateObjectMetaAccessor(mustMeta(obj), s.r.Namespaced, s.nameFunc(), field.NewPath("metadata"))...)
	if s.r.ValidateUpdate != nil {
		errs = append(errs, s.r.ValidateUpdate(ctx, obj.(T), old.(T))...)
	} else if s.r.Validate != nil {
		errs = append(errs, s.r.Validate(ctx, obj.(T))...)
	}
	return errs
}

func (s *strategy[T]) WarningsOnCreate(ctx context.Context, obj runtime.Object) []string {
	if s.r.WarningsOnCreate == nil {
		return nil
	}
	return s.r.WarningsOnCreate(ctx, obj.(T))
}

func (s *strategy[T]) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	if s.r.WarningsOnUpdate == nil {
		return nil
	}
	return s.r.WarningsOnUpdate(ctx, obj.(T), old.(T))
}

func (s *strategy[T]) Canonicalize(runtime.Object)              {}
func (s *strategy[T]) AllowCreateOnUpdate(context.Context) bool { return s.r.AllowCreateOnUpdate }
func (s *strategy[T]) AllowUnconditionalUpdate(context.Context) bool {
	return s.r.AllowUnconditionalUpdate == nil || *s.r.AllowUnconditionalUpdate
}

func (s *strategy[T]) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return s.r.resetFields("status")
}

func (s *strategy[T]) DefaultGarbageCollectionPolicy(context.Context) rest.GarbageCollectionPolicy {
	if s.r.GCPolicy != "" {
		return s.r.GCPolicy
	}
	return rest.DeleteDependents
}

func (s *strategy[T]) CheckGracefulDelete(ctx context.Context, obj runtime.Object, options *metav1.DeleteOptions) bool {
	if s.r.CheckGracefulDelete == nil {
		return false
	}
	return s.r.CheckGracefulDelete(ctx, obj.(T), options)
}

// statusStrategy serves /status: the spec and most metadata stay as stored.
type statusStrategy[T runtime.Object] struct{ *strategy[T] }

func (s statusStrategy[T]) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	resetField(obj, old, "Spec")
	// Status writers may not add or remove deletion or finalizer state.
	m, o := mustMeta(obj), mustMeta(old)
	m.SetDeletionTimestamp(o.GetDeletionTimestamp())
	m.SetDeletionGracePeriodSeconds(o.GetDeletionGracePeriodSeconds())
	m.SetGeneration(o.GetGeneration())
	if s.r.PrepareForStatusUpdate != nil {
		s.r.PrepareForStatusUpdate(ctx, obj.(T), old.(T))
	}
}

func (s statusStrategy[T]) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	errs := apimachineryvalidation.ValidateObjectMetaAccessorUpdate(mustMeta(obj), mustMeta(old), field.NewPath("metadata"))
	if s.r.ValidateStatusUpdate != nil {
		errs = append(errs, s.r.ValidateStatusUpdate(ctx, obj.(T), old.(T))...)
	}
	return errs
}

func (s statusStrategy[T]) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}

func (s statusStrategy[T]) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return s.r.resetFields("spec")
}

func mustMeta(obj runtime.Object) metav1.Object {
	m, err := meta.Accessor(obj)
	if err != nil {
		panic(err) // every registered type embeds ObjectMeta; this is a programming error
	}
	return m
}

// resetField sets obj's named top-level field to old's value, or to the zero
// value when old is nil.
func resetField(obj, old runtime.Object, name string) {
	f := reflect.ValueOf(obj).Elem().FieldByName(name)
	if !f.IsValid() {
		return
	}
	if old == nil {
		f.Set(reflect.Zero(f.Type()))
		return
	}
	f.Set(reflect.ValueOf(old).Elem().FieldByName(name))
}

func specOf(obj runtime.Object) any {
	f := reflect.ValueOf(obj).Elem().FieldByName("Spec")
	if !f.IsValid() {
		return nil
	}
	return f.Interface()
}
