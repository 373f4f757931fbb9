// Package ingressclass is the storage of networking.k8s.io/v1 IngressClasses.
package ingressclass

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/networking/ingress"
	"github.com/capstan-dev/capstan/registry/store"
	"github.com/capstan-dev/capstan/registry/validate"
)

// MaxControllerLength is the longest spec.controller upstream accepts.
const MaxControllerLength = 250

// Resource describes ingressclasses.
var Resource = &store.Resource[*networkingv1.IngressClass]{
	Resource:   schema.GroupResource{Group: networkingv1.GroupName, Resource: "ingressclasses"},
	Kind:       "IngressClass",
	Generation: true,
	New:        func() *networkingv1.IngressClass { return &networkingv1.IngressClass{} },
	NewList:    func() runtime.Object { return &networkingv1.IngressClassList{} },
	Validate: func(_ context.Context, ic *networkingv1.IngressClass) field.ErrorList {
		return ValidateSpec(&ic.Spec, field.NewPath("spec"))
	},
	ValidateUpdate: func(_ context.Context, ic, old *networkingv1.IngressClass) field.ErrorList {
		errs := apimachineryvalidation.ValidateImmutableField(ic.Spec.Controller, old.Spec.Controller, field.NewPath("spec", "controller"))
		return append(errs, ValidateSpec(&ic.Spec, field.NewPath("spec"))...)
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Controller", Type: "string", Description: "Controller that is responsible for handling this class"},
		{Name: "Parameters", Type: "string", Description: "A reference to a resource with additional parameters"},
		store.AgeColumn,
	},
	Row: func(ic *networkingv1.IngressClass) []any {
		params := "<none>"
		if p := ic.Spec.Parameters; p != nil {
			params = p.Kind
			if p.APIGroup != nil {
				params += "." + *p.APIGroup
			}
			params += "/" + p.Name
		}
		return []any{ic.Name, ic.Spec.Controller, params, store.Age(ic.CreationTimestamp)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

var scopes = []string{networkingv1.IngressClassParametersReferenceScopeCluster, networkingv1.IngressClassParametersReferenceScopeNamespace}

// ValidateSpec checks the controller (a domain-prefixed path) and the
// parameters reference with its scope.
func ValidateSpec(spec *networkingv1.IngressClassSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	cp := p.Child("controller")
	if len(spec.Controller) > MaxControllerLength {
		errs = append(errs, field.TooLong(cp, "", MaxControllerLength))
	}
	errs = append(errs, validation.IsDomainPrefixedPath(cp, spec.Controller)...)
	params := spec.Parameters
	if params == nil {
		return errs
	}
	pp := p.Child("parameters")
	errs = append(errs, ingress.ValidateTypedLocalObjectReference(&corev1.TypedLocalObjectReference{
		APIGroup: params.APIGroup, Kind: params.Kind, Name: params.Name,
	}, pp)...)
	if params.Scope == nil {
		return append(errs, field.Required(pp.Child("scope"), ""))
	}
	switch *params.Scope {
	case networkingv1.IngressClassParametersReferenceScopeNamespace:
		if params.Namespace == nil {
			errs = append(errs, field.Required(pp.Child("namespace"), "`parameters.scope` is set to 'Namespace'"))
		} else {
			errs = append(errs, validate.Invalid(pp.Child("namespace"), *params.Namespace, apimachineryvalidation.ValidateNamespaceName(*params.Namespace, false))...)
		}
	case networkingv1.IngressClassParametersReferenceScopeCluster:
		if params.Namespace != nil {
			errs = append(errs, field.Forbidden(pp.Child("namespace"), "`parameters.scope` is set to 'Cluster'"))
		}
	default:
		errs = append(errs, field.NotSupported(pp.Child("scope"), *params.Scope, scopes))
	}
	return errs
}
