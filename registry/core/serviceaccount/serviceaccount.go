// Package serviceaccount is the storage of core/v1 ServiceAccounts.
package serviceaccount

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"github.com/capstan-dev/capstan/registry/store"
)

// Resource describes serviceaccounts.
var Resource = &store.Resource[*corev1.ServiceAccount]{
	Resource:   schema.GroupResource{Resource: "serviceaccounts"},
	Kind:       "ServiceAccount",
	Namespaced: true,
	ShortNames: []string{"sa"},
	New:        func() *corev1.ServiceAccount { return &corev1.ServiceAccount{} },
	NewList:    func() runtime.Object { return &corev1.ServiceAccountList{} },
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Secrets", Type: "string", Description: corev1.ServiceAccount{}.SwaggerDoc()["secrets"]},
		store.AgeColumn,
	},
	Row: func(sa *corev1.ServiceAccount) []any {
		return []any{sa.Name, int64(len(sa.Secrets)), store.Age(sa.CreationTimestamp)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }
