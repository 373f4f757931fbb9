// Package priorityclass is the storage of scheduling.k8s.io/v1 PriorityClasses.
package priorityclass

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/capstan-dev/capstan/registry/store"
)

const (
	// HighestUserDefinablePriority is the largest value of a class whose
	// name does not start with SystemPrefix.
	HighestUserDefinablePriority = int32(1000000000)
	// SystemCriticalPriority is the value of system-cluster-critical.
	SystemCriticalPriority = 2 * HighestUserDefinablePriority
	// SystemPrefix starts the names reserved for the built-in classes.
	SystemPrefix = "system-"
)

// SystemClasses are the classes upstream creates at start-up; no other name
// may use SystemPrefix.
func SystemClasses() []*schedulingv1.PriorityClass {
	return []*schedulingv1.PriorityClass{
		{
			ObjectMeta:  metav1.ObjectMeta{Name: "system-node-critical"},
			Value:       SystemCriticalPriority + 1000,
			Description: "Used for system critical pods that must not be moved from their current node.",
		},
		{
			ObjectMeta:  metav1.ObjectMeta{Name: "system-cluster-critical"},
			Value:       SystemCriticalPriority,
			Description: "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
		},
	}
}

// Resource describes priorityclasses.
var Resource = &store.Resource[*schedulingv1.PriorityClass]{
	Resource:   schema.GroupResource{Group: schedulingv1.GroupName, Resource: "priorityclasses"},
	Kind:       "PriorityClass",
	ShortNames: []string{"pc"},
	New:        func() *schedulingv1.PriorityClass { return &schedulingv1.PriorityClass{} },
	NewList:    func() runtime.Object { return &schedulingv1.PriorityClassList{} },
	PrepareForCreate: func(_ context.Context, pc *schedulingv1.PriorityClass) {
		pc.Generation = 1
	},
	Validate: func(_ context.Context, pc *schedulingv1.PriorityClass) field.ErrorList { return Validate(pc) },
	ValidateUpdate: func(_ context.Context, pc, old *schedulingv1.PriorityClass) field.ErrorList {
		var errs field.ErrorList
		if pc.Value != old.Value {
			errs = append(errs, field.Forbidden(field.NewPath("value"), "may not be changed in an update."))
		}
		return append(errs, apimachineryvalidation.ValidateImmutableField(pc.PreemptionPolicy, old.PreemptionPolicy, field.NewPath("preemptionPolicy"))...)
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Value", Type: "integer", Description: schedulingv1.PriorityClass{}.SwaggerDoc()["value"]},
		{Name: "Global-Default", Type: "boolean", Description: schedulingv1.PriorityClass{}.SwaggerDoc()["globalDefault"]},
		store.AgeColumn,
		{Name: "PreemptionPolicy", Type: "string", Description: schedulingv1.PriorityClass{}.SwaggerDoc()["preemptionPolicy"]},
	},
	Row: func(pc *schedulingv1.PriorityClass) []any {
		policy := ""
		if pc.PreemptionPolicy != nil {
			policy = string(*pc.PreemptionPolicy)
		}
		return []any{pc.Name, int64(pc.Value), pc.GlobalDefault, store.Age(pc.CreationTimestamp), policy}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// Validate reserves the system prefix for the built-in classes, caps user
// values and checks the preemption policy.
func Validate(pc *schedulingv1.PriorityClass) field.ErrorList {
	var errs field.ErrorList
	if strings.HasPrefix(pc.Name, SystemPrefix) {
		if err := knownSystemClass(pc); err != nil {
			errs = append(errs, field.Forbidden(field.NewPath("metadata", "name"),
				"priority class names with '"+SystemPrefix+"' prefix are reserved for system use only. error: "+err.Error()))
		}
	} else if pc.Value > HighestUserDefinablePriority {
		errs = append(errs, field.Forbidden(field.NewPath("value"), fmt.Sprintf("maximum allowed value of a user defined priority is %v", HighestUserDefinablePriority)))
	}
	if pc.PreemptionPolicy != nil {
		p := field.NewPath("preemptionPolicy")
		switch *pc.PreemptionPolicy {
		case corev1.PreemptLowerPriority, corev1.PreemptNever:
		case "":
			errs = append(errs, field.Required(p, ""))
		default:
			errs = append(errs, field.NotSupported(p, pc.PreemptionPolicy, []corev1.PreemptionPolicy{corev1.PreemptLowerPriority, corev1.PreemptNever}))
		}
	}
	return errs
}

func knownSystemClass(pc *schedulingv1.PriorityClass) error {
	for _, s := range SystemClasses() {
		if s.Name != pc.Name {
			continue
		}
		if s.Value != pc.Value {
			return fmt.Errorf("value of %v PriorityClass must be %v", s.Name, s.Value)
		}
		if s.GlobalDefault != pc.GlobalDefault {
			return fmt.Errorf("globalDefault of %v PriorityClass must be %v", s.Name, s.GlobalDefault)
		}
		return nil
	}
	return fmt.Errorf("%v is not a known system priority class", pc.Name)
}

// Storage holds the priorityclass endpoint.
type Storage struct {
	REST *REST
}

// NewStorage builds the priorityclass storage.
func NewStorage(opts generic.RESTOptionsGetter) (*Storage, error) {
	s, err := store.New(Resource, opts)
	if err != nil {
		return nil, err
	}
	return &Storage{REST: &REST{REST: s.REST}}, nil
}

// REST adds what upstream's Priority admission plugin and storage enforce:
// at most one class is the global default, and the system classes cannot
// be deleted.
type REST struct{ *store.REST }

func (r *REST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	if pc, ok := obj.(*schedulingv1.PriorityClass); ok {
		if err := r.checkDefault(ctx, pc); err != nil {
			return nil, err
		}
	}
	return r.REST.Create(ctx, obj, createValidation, options)
}

func (r *REST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	return r.REST.Update(ctx, name, defaultChecked{objInfo, r}, createValidation, updateValidation, forceAllowCreate, options)
}

func (r *REST) Delete(ctx context.Context, name string, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions) (runtime.Object, bool, error) {
	for _, s := range SystemClasses() {
		if name == s.Name {
			return nil, false, apierrors.NewForbidden(Resource.Resource, name, errors.New("this is a system priority class and cannot be deleted"))
		}
	}
	return r.REST.Delete(ctx, name, deleteValidation, options)
}

// checkDefault refuses a second global default class.
func (r *REST) checkDefault(ctx context.Context, pc *schedulingv1.PriorityClass) error {
	if !pc.GlobalDefault {
		return nil
	}
	list, err := r.Store.List(ctx, &metainternalversion.ListOptions{})
	if err != nil {
		return err
	}
	return DefaultConflict(pc, list.(*schedulingv1.PriorityClassList).Items)
}

// DefaultConflict refuses pc as a global default when another of existing
// already is one.
func DefaultConflict(pc *schedulingv1.PriorityClass, existing []schedulingv1.PriorityClass) error {
	if !pc.GlobalDefault {
		return nil
	}
	for _, other := range existing {
		if other.GlobalDefault && other.Name != pc.Name {
			return apierrors.NewForbidden(Resource.Resource, pc.Name,
				fmt.Errorf("PriorityClass %v is already marked as default. Only one default can exist", other.Name))
		}
	}
	return nil
}

type defaultChecked struct {
	rest.UpdatedObjectInfo
	r *REST
}

func (d defaultChecked) UpdatedObject(ctx context.Context, old runtime.Object) (runtime.Object, error) {
	obj, err := d.UpdatedObjectInfo.UpdatedObject(ctx, old)
	if err != nil {
		return nil, err
	}
	if pc, ok := obj.(*schedulingv1.PriorityClass); ok {
		if err := d.r.checkDefault(ctx, pc); err != nil {
			return nil, err
		}
	}
	return obj, nil
}
