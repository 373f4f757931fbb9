// Package controllerrevision is the storage of apps/v1 ControllerRevisions,
// the immutable snapshots of state that statefulsets and daemonsets keep.
package controllerrevision

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/store"
)

// Resource describes controllerrevisions.
var Resource = &store.Resource[*appsv1.ControllerRevision]{
	Resource:   schema.GroupResource{Group: appsv1.GroupName, Resource: "controllerrevisions"},
	Kind:       "ControllerRevision",
	Namespaced: true,
	New:        func() *appsv1.ControllerRevision { return &appsv1.ControllerRevision{} },
	NewList:    func() runtime.Object { return &appsv1.ControllerRevisionList{} },
	Validate: func(_ context.Context, cr *appsv1.ControllerRevision) field.ErrorList {
		return Validate(cr)
	},
	ValidateUpdate: func(_ context.Context, cr, old *appsv1.ControllerRevision) field.ErrorList {
		errs := Validate(cr)
		if !sameData(cr.Data, old.Data) {
			errs = append(errs, field.Invalid(field.NewPath("data"), cr.Data, apimachineryvalidation.FieldImmutableErrorMsg))
		}
		return errs
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Controller", Type: "string", Description: "Controller of the object"},
		{Name: "Revision", Type: "string", Description: appsv1.ControllerRevision{}.SwaggerDoc()["revision"]},
		store.AgeColumn,
	},
	Row: func(cr *appsv1.ControllerRevision) []any {
		return []any{cr.Name, controllerName(cr), cr.Revision, store.Age(cr.CreationTimestamp)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// Validate checks that a revision carries data and a non-negative number.
func Validate(cr *appsv1.ControllerRevision) field.ErrorList {
	var errs field.ErrorList
	if cr.Data.Raw == nil && cr.Data.Object == nil {
		errs = append(errs, field.Required(field.NewPath("data"), "data is mandatory"))
	}
	return append(errs, apimachineryvalidation.ValidateNonnegativeField(cr.Revision, field.NewPath("revision"))...)
}

// sameData compares revision data by meaning: the same JSON may come back
// re-encoded with other spacing or key order.
func sameData(a, b runtime.RawExtension) bool {
	if a.Object != nil || b.Object != nil {
		return apiequality.Semantic.DeepEqual(a, b)
	}
	if bytes.Equal(a.Raw, b.Raw) {
		return true
	}
	var x, y any
	if json.Unmarshal(a.Raw, &x) != nil || json.Unmarshal(b.Raw, &y) != nil {
		return false
	}
	return apiequality.Semantic.DeepEqual(x, y)
}

// controllerName renders the owning controller as kind.group/name.
func controllerName(cr *appsv1.ControllerRevision) string {
	ref := metav1.GetControllerOf(cr)
	if ref == nil {
		return "<none>"
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return "<none>"
	}
	gk := gv.WithKind(ref.Kind).GroupKind()
	if gk.Empty() {
		return ref.Name
	}
	return strings.ToLower(gk.String()) + "/" + ref.Name
}
