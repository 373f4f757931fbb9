// Package volumeattributesclass is the storage of storage.k8s.io/v1 VolumeAttributesClasses.
package volumeattributesclass

import (
	"context"
	"reflect"

	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/storage/storageclass"
	"github.com/capstan-dev/capstan/registry/store"
)

// DefaultAnnotation marks the default class.
const DefaultAnnotation = "volumeattributesclass.kubernetes.io/is-default-class"

// Resource describes volumeattributesclasses.
var Resource = &store.Resource[*storagev1.VolumeAttributesClass]{
	Resource:   schema.GroupResource{Group: storagev1.GroupName, Resource: "volumeattributesclasses"},
	Kind:       "VolumeAttributesClass",
	ShortNames: []string{"vac"},
	New:        func() *storagev1.VolumeAttributesClass { return &storagev1.VolumeAttributesClass{} },
	NewList:    func() runtime.Object { return &storagev1.VolumeAttributesClassList{} },
	Validate:   func(_ context.Context, c *storagev1.VolumeAttributesClass) field.ErrorList { return Validate(c) },
	ValidateUpdate: func(_ context.Context, c, old *storagev1.VolumeAttributesClass) field.ErrorList {
		var errs field.ErrorList
		if c.DriverName != old.DriverName {
			errs = append(errs, field.Forbidden(field.NewPath("driverName"), "updates to driverName are forbidden."))
		}
		if !reflect.DeepEqual(old.Parameters, c.Parameters) {
			errs = append(errs, field.Forbidden(field.NewPath("parameters"), "updates to parameters are forbidden."))
		}
		return append(errs, Validate(c)...)
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "DriverName", Type: "string", Description: storagev1.VolumeAttributesClass{}.SwaggerDoc()["driverName"]},
		store.AgeColumn,
	},
	Row: func(c *storagev1.VolumeAttributesClass) []any {
		name := c.Name
		if c.Annotations[DefaultAnnotation] == "true" {
			name += " (default)"
		}
		return []any{name, c.DriverName, store.Age(c.CreationTimestamp)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// Validate requires a driver name and at least one parameter.
func Validate(c *storagev1.VolumeAttributesClass) field.ErrorList {
	errs := storageclass.ValidateProvisioner(c.DriverName, field.NewPath("driverName"))
	return append(errs, storageclass.ValidateParameters(c.Parameters, false, field.NewPath("parameters"))...)
}
