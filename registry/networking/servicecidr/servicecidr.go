// Package servicecidr is the storage of networking.k8s.io/v1 ServiceCIDRs,
// the ranges Service ClusterIPs are allocated from.
package servicecidr

import (
	"context"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/capstan-dev/capstan/registry/store"
)

// Resource describes servicecidrs.
var Resource = &store.Resource[*networkingv1.ServiceCIDR]{
	Resource:  schema.GroupResource{Group: networkingv1.GroupName, Resource: "servicecidrs"},
	Kind:      "ServiceCIDR",
	HasStatus: true,
	New:       func() *networkingv1.ServiceCIDR { return &networkingv1.ServiceCIDR{} },
	NewList:   func() runtime.Object { return &networkingv1.ServiceCIDRList{} },
	Validate: func(_ context.Context, sc *networkingv1.ServiceCIDR) field.ErrorList {
		return ValidateSpec(&sc.Spec, field.NewPath("spec", "cidrs"))
	},
	ValidateUpdate: func(_ context.Context, sc, old *networkingv1.ServiceCIDR) field.ErrorList {
		errs := ValidateSpec(&sc.Spec, field.NewPath("spec", "cidrs"))
		return append(errs, ValidateUpdate(sc.Spec.CIDRs, old.Spec.CIDRs)...)
	},
	// As upstream, status writes are checked for metadata only: the
	// controller's Ready condition carries no reason.
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "CIDRs", Type: "string", Description: networkingv1.ServiceCIDRSpec{}.SwaggerDoc()["cidrs"]},
		store.AgeColumn,
	},
	Row: func(sc *networkingv1.ServiceCIDR) []any {
		return []any{sc.Name, strings.Join(sc.Spec.CIDRs, ","), store.Age(sc.CreationTimestamp)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// ValidateSpec requires one or two CIDRs in canonical form, one per IP family.
func ValidateSpec(spec *networkingv1.ServiceCIDRSpec, p *field.Path) field.ErrorList {
	switch n := len(spec.CIDRs); {
	case n == 0:
		return field.ErrorList{field.Required(p, "at least one CIDR required")}
	case n > 2:
		return field.ErrorList{field.Invalid(p, spec, "may only hold up to 2 values")}
	case n == 2:
		if dual, err := netutils.IsDualStackCIDRStrings(spec.CIDRs); err != nil || !dual {
			return field.ErrorList{field.Invalid(p, spec, "may specify no more than one IP for each IP family, i.e 192.168.0.0/24 and 2001:db8::/64")}
		}
	}
	var errs field.ErrorList
	for i, c := range spec.CIDRs {
		errs = append(errs, validation.IsValidCIDR(p.Index(i), c)...)
	}
	return errs
}

// ValidateUpdate keeps the CIDRs as they are, except that a single-stack
// range may gain a range of the other family (a cluster turning dual-stack).
func ValidateUpdate(cidrs, old []string) field.ErrorList {
	p := field.NewPath("spec", "cidrs")
	switch {
	case len(cidrs) == len(old):
		var errs field.ErrorList
		for i := range old {
			if cidrs[i] != old[i] {
				errs = append(errs, field.Invalid(p.Index(i), cidrs, apimachineryvalidation.FieldImmutableErrorMsg))
			}
		}
		return errs
	case len(old) == 1 && len(cidrs) == 2:
		if cidrs[0] != old[0] {
			return field.ErrorList{field.Invalid(p.Index(0), cidrs, apimachineryvalidation.FieldImmutableErrorMsg)}
		}
		return nil
	}
	return field.ErrorList{field.Invalid(p, cidrs, apimachineryvalidation.FieldImmutableErrorMsg)}
}
