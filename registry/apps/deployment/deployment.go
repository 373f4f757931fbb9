// Package deployment is the storage of apps/v1 Deployments and their scale
// subresource. It also holds the int-or-percent checks the rolling update
// strategies of the apps group share.
package deployment

import (
	"context"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/apps/replicaset"
	"github.com/capstan-dev/capstan/registry/scale"
	"github.com/capstan-dev/capstan/registry/store"
	"github.com/capstan-dev/capstan/registry/validate"
)

// Resource describes deployments.
var Resource = &store.Resource[*appsv1.Deployment]{
	Resource:   schema.GroupResource{Group: appsv1.GroupName, Resource: "deployments"},
	Kind:       "Deployment",
	Namespaced: true,
	ShortNames: []string{"deploy"},
	Categories: []string{"all"},
	HasStatus:  true,
	Generation: true,
	New:        func() *appsv1.Deployment { return &appsv1.Deployment{} },
	NewList:    func() runtime.Object { return &appsv1.DeploymentList{} },
	PrepareForUpdate: func(_ context.Context, d, old *appsv1.Deployment) {
		// Annotations are copied to the replica sets, so changing them is a
		// change of desired state as much as the spec is.
		if d.Generation == old.Generation && !apiequality.Semantic.DeepEqual(d.Annotations, old.Annotations) {
			d.Generation = old.Generation + 1
		}
	},
	Validate: func(_ context.Context, d *appsv1.Deployment) field.ErrorList {
		return ValidateSpec(&d.Spec, field.NewPath("spec"))
	},
	ValidateUpdate: func(_ context.Context, d, old *appsv1.Deployment) field.ErrorList {
		errs := ValidateSpec(&d.Spec, field.NewPath("spec"))
		return append(errs, apimachineryvalidation.ValidateImmutableField(d.Spec.Selector, old.Spec.Selector, field.NewPath("spec", "selector"))...)
	},
	// Status writers may not relabel the deployment.
	PrepareForStatusUpdate: func(_ context.Context, d, old *appsv1.Deployment) { d.Labels = old.Labels },
	ValidateStatusUpdate: func(_ context.Context, d, old *appsv1.Deployment) field.ErrorList {
		errs := ValidateStatus(&d.Status, field.NewPath("status"))
		return append(errs, ValidateCollisionCountUpdate(d.Status.CollisionCount, old.Status.CollisionCount, field.NewPath("status", "collisionCount"))...)
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Ready", Type: "string", Description: "Number of the pod with ready state"},
		{Name: "Up-to-date", Type: "string", Description: extensionsv1beta1.DeploymentStatus{}.SwaggerDoc()["updatedReplicas"]},
		{Name: "Available", Type: "string", Description: extensionsv1beta1.DeploymentStatus{}.SwaggerDoc()["availableReplicas"]},
		store.AgeColumn,
		replicaset.ContainersColumn,
		replicaset.ImagesColumn,
		{Name: "Selector", Type: "string", Priority: 1, Description: extensionsv1beta1.DeploymentSpec{}.SwaggerDoc()["selector"]},
	},
	Row: func(d *appsv1.Deployment) []any {
		selector := "<invalid>"
		if s, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err == nil {
			selector = s.String()
		}
		names, images := replicaset.ContainerCells(d.Spec.Template.Spec.Containers)
		return []any{d.Name, fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, scale.Replicas(d.Spec.Replicas)),
			int64(d.Status.UpdatedReplicas), int64(d.Status.AvailableReplicas), store.Age(d.CreationTimestamp),
			names, images, selector}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// Scale is how the scale subresource reads and writes a Deployment.
var Scale = scale.Target[*appsv1.Deployment]{
	Resource:       Resource.Resource,
	Replicas:       func(d *appsv1.Deployment) int32 { return scale.Replicas(d.Spec.Replicas) },
	SetReplicas:    func(d *appsv1.Deployment, n int32) { d.Spec.Replicas = &n },
	StatusReplicas: func(d *appsv1.Deployment) int32 { return d.Status.Replicas },
	Selector:       func(d *appsv1.Deployment) (string, error) { return scale.LabelSelector(d.Spec.Selector) },
}

// ValidateSpec checks a Deployment spec.
func ValidateSpec(spec *appsv1.DeploymentSpec, p *field.Path) field.ErrorList {
	errs := apimachineryvalidation.ValidateNonnegativeField(int64(scale.Replicas(spec.Replicas)), p.Child("replicas"))
	errs = append(errs, replicaset.ValidateSelector(spec.Selector, "deployment", p.Child("selector"))...)
	errs = append(errs, replicaset.ValidateTemplateForSelector(&spec.Template, spec.Selector, p)...)
	errs = append(errs, ValidateStrategy(&spec.Strategy, p.Child("strategy"))...)
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(*spec.RevisionHistoryLimit), p.Child("revisionHistoryLimit"))...)
	}
	if spec.ProgressDeadlineSeconds != nil {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(*spec.ProgressDeadlineSeconds), p.Child("progressDeadlineSeconds"))...)
		if *spec.ProgressDeadlineSeconds <= spec.MinReadySeconds {
			errs = append(errs, field.Invalid(p.Child("progressDeadlineSeconds"), *spec.ProgressDeadlineSeconds, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

// ValidateStrategy checks the update strategy of a Deployment.
func ValidateStrategy(s *appsv1.DeploymentStrategy, p *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Forbidden(p.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")}
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(p.Child("rollingUpdate"), "this should be defaulted and never be nil")}
		}
		return validateRollingUpdate(s.RollingUpdate, p.Child("rollingUpdate"))
	default:
		return field.ErrorList{field.NotSupported(p, s, []appsv1.DeploymentStrategyType{appsv1.RecreateDeploymentStrategyType, appsv1.RollingUpdateDeploymentStrategyType})}
	}
	return nil
}

func validateRollingUpdate(ru *appsv1.RollingUpdateDeployment, p *field.Path) field.ErrorList {
	maxUnavailable, maxSurge := intOrZero(ru.MaxUnavailable), intOrZero(ru.MaxSurge)
	errs := ValidatePositiveIntOrPercent(maxUnavailable, p.Child("maxUnavailable"))
	errs = append(errs, ValidatePositiveIntOrPercent(maxSurge, p.Child("maxSurge"))...)
	if IntOrPercentValue(maxUnavailable) == 0 && IntOrPercentValue(maxSurge) == 0 {
		errs = append(errs, field.Invalid(p.Child("maxUnavailable"), maxUnavailable, "may not be 0 when `maxSurge` is 0"))
	}
	errs = append(errs, IsNotMoreThan100Percent(maxUnavailable, p.Child("maxUnavailable"))...)
	return errs
}

func intOrZero(v *intstr.IntOrString) intstr.IntOrString {
	if v == nil {
		return intstr.FromInt32(0)
	}
	return *v
}

// ValidatePositiveIntOrPercent checks a non-negative integer or a percentage.
func ValidatePositiveIntOrPercent(v intstr.IntOrString, p *field.Path) field.ErrorList {
	switch v.Type {
	case intstr.String:
		var errs field.ErrorList
		errs = append(errs, validate.Invalid(p, v, validation.IsValidPercent(v.StrVal))...)
		return errs
	case intstr.Int:
		return apimachineryvalidation.ValidateNonnegativeField(int64(v.IntValue()), p)
	default:
		return field.ErrorList{field.Invalid(p, v, "must be an integer or percentage (e.g '5%%')")}
	}
}

func percentValue(v intstr.IntOrString) (int, bool) {
	if v.Type != intstr.String || len(validation.IsValidPercent(v.StrVal)) != 0 {
		return 0, false
	}
	n, _ := strconv.Atoi(v.StrVal[:len(v.StrVal)-1])
	return n, true
}

// IntOrPercentValue is the number in v, whether a count or a percentage.
func IntOrPercentValue(v intstr.IntOrString) int {
	if n, ok := percentValue(v); ok {
		return n
	}
	return v.IntValue()
}

// IsNotMoreThan100Percent rejects a percentage above 100%.
func IsNotMoreThan100Percent(v intstr.IntOrString, p *field.Path) field.ErrorList {
	if n, ok := percentValue(v); ok && n > 100 {
		return field.ErrorList{field.Invalid(p, v, "must not be greater than 100%")}
	}
	return nil
}

// ValidateStatus checks a status written through /status.
func ValidateStatus(s *appsv1.DeploymentStatus, p *field.Path) field.ErrorList {
	counters := []scale.Counter{
		{Field: "observedGeneration", Value: s.ObservedGeneration},
		{Field: "replicas", Value: int64(s.Replicas)},
		{Field: "updatedReplicas", Value: int64(s.UpdatedReplicas), AtMostReplicas: true},
		{Field: "readyReplicas", Value: int64(s.ReadyReplicas), AtMostReplicas: true},
		{Field: "availableReplicas", Value: int64(s.AvailableReplicas), AtMostReplicas: true},
		{Field: "unavailableReplicas", Value: int64(s.UnavailableReplicas)},
	}
	if s.TerminatingReplicas != nil {
		counters = append(counters, scale.Counter{Field: "terminatingReplicas", Value: int64(*s.TerminatingReplicas)})
	}
	if s.CollisionCount != nil {
		counters = append(counters, scale.Counter{Field: "collisionCount", Value: int64(*s.CollisionCount)})
	}
	return scale.ValidateStatusCounters(p, int64(s.Replicas), counters, int64(s.ReadyReplicas), int64(s.AvailableReplicas), "readyReplicas")
}

// ValidateCollisionCountUpdate rejects a status.collisionCount that went down.
func ValidateCollisionCountUpdate(n, old *int32, p *field.Path) field.ErrorList {
	if old == nil || (n != nil && *n >= *old) {
		return nil
	}
	return field.ErrorList{field.Invalid(p, scale.Replicas(n), "cannot be decremented")}
}
