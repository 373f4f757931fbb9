// Package lease is the storage of coordination.k8s.io/v1 Leases.
package lease

import (
	"context"
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/store"
	"github.com/capstan-dev/capstan/registry/validate"
)

var no = false

// Resource describes leases. As upstream, a PUT may create a lease (leader
// election does exactly that), but an update must name the version it read.
var Resource = &store.Resource[*coordinationv1.Lease]{
	Resource:                 schema.GroupResource{Group: coordinationv1.GroupName, Resource: "leases"},
	Kind:                     "Lease",
	Namespaced:               true,
	AllowCreateOnUpdate:      true,
	AllowUnconditionalUpdate: &no,
	New:                      func() *coordinationv1.Lease { return &coordinationv1.Lease{} },
	NewList:                  func() runtime.Object { return &coordinationv1.LeaseList{} },
	// Strategy and preferredHolder belong to CoordinatedLeaderElection, a
	// beta gate that is off by default: they are dropped unless already stored.
	PrepareForCreate: func(_ context.Context, l *coordinationv1.Lease) {
		l.Spec.Strategy = nil
		l.Spec.PreferredHolder = nil
	},
	PrepareForUpdate: func(_ context.Context, l, old *coordinationv1.Lease) {
		if old.Spec.Strategy == nil {
			l.Spec.Strategy = nil
		}
		if old.Spec.PreferredHolder == nil {
			l.Spec.PreferredHolder = nil
		}
	},
	Validate: func(_ context.Context, l *coordinationv1.Lease) field.ErrorList {
		return ValidateSpec(&l.Spec, field.NewPath("spec"))
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Holder", Type: "string", Description: coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"]},
		store.AgeColumn,
	},
	Row: func(l *coordinationv1.Lease) []any {
		holder := ""
		if l.Spec.HolderIdentity != nil {
			holder = *l.Spec.HolderIdentity
		}
		return []any{l.Name, holder, store.Age(l.CreationTimestamp)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// ValidateSpec checks the durations and the coordinated election fields.
func ValidateSpec(spec *coordinationv1.LeaseSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.LeaseDurationSeconds != nil && *spec.LeaseDurationSeconds <= 0 {
		errs = append(errs, field.Invalid(p.Child("leaseDurationSeconds"), *spec.LeaseDurationSeconds, "must be greater than 0"))
	}
	if spec.LeaseTransitions != nil && *spec.LeaseTransitions < 0 {
		errs = append(errs, field.Invalid(p.Child("leaseTransitions"), *spec.LeaseTransitions, "must be greater than or equal to 0"))
	}
	if spec.Strategy != nil {
		errs = append(errs, validateStrategy(*spec.Strategy, p.Child("strategy"))...)
	}
	if spec.PreferredHolder != nil && *spec.PreferredHolder != "" && (spec.Strategy == nil || *spec.Strategy == "") {
		errs = append(errs, field.Forbidden(p.Child("preferredHolder"), "may only be specified if `strategy` is defined"))
	}
	return errs
}

// validateStrategy accepts Kubernetes' own strategies or a qualified name
// with a domain. Upstream reports these one level deeper than the field
// ("spec.strategy.strategy"), and so does Capstan.
func validateStrategy(s coordinationv1.CoordinatedLeaseStrategy, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	known := []coordinationv1.CoordinatedLeaseStrategy{coordinationv1.OldestEmulationVersion}
	if !strings.Contains(string(s), "/") {
		if s != coordinationv1.OldestEmulationVersion {
			errs = append(errs, field.NotSupported(p.Child("strategy"), s, known))
		}
		return errs
	}
	errs = append(errs, validate.Invalid(p.Child("strategy"), s, content.IsQualifiedName(string(s)))...)
	return errs
}
