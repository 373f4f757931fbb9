// Package daemonset is the storage of apps/v1 DaemonSets.
package daemonset

import (
	"context"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/apps/deployment"
	"github.com/capstan-dev/capstan/registry/apps/replicaset"
	"github.com/capstan-dev/capstan/registry/core/pod"
	"github.com/capstan-dev/capstan/registry/store"
)

// Resource describes daemonsets.
var Resource = &store.Resource[*appsv1.DaemonSet]{
	Resource:   schema.GroupResource{Group: appsv1.GroupName, Resource: "daemonsets"},
	Kind:       "DaemonSet",
	Namespaced: true,
	ShortNames: []string{"ds"},
	Categories: []string{"all"},
	HasStatus:  true,
	Generation: true,
	New:        func() *appsv1.DaemonSet { return &appsv1.DaemonSet{} },
	NewList:    func() runtime.Object { return &appsv1.DaemonSetList{} },
	PrepareForCreate: func(_ context.Context, ds *appsv1.DaemonSet) {
		if templateGeneration(ds) < 1 {
			setTemplateGeneration(ds, 1)
		}
	},
	PrepareForUpdate: func(_ context.Context, ds, old *appsv1.DaemonSet) {
		// The template generation counts template changes; clients cannot set it.
		gen := templateGeneration(old)
		if !apiequality.Semantic.DeepEqual(ds.Spec.Template, old.Spec.Template) {
			gen++
		}
		setTemplateGeneration(ds, gen)
	},
	Validate: func(_ context.Context, ds *appsv1.DaemonSet) field.ErrorList {
		return ValidateSpec(&ds.Spec, field.NewPath("spec"))
	},
	PrepareForStatusUpdate: func(_ context.Context, ds, old *appsv1.DaemonSet) {
		if v, ok := old.Annotations[appsv1.DeprecatedTemplateGeneration]; ok {
			if ds.Annotations == nil {
				ds.Annotations = map[string]string{}
			}
			ds.Annotations[appsv1.DeprecatedTemplateGeneration] = v
		} else {
			delete(ds.Annotations, appsv1.DeprecatedTemplateGeneration)
		}
	},
	ValidateStatusUpdate: func(_ context.Context, ds, old *appsv1.DaemonSet) field.ErrorList {
		errs := ValidateStatus(&ds.Status, field.NewPath("status"))
		return append(errs, deployment.ValidateCollisionCountUpdate(ds.Status.CollisionCount, old.Status.CollisionCount, field.NewPath("status", "collisionCount"))...)
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Desired", Type: "integer", Description: extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["desiredNumberScheduled"]},
		{Name: "Current", Type: "integer", Description: extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["currentNumberScheduled"]},
		{Name: "Ready", Type: "integer", Description: extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["numberReady"]},
		{Name: "Up-to-date", Type: "integer", Description: extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["updatedNumberScheduled"]},
		{Name: "Available", Type: "integer", Description: extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["numberAvailable"]},
		{Name: "Node Selector", Type: "string", Description: corev1.PodSpec{}.SwaggerDoc()["nodeSelector"]},
		store.AgeColumn,
		replicaset.ContainersColumn,
		replicaset.ImagesColumn,
		{Name: "Selector", Type: "string", Priority: 1, Description: extensionsv1beta1.DaemonSetSpec{}.SwaggerDoc()["selector"]},
	},
	Row: func(ds *appsv1.DaemonSet) []any {
		s := ds.Status
		names, images := replicaset.ContainerCells(ds.Spec.Template.Spec.Containers)
		return []any{ds.Name, int64(s.DesiredNumberScheduled), int64(s.CurrentNumberScheduled), int64(s.NumberReady),
			int64(s.UpdatedNumberScheduled), int64(s.NumberAvailable), labels.FormatLabels(ds.Spec.Template.Spec.NodeSelector),
			store.Age(ds.CreationTimestamp), names, images, metav1.FormatLabelSelector(ds.Spec.Selector)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// templateGeneration reads the generation of the pod template, kept in an
// annotation by apps/v1; 0 when absent or unreadable.
func templateGeneration(ds *appsv1.DaemonSet) int64 {
	n, err := strconv.ParseInt(ds.Annotations[appsv1.DeprecatedTemplateGeneration], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

func setTemplateGeneration(ds *appsv1.DaemonSet, n int64) {
	if ds.Annotations == nil {
		ds.Annotations = map[string]string{}
	}
	ds.Annotations[appsv1.DeprecatedTemplateGeneration] = strconv.FormatInt(n, 10)
}

// ValidateSpec checks a DaemonSet spec.
func ValidateSpec(spec *appsv1.DaemonSetSpec, p *field.Path) field.ErrorList {
	errs := metavalidation.ValidateLabelSelector(spec.Selector, metavalidation.LabelSelectorValidationOptions{}, p.Child("selector"))
	if selector, err := metav1.LabelSelectorAsSelector(spec.Selector); err == nil && !selector.Matches(labels.Set(spec.Template.Labels)) {
		errs = append(errs, field.Invalid(p.Child("template", "metadata", "labels"), spec.Template.Labels, "`selector` does not match template `labels`"))
	}
	if spec.Selector != nil && len(spec.Selector.MatchLabels)+len(spec.Selector.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(p.Child("selector"), spec.Selector, "empty selector is invalid for daemonset"))
	}

	errs = append(errs, pod.ValidatePodTemplateSpec(&spec.Template, p.Child("template"))...)
	if spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(p.Child("template", "spec", "restartPolicy"), spec.Template.Spec.RestartPolicy, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if spec.Template.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(p.Child("template", "spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in DaemonSet is not Supported"))
	}
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	errs = append(errs, ValidateUpdateStrategy(&spec.UpdateStrategy, p.Child("updateStrategy"))...)
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(*spec.RevisionHistoryLimit), p.Child("revisionHistoryLimit"))...)
	}
	return errs
}

// ValidateUpdateStrategy checks how a DaemonSet replaces its pods.
func ValidateUpdateStrategy(s *appsv1.DaemonSetUpdateStrategy, p *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
		return nil
	case appsv1.RollingUpdateDaemonSetStrategyType:
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(p.Child("rollingUpdate"), "")}
		}
		return validateRollingUpdate(s.RollingUpdate, p.Child("rollingUpdate"))
	}
	return field.ErrorList{field.NotSupported(p, s, []appsv1.DaemonSetUpdateStrategyType{appsv1.RollingUpdateDaemonSetStrategyType, appsv1.OnDeleteDaemonSetStrategyType})}
}

func validateRollingUpdate(ru *appsv1.RollingUpdateDaemonSet, p *field.Path) field.ErrorList {
	maxUnavailable, maxSurge := intOrZero(ru.MaxUnavailable), intOrZero(ru.MaxSurge)
	errs := deployment.ValidatePositiveIntOrPercent(maxUnavailable, p.Child("maxUnavailable"))
	errs = append(errs, deployment.ValidatePositiveIntOrPercent(maxSurge, p.Child("maxSurge"))...)
	errs = append(errs, deployment.IsNotMoreThan100Percent(maxUnavailable, p.Child("maxUnavailable"))...)
	errs = append(errs, deployment.IsNotMoreThan100Percent(maxSurge, p.Child("maxSurge"))...)
	// Exactly one of them moves the rollout forward.
	hasUnavailable := deployment.IntOrPercentValue(maxUnavailable) != 0
	hasSurge := deployment.IntOrPercentValue(maxSurge) != 0
	switch {
	case hasUnavailable && hasSurge:
		errs = append(errs, field.Invalid(p.Child("maxSurge"), maxSurge, "may not be set when maxUnavailable is non-zero"))
	case !hasUnavailable && !hasSurge:
		errs = append(errs, field.Required(p.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
	}
	return errs
}

func intOrZero(v *intstr.IntOrString) intstr.IntOrString {
	if v == nil {
		return intstr.FromInt32(0)
	}
	return *v
}

// ValidateStatus checks a status written through /status.
func ValidateStatus(s *appsv1.DaemonSetStatus, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"currentNumberScheduled", int64(s.CurrentNumberScheduled)},
		{"numberMisscheduled", int64(s.NumberMisscheduled)},
		{"desiredNumberScheduled", int64(s.DesiredNumberScheduled)},
		{"numberReady", int64(s.NumberReady)},
		{"observedGeneration", s.ObservedGeneration},
		{"updatedNumberScheduled", int64(s.UpdatedNumberScheduled)},
		{"numberAvailable", int64(s.NumberAvailable)},
		{"numberUnavailable", int64(s.NumberUnavailable)},
	} {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(f.v, p.Child(f.name))...)
	}
	if s.CollisionCount != nil {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(*s.CollisionCount), p.Child("collisionCount"))...)
	}
	return errs
}
