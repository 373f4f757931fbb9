// Package resourcequota is the storage of core/v1 ResourceQuotas.
package resourcequota

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/store"
)

// Resource describes resourcequotas.
var Resource = &store.Resource[*corev1.ResourceQuota]{
	Resource:   schema.GroupResource{Resource: "resourcequotas"},
	Kind:       "ResourceQuota",
	Namespaced: true,
	ShortNames: []string{"quota"},
	HasStatus:  true,
	New:        func() *corev1.ResourceQuota { return &corev1.ResourceQuota{} },
	NewList:    func() runtime.Object { return &corev1.ResourceQuotaList{} },
	Validate: func(_ context.Context, q *corev1.ResourceQuota) field.ErrorList {
		var errs field.ErrorList
		for name, v := range q.Spec.Hard {
			if v.Sign() < 0 {
				errs = append(errs, field.Invalid(field.NewPath("spec", "hard").Key(string(name)), v.String(), "must be greater than or equal to 0"))
			}
		}
		return errs
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		store.AgeColumn,
		{Name: "Request", Type: "string", Description: "Request represents a minimum amount of cpu/memory that a container may consume."},
		{Name: "Limit", Type: "string", Description: "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."},
	},
	Row: func(q *corev1.ResourceQuota) []any {
		var req, lim []string
		names := make([]string, 0, len(q.Spec.Hard))
		for n := range q.Spec.Hard {
			names = append(names, string(n))
		}
		sort.Strings(names)
		for _, n := range names {
			hard := q.Spec.Hard[corev1.ResourceName(n)]
			used := q.Status.Used[corev1.ResourceName(n)]
			entry := fmt.Sprintf("%s: %s/%s", n, used.String(), hard.String())
			if strings.HasPrefix(n, "limits.") {
				lim = append(lim, entry)
			} else {
				req = append(req, entry)
			}
		}
		return []any{q.Name, store.Age(q.CreationTimestamp), strings.Join(req, ", "), strings.Join(lim, ", ")}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }
