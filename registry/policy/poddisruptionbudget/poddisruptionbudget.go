// Package poddisruptionbudget is the storage of policy/v1 PodDisruptionBudgets.
package poddisruptionbudget

import (
	"context"
	"strconv"
	"strings"

	policyv1 "k8s.io/api/policy/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/store"
	"github.com/capstan-dev/capstan/registry/validate"
)

var no = false

// Resource describes poddisruptionbudgets. Updates must carry the version
// they read: the disruption controller and evictions race on the status.
var Resource = &store.Resource[*policyv1.PodDisruptionBudget]{
	Resource:                 schema.GroupResource{Group: policyv1.GroupName, Resource: "poddisruptionbudgets"},
	Kind:                     "PodDisruptionBudget",
	Namespaced:               true,
	ShortNames:               []string{"pdb"},
	HasStatus:                true,
	Generation:               true,
	AllowUnconditionalUpdate: &no,
	New:                      func() *policyv1.PodDisruptionBudget { return &policyv1.PodDisruptionBudget{} },
	NewList:                  func() runtime.Object { return &policyv1.PodDisruptionBudgetList{} },
	Validate: func(_ context.Context, pdb *policyv1.PodDisruptionBudget) field.ErrorList {
		return ValidateSpec(&pdb.Spec, false, field.NewPath("spec"))
	},
	ValidateUpdate: func(_ context.Context, pdb, old *policyv1.PodDisruptionBudget) field.ErrorList {
		// Selectors stored before label values were checked stay writable.
		return ValidateSpec(&pdb.Spec, invalidSelectorValue(old), field.NewPath("spec"))
	},
	ValidateStatusUpdate: func(_ context.Context, pdb, _ *policyv1.PodDisruptionBudget) field.ErrorList {
		return ValidateStatus(&pdb.Status, field.NewPath("status"))
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Min Available", Type: "string", Description: "The minimum number of pods that must be available."},
		{Name: "Max Unavailable", Type: "string", Description: "The maximum number of pods that may be unavailable."},
		{Name: "Allowed Disruptions", Type: "integer", Description: "Calculated number of pods that may be disrupted at this time."},
		store.AgeColumn,
	},
	Row: func(pdb *policyv1.PodDisruptionBudget) []any {
		return []any{pdb.Name, intOrNA(pdb.Spec.MinAvailable), intOrNA(pdb.Spec.MaxUnavailable), int64(pdb.Status.DisruptionsAllowed), store.Age(pdb.CreationTimestamp)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

func intOrNA(v *intstr.IntOrString) string {
	if v == nil {
		return "N/A"
	}
	return v.String()
}

func invalidSelectorValue(pdb *policyv1.PodDisruptionBudget) bool {
	return pdb.Spec.Selector != nil &&
		len(metav1validation.ValidateLabelSelector(pdb.Spec.Selector, metav1validation.LabelSelectorValidationOptions{}, nil)) > 0
}

var evictionPolicies = []string{string(policyv1.AlwaysAllow), string(policyv1.IfHealthyBudget)}

// ValidateSpec checks that at most one of minAvailable and maxUnavailable is
// set, each a non-negative count or a percentage up to 100%, the selector and
// the unhealthy pod eviction policy.
func ValidateSpec(spec *policyv1.PodDisruptionBudgetSpec, allowInvalidLabelValue bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.MinAvailable != nil && spec.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(p, spec, "minAvailable and maxUnavailable cannot be both set"))
	}
	if spec.MinAvailable != nil {
		errs = append(errs, validateIntOrPercent(*spec.MinAvailable, p.Child("minAvailable"))...)
	}
	if spec.MaxUnavailable != nil {
		errs = append(errs, validateIntOrPercent(*spec.MaxUnavailable, p.Child("maxUnavailable"))...)
	}
	opts := metav1validation.LabelSelectorValidationOptions{AllowInvalidLabelValueInSelector: allowInvalidLabelValue}
	errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector, opts, p.Child("selector"))...)
	if policy := spec.UnhealthyPodEvictionPolicy; policy != nil &&
		*policy != policyv1.IfHealthyBudget && *policy != policyv1.AlwaysAllow {
		errs = append(errs, field.NotSupported(p.Child("unhealthyPodEvictionPolicy"), *policy, evictionPolicies))
	}
	return errs
}

func validateIntOrPercent(v intstr.IntOrString, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch v.Type {
	case intstr.String:
		errs = append(errs, validate.Invalid(p, v, validation.IsValidPercent(v.StrVal))...)
		if n, err := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%")); err == nil && strings.HasSuffix(v.StrVal, "%") && n > 100 {
			errs = append(errs, field.Invalid(p, v, "must not be greater than 100%"))
		}
	case intstr.Int:
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(v.IntValue()), p)...)
	default:
		errs = append(errs, field.Invalid(p, v, "must be an integer or percentage (e.g '5%')"))
	}
	return errs
}

// ValidateStatus checks the conditions and that no count is negative.
func ValidateStatus(s *policyv1.PodDisruptionBudgetStatus, p *field.Path) field.ErrorList {
	errs := metav1validation.ValidateConditions(s.Conditions, p.Child("conditions"))
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(s.DisruptionsAllowed), p.Child("disruptionsAllowed"))...)
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(s.CurrentHealthy), p.Child("currentHealthy"))...)
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(s.DesiredHealthy), p.Child("desiredHealthy"))...)
	return append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(s.ExpectedPods), p.Child("expectedPods"))...)
}
