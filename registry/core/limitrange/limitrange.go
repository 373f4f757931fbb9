// Package limitrange is the storage of core/v1 LimitRanges.
package limitrange

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/store"
)

var limitTypes = map[corev1.LimitType]bool{corev1.LimitTypePod: true, corev1.LimitTypeContainer: true, corev1.LimitTypePersistentVolumeClaim: true}

// Resource describes limitranges.
var Resource = &store.Resource[*corev1.LimitRange]{
	Resource:   schema.GroupResource{Resource: "limitranges"},
	Kind:       "LimitRange",
	Namespaced: true,
	ShortNames: []string{"limits"},
	New:        func() *corev1.LimitRange { return &corev1.LimitRange{} },
	NewList:    func() runtime.Object { return &corev1.LimitRangeList{} },
	Validate:   func(_ context.Context, lr *corev1.LimitRange) field.ErrorList { return Validate(lr) },
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Created At", Type: "date", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]},
	},
	Row: func(lr *corev1.LimitRange) []any {
		return []any{lr.Name, lr.CreationTimestamp.UTC().Format("2006-01-02T15:04:05Z")}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// Validate checks types and that min <= defaultRequest <= default <= max for each resource.
func Validate(lr *corev1.LimitRange) field.ErrorList {
	var errs field.ErrorList
	seen := map[corev1.LimitType]bool{}
	for i, item := range lr.Spec.Limits {
		p := field.NewPath("spec", "limits").Index(i)
		if !limitTypes[item.Type] {
			errs = append(errs, field.NotSupported(p.Child("type"), item.Type, []string{string(corev1.LimitTypePod), string(corev1.LimitTypeContainer), string(corev1.LimitTypePersistentVolumeClaim)}))
		}
		if seen[item.Type] {
			errs = append(errs, field.Duplicate(p.Child("type"), item.Type))
		}
		seen[item.Type] = true
		if item.Type == corev1.LimitTypePod && (len(item.Default) > 0 || len(item.DefaultRequest) > 0) {
			errs = append(errs, field.Forbidden(p.Child("default"), "may not be specified when `type` is 'Pod'"))
		}
		for name, max := range item.Max {
			if min, ok := item.Min[name]; ok && min.Cmp(max) > 0 {
				errs = append(errs, field.Invalid(p.Child("min").Key(string(name)), min.String(), "min value "+min.String()+" is greater than max value "+max.String()))
			}
			if d, ok := item.Default[name]; ok && d.Cmp(max) > 0 {
				errs = append(errs, field.Invalid(p.Child("default").Key(string(name)), d.String(), "default value "+d.String()+" is greater than max value "+max.String()))
			}
			if d, ok := item.DefaultRequest[name]; ok && d.Cmp(max) > 0 {
				errs = append(errs, field.Invalid(p.Child("defaultRequest").Key(string(name)), d.String(), "default request value "+d.String()+" is greater than max value "+max.String()))
			}
		}
		for name, min := range item.Min {
			if d, ok := item.DefaultRequest[name]; ok && min.Cmp(d) > 0 {
				errs = append(errs, field.Invalid(p.Child("defaultRequest").Key(string(name)), d.String(), "min value "+min.String()+" is greater than default request value "+d.String()))
			}
		}
		for name, q := range item.Default {
			if r, ok := item.DefaultRequest[name]; ok && r.Cmp(q) > 0 {
				errs = append(errs, field.Invalid(p.Child("defaultRequest").Key(string(name)), r.String(), "default request value "+r.String()+" is greater than default limit value "+q.String()))
			}
		}
	}
	return errs
}
