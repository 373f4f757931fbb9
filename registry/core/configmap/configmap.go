// Package configmap is the storage of core/v1 ConfigMaps.
package configmap

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/store"
	"github.com/capstan-dev/capstan/registry/validate"
)

// MaxSize is the largest total size of data and binaryData upstream accepts (1 MiB).
const MaxSize = 1 << 20

// Resource describes configmaps.
var Resource = &store.Resource[*corev1.ConfigMap]{
	Resource:   schema.GroupResource{Resource: "configmaps"},
	Kind:       "ConfigMap",
	Namespaced: true,
	ShortNames: []string{"cm"},
	New:        func() *corev1.ConfigMap { return &corev1.ConfigMap{} },
	NewList:    func() runtime.Object { return &corev1.ConfigMapList{} },
	Validate:   func(_ context.Context, cm *corev1.ConfigMap) field.ErrorList { return Validate(cm) },
	ValidateUpdate: func(_ context.Context, cm, old *corev1.ConfigMap) field.ErrorList {
		errs := Validate(cm)
		if old.Immutable != nil && *old.Immutable {
			if cm.Immutable == nil || !*cm.Immutable {
				errs = append(errs, field.Forbidden(field.NewPath("immutable"), "field is immutable when `immutable` is set"))
			}
			if !mapsEqual(cm.Data, old.Data) {
				errs = append(errs, field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set"))
			}
			if !bytesMapsEqual(cm.BinaryData, old.BinaryData) {
				errs = append(errs, field.Forbidden(field.NewPath("binaryData"), "field is immutable when `immutable` is set"))
			}
		}
		return errs
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Data", Type: "string", Description: corev1.ConfigMap{}.SwaggerDoc()["data"]},
		store.AgeColumn,
	},
	Row: func(cm *corev1.ConfigMap) []any {
		return []any{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), store.Age(cm.CreationTimestamp)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// Validate checks keys and the total size.
func Validate(cm *corev1.ConfigMap) field.ErrorList {
	var errs field.ErrorList
	size := 0
	for k, v := range cm.Data {
		p := field.NewPath("data").Key(k)
		errs = append(errs, validate.Invalid(p, k, validation.IsConfigMapKey(k))...)
		if _, dup := cm.BinaryData[k]; dup {
			errs = append(errs, field.Invalid(p, k, "duplicate of key present in binaryData"))
		}
		size += len(v)
	}
	for k, v := range cm.BinaryData {
		errs = append(errs, validate.Invalid(field.NewPath("binaryData").Key(k), k, validation.IsConfigMapKey(k))...)
		size += len(v)
	}
	if size > MaxSize {
		errs = append(errs, field.TooLong(field.NewPath(""), "", MaxSize))
	}
	return errs
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func bytesMapsEqual(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || string(w) != string(v) {
			return false
		}
	}
	return true
}
