// Package csistoragecapacity is the storage of storage.k8s.io/v1 CSIStorageCapacities.
package csistoragecapacity

import (
	"context"
	"fmt"
	"sort"

	storagev1 "k8s.io/api/storage/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/storage/storageclass"
	"github.com/capstan-dev/capstan/registry/store"
	"github.com/capstan-dev/capstan/registry/validate"
)

var no = false

// Resource describes csistoragecapacities.
var Resource = &store.Resource[*storagev1.CSIStorageCapacity]{
	Resource:                 schema.GroupResource{Group: storagev1.GroupName, Resource: "csistoragecapacities"},
	Kind:                     "CSIStorageCapacity",
	Namespaced:               true,
	AllowUnconditionalUpdate: &no,
	New:                      func() *storagev1.CSIStorageCapacity { return &storagev1.CSIStorageCapacity{} },
	NewList:                  func() runtime.Object { return &storagev1.CSIStorageCapacityList{} },
	Validate: func(_ context.Context, c *storagev1.CSIStorageCapacity) field.ErrorList {
		return Validate(c, false)
	},
	ValidateUpdate: func(_ context.Context, c, old *storagev1.CSIStorageCapacity) field.ErrorList {
		// A topology stored before label values were checked stays writable.
		allow := old.NodeTopology != nil &&
			len(metav1validation.ValidateLabelSelector(old.NodeTopology, metav1validation.LabelSelectorValidationOptions{}, nil)) > 0
		errs := Validate(c, allow)
		// The inputs of the CSI GetCapacity call are immutable.
		if !apiequality.Semantic.DeepEqual(c.NodeTopology, old.NodeTopology) {
			errs = append(errs, field.Invalid(field.NewPath("nodeTopology"), c.NodeTopology, apimachineryvalidation.FieldImmutableErrorMsg))
		}
		if c.StorageClassName != old.StorageClassName {
			errs = append(errs, field.Invalid(field.NewPath("storageClassName"), c.StorageClassName, apimachineryvalidation.FieldImmutableErrorMsg))
		}
		return errs
	},
	WarningsOnCreate: func(_ context.Context, c *storagev1.CSIStorageCapacity) []string { return Warnings(c) },
	WarningsOnUpdate: func(_ context.Context, c, _ *storagev1.CSIStorageCapacity) []string { return Warnings(c) },
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "StorageClassName", Type: "string", Description: storagev1.CSIStorageCapacity{}.SwaggerDoc()["storageClassName"]},
		{Name: "Capacity", Type: "string", Description: storagev1.CSIStorageCapacity{}.SwaggerDoc()["capacity"]},
	},
	Row: func(c *storagev1.CSIStorageCapacity) []any {
		capacity := "<unset>"
		if c.Capacity != nil {
			capacity = c.Capacity.String()
		}
		return []any{c.Name, c.StorageClassName, capacity}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// Validate checks the topology selector, the class name and that the
// capacity is not negative.
func Validate(c *storagev1.CSIStorageCapacity, allowInvalidLabelValue bool) field.ErrorList {
	opts := metav1validation.LabelSelectorValidationOptions{AllowInvalidLabelValueInSelector: allowInvalidLabelValue}
	errs := metav1validation.ValidateLabelSelector(c.NodeTopology, opts, field.NewPath("nodeTopology"))
	errs = append(errs, validate.Invalid(field.NewPath("storageClassName"), c.StorageClassName, apimachineryvalidation.NameIsDNSSubdomain(c.StorageClassName, false))...)
	if c.Capacity != nil && c.Capacity.Sign() < 0 {
		errs = append(errs, field.Invalid(field.NewPath("capacity"), c.Capacity.String(), apimachineryvalidation.IsNegativeErrorMsg))
	}
	return errs
}

// Warnings flags deprecated node labels in the node topology selector.
func Warnings(c *storagev1.CSIStorageCapacity) []string {
	sel := c.NodeTopology
	if sel == nil {
		return nil
	}
	var w []string
	p := field.NewPath("nodeTopology")
	for i, e := range sel.MatchExpressions {
		if msg, ok := storageclass.DeprecatedNodeLabel(e.Key); ok {
			w = append(w, fmt.Sprintf("%s: %s", p.Child("matchExpressions").Index(i).Child("key"), msg))
		}
	}
	keys := make([]string, 0, len(sel.MatchLabels))
	for k := range sel.MatchLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if msg, ok := storageclass.DeprecatedNodeLabel(k); ok {
			w = append(w, fmt.Sprintf("%s: %s", p.Child("matchLabels").Child(k), msg))
		}
	}
	return w
}
