// Package scale serves the autoscaling/v1 Scale subresource of any object
// with a spec.replicas field (deployments, replicasets, statefulsets,
// replicationcontrollers): reading it derives a Scale from the object,
// writing it changes only the object's spec.replicas.
package scale

import (
	"context"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/capstan-dev/capstan/registry/scheme"
	"github.com/capstan-dev/capstan/registry/store"
)

// GroupVersionKind is what every scale subresource serves, whatever the
// version of the object it belongs to.
var GroupVersionKind = autoscalingv1.SchemeGroupVersion.WithKind("Scale")

// Target tells the subresource how to read and write one kind of object.
type Target[T runtime.Object] struct {
	// Resource is the parent resource; errors name Resource + "/scale".
	Resource schema.GroupResource
	// Replicas reads spec.replicas and SetReplicas writes it.
	Replicas    func(T) int32
	SetReplicas func(T, int32)
	// StatusReplicas reads status.replicas.
	StatusReplicas func(T) int32
	// Selector renders the object's pod selector as a string (status.selector).
	Selector func(T) (string, error)
}

// LabelSelector renders a metav1.LabelSelector the way a Scale reports it.
// A nil selector selects nothing and renders as the empty string.
func LabelSelector(s *metav1.LabelSelector) (string, error) {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return "", err
	}
	return sel.String(), nil
}

// MapSelector renders an equality-based selector (replication controllers).
func MapSelector(m map[string]string) (string, error) {
	return labels.SelectorFromSet(m).String(), nil
}

// Replicas dereferences an optional replica count; an unset one counts as 0.
func Replicas(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// REST is the storage of <resource>/scale.
type REST[T runtime.Object] struct {
	store    *genericregistry.Store
	target   Target[T]
	mappings managedfields.ResourcePathMappings
}

var (
	_ rest.Patcher                  = &REST[runtime.Object]{}
	_ rest.GroupVersionKindProvider = &REST[runtime.Object]{}
	_ rest.TableConvertor           = &REST[runtime.Object]{}
)

// New builds the scale subresource over the main store of the parent resource.
func New[T runtime.Object](s *genericregistry.Store, t Target[T]) *REST[T] {
	mappings := managedfields.ResourcePathMappings{}
	for _, gv := range scheme.Scheme.PrioritizedVersionsForGroup(t.Resource.Group) {
		mappings[gv.String()] = fieldpath.MakePathOrDie("spec", "replicas")
	}
	return &REST[T]{store: s, target: t, mappings: mappings}
}

func (r *REST[T]) resource() schema.GroupResource {
	return schema.GroupResource{Group: r.target.Resource.Group, Resource: r.target.Resource.Resource + "/scale"}
}

// GroupVersionKind reports autoscaling/v1 Scale to discovery.
func (r *REST[T]) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return GroupVersionKind
}

func (r *REST[T]) New() runtime.Object { return &autoscalingv1.Scale{} }

// Destroy does nothing: the store belongs to the main resource.
func (r *REST[T]) Destroy() {}

// Get returns the Scale of the named object.
func (r *REST[T]) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	obj, err := r.store.Get(ctx, name, options)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, apierrors.NewNotFound(r.resource(), name)
		}
		return nil, err
	}
	s, err := r.ScaleOf(obj.(T))
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	return s, nil
}

// Update changes spec.replicas of the named object from the Scale the
// client sent; it never creates the object.
func (r *REST[T]) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, _ bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	obj, _, err := r.store.Update(ctx, name, &updatedObjectInfo[T]{r: r, name: name, reqObjInfo: objInfo},
		r.toScaleCreateValidation(createValidation), r.toScaleUpdateValidation(updateValidation), false, options)
	if err != nil {
		return nil, false, err
	}
	s, err := r.ScaleOf(obj.(T))
	if err != nil {
		return nil, false, apierrors.NewBadRequest(err.Error())
	}
	return s, false, nil
}

func (r *REST[T]) toScaleCreateValidation(f rest.ValidateObjectFunc) rest.ValidateObjectFunc {
	return func(ctx context.Context, obj runtime.Object) error {
		if f == nil {
			return nil
		}
		s, err := r.ScaleOf(obj.(T))
		if err != nil {
			return err
		}
		return f(ctx, s)
	}
}

func (r *REST[T]) toScaleUpdateValidation(f rest.ValidateObjectUpdateFunc) rest.ValidateObjectUpdateFunc {
	return func(ctx context.Context, obj, old runtime.Object) error {
		if f == nil {
			return nil
		}
		newScale, err := r.ScaleOf(obj.(T))
		if err != nil {
			return err
		}
		oldScale, err := r.ScaleOf(old.(T))
		if err != nil {
			return err
		}
		return f(ctx, newScale, oldScale)
	}
}

// ScaleOf derives the Scale of an object: its identity, spec.replicas,
// status.replicas and the selector of its pods.
func (r *REST[T]) ScaleOf(obj T) (*autoscalingv1.Scale, error) {
	m, err := metaOf(obj)
	if err != nil {
		return nil, err
	}
	selector, err := r.target.Selector(obj)
	if err != nil {
		return nil, err
	}
	return &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{
			Name:              m.GetName(),
			Namespace:         m.GetNamespace(),
			UID:               m.GetUID(),
			ResourceVersion:   m.GetResourceVersion(),
			CreationTimestamp: m.GetCreationTimestamp(),
		},
		Spec:   autoscalingv1.ScaleSpec{Replicas: r.target.Replicas(obj)},
		Status: autoscalingv1.ScaleStatus{Replicas: r.target.StatusReplicas(obj), Selector: selector},
	}, nil
}

// Validate checks a Scale written by a client.
func Validate(s *autoscalingv1.Scale) field.ErrorList {
	errs := apimachineryvalidation.ValidateObjectMeta(&s.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	if s.Spec.Replicas < 0 {
		errs = append(errs, field.Invalid(field.NewPath("spec", "replicas"), s.Spec.Replicas, "must be greater than or equal to 0"))
	}
	return errs
}

// updatedObjectInfo turns the stored object into its Scale, lets the
// request update that, and carries the new replica count (and the
// resourceVersion precondition) back into the object.
type updatedObjectInfo[T runtime.Object] struct {
	r          *REST[T]
	name       string
	reqObjInfo rest.UpdatedObjectInfo
}

func (i *updatedObjectInfo[T]) Preconditions() *metav1.Preconditions {
	return i.reqObjInfo.Preconditions()
}

func (i *updatedObjectInfo[T]) UpdatedObject(ctx context.Context, oldObj runtime.Object) (runtime.Object, error) {
	obj, ok := oldObj.DeepCopyObject().(T)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("expected existing object of type %T, got %T", *new(T), oldObj))
	}
	m, err := metaOf(obj)
	if err != nil {
		return nil, err
	}
	// The store hands over an empty object when none is stored.
	if m.GetResourceVersion() == "" {
		return nil, apierrors.NewNotFound(i.r.resource(), i.name)
	}

	gv := schema.GroupVersion{Group: i.r.target.Resource.Group, Version: "v1"}
	if info, found := genericapirequest.RequestInfoFrom(ctx); found {
		if reqGV := (schema.GroupVersion{Group: info.APIGroup, Version: info.APIVersion}); i.r.mappings[reqGV.String()] != nil {
			gv = reqGV
		}
	}
	fields := managedfields.NewScaleHandler(m.GetManagedFields(), gv, i.r.mappings)

	oldScale, err := i.r.ScaleOf(obj)
	if err != nil {
		return nil, err
	}
	if oldScale.ManagedFields, err = fields.ToSubresource(); err != nil {
		return nil, err
	}

	newObj, err := i.reqObjInfo.UpdatedObject(ctx, oldScale)
	if err != nil {
		return nil, err
	}
	if newObj == nil {
		return nil, apierrors.NewBadRequest("nil update passed to Scale")
	}
	s, ok := newObj.(*autoscalingv1.Scale)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("expected input object type to be Scale, but %T", newObj))
	}
	if errs := Validate(s); len(errs) > 0 {
		return nil, apierrors.NewInvalid(GroupVersionKind.GroupKind(), m.GetName(), errs)
	}
	if len(s.UID) > 0 && s.UID != m.GetUID() {
		return nil, apierrors.NewConflict(i.r.resource(), m.GetName(),
			fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", s.UID, m.GetUID()))
	}

	i.r.target.SetReplicas(obj, s.Spec.Replicas)
	// The storage layer checks a resourceVersion given by the client.
	m.SetResourceVersion(s.ResourceVersion)
	entries, err := fields.ToParent(s.ManagedFields)
	if err != nil {
		return nil, err
	}
	m.SetManagedFields(entries)
	return obj, nil
}

var columns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
	{Name: "Desired", Type: "integer", Description: autoscalingv1.ScaleSpec{}.SwaggerDoc()["replicas"]},
	{Name: "Available", Type: "integer", Description: autoscalingv1.ScaleStatus{}.SwaggerDoc()["replicas"]},
	store.AgeColumn,
}

// Row is the table row of one Scale.
func Row(s *autoscalingv1.Scale) []any {
	return []any{s.Name, int64(s.Spec.Replicas), int64(s.Status.Replicas), store.Age(s.CreationTimestamp)}
}

// ConvertToTable renders Scales (kubectl get --subresource=scale).
func (r *REST[T]) ConvertToTable(_ context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{}
	if s, ok := object.(*autoscalingv1.Scale); ok {
		table.ResourceVersion = s.ResourceVersion
		table.Rows = []metav1.TableRow{{Cells: Row(s), Object: runtime.RawExtension{Object: s}}}
	} else if obj, ok := object.(T); ok {
		s, err := r.ScaleOf(obj)
		if err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		table.ResourceVersion = s.ResourceVersion
		table.Rows = []metav1.TableRow{{Cells: Row(s), Object: runtime.RawExtension{Object: s}}}
	}
	if opts, ok := tableOptions.(*metav1.TableOptions); !ok || !opts.NoHeaders {
		table.ColumnDefinitions = columns
	}
	return table, nil
}

func metaOf(obj runtime.Object) (metav1.Object, error) {
	a, ok := obj.(metav1.ObjectMetaAccessor)
	if !ok {
		return nil, fmt.Errorf("%T has no object metadata", obj)
	}
	return a.GetObjectMeta(), nil
}
