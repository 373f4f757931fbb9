// Package replicaset is the storage of apps/v1 ReplicaSets and their scale
// subresource. It also holds the pod-template checks every apps controller
// that keeps a fixed number of replicas shares.
package replicaset

import (
	"context"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/core/pod"
	"github.com/capstan-dev/capstan/registry/scale"
	"github.com/capstan-dev/capstan/registry/store"
)

// Resource describes replicasets.
var Resource = &store.Resource[*appsv1.ReplicaSet]{
	Resource:   schema.GroupResource{Group: appsv1.GroupName, Resource: "replicasets"},
	Kind:       "ReplicaSet",
	Namespaced: true,
	ShortNames: []string{"rs"},
	Categories: []string{"all"},
	HasStatus:  true,
	Generation: true,
	New:        func() *appsv1.ReplicaSet { return &appsv1.ReplicaSet{} },
	NewList:    func() runtime.Object { return &appsv1.ReplicaSetList{} },
	Validate: func(_ context.Context, rs *appsv1.ReplicaSet) field.ErrorList {
		return ValidateSpec(&rs.Spec, field.NewPath("spec"))
	},
	ValidateUpdate: func(_ context.Context, rs, old *appsv1.ReplicaSet) field.ErrorList {
		errs := ValidateSpec(&rs.Spec, field.NewPath("spec"))
		return append(errs, apimachineryvalidation.ValidateImmutableField(rs.Spec.Selector, old.Spec.Selector, field.NewPath("spec", "selector"))...)
	},
	ValidateStatusUpdate: func(_ context.Context, rs, _ *appsv1.ReplicaSet) field.ErrorList {
		return ValidateStatus(&rs.Status, field.NewPath("status"))
	},
	Fields: map[string]func(*appsv1.ReplicaSet) string{
		"status.replicas": func(rs *appsv1.ReplicaSet) string { return strconv.Itoa(int(rs.Status.Replicas)) },
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Desired", Type: "integer", Description: extensionsv1beta1.ReplicaSetSpec{}.SwaggerDoc()["replicas"]},
		{Name: "Current", Type: "integer", Description: extensionsv1beta1.ReplicaSetStatus{}.SwaggerDoc()["replicas"]},
		{Name: "Ready", Type: "integer", Description: extensionsv1beta1.ReplicaSetStatus{}.SwaggerDoc()["readyReplicas"]},
		store.AgeColumn,
		ContainersColumn,
		ImagesColumn,
		{Name: "Selector", Type: "string", Priority: 1, Description: extensionsv1beta1.ReplicaSetSpec{}.SwaggerDoc()["selector"]},
	},
	Row: func(rs *appsv1.ReplicaSet) []any {
		names, images := ContainerCells(rs.Spec.Template.Spec.Containers)
		return []any{rs.Name, int64(scale.Replicas(rs.Spec.Replicas)), int64(rs.Status.Replicas), int64(rs.Status.ReadyReplicas),
			store.Age(rs.CreationTimestamp), names, images, metav1.FormatLabelSelector(rs.Spec.Selector)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// Scale is how the scale subresource reads and writes a ReplicaSet.
var Scale = scale.Target[*appsv1.ReplicaSet]{
	Resource:       Resource.Resource,
	Replicas:       func(rs *appsv1.ReplicaSet) int32 { return scale.Replicas(rs.Spec.Replicas) },
	SetReplicas:    func(rs *appsv1.ReplicaSet, n int32) { rs.Spec.Replicas = &n },
	StatusReplicas: func(rs *appsv1.ReplicaSet) int32 { return rs.Status.Replicas },
	Selector:       func(rs *appsv1.ReplicaSet) (string, error) { return scale.LabelSelector(rs.Spec.Selector) },
}

// Wide columns shared by the controllers that own pods.
var (
	ContainersColumn = metav1.TableColumnDefinition{Name: "Containers", Type: "string", Priority: 1, Description: "Names of each container in the template."}
	ImagesColumn     = metav1.TableColumnDefinition{Name: "Images", Type: "string", Priority: 1, Description: "Images referenced by each container in the template."}
)

// ContainerCells lists the names and the images of containers, comma-separated.
func ContainerCells(containers []corev1.Container) (names, images string) {
	n := make([]string, len(containers))
	i := make([]string, len(containers))
	for k, c := range containers {
		n[k], i[k] = c.Name, c.Image
	}
	return strings.Join(n, ","), strings.Join(i, ",")
}

// ValidateSelector checks a required, non-empty pod selector; kind names
// the resource in the message about an empty one.
func ValidateSelector(sel *metav1.LabelSelector, kind string, p *field.Path) field.ErrorList {
	if sel == nil {
		return field.ErrorList{field.Required(p, "")}
	}
	errs := metavalidation.ValidateLabelSelector(sel, metavalidation.LabelSelectorValidationOptions{}, p)
	if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(p, sel, "empty selector is invalid for "+kind))
	}
	return errs
}

// ValidateSpec checks a ReplicaSet spec.
func ValidateSpec(spec *appsv1.ReplicaSetSpec, p *field.Path) field.ErrorList {
	errs := apimachineryvalidation.ValidateNonnegativeField(int64(scale.Replicas(spec.Replicas)), p.Child("replicas"))
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	// Upstream names deployments here too.
	errs = append(errs, ValidateSelector(spec.Selector, "deployment", p.Child("selector"))...)
	errs = append(errs, ValidateTemplateForSelector(&spec.Template, spec.Selector, p)...)
	return errs
}

// ValidateTemplateForSelector checks spec.template of a replica-keeping
// controller against spec.selector (p is the spec's path).
func ValidateTemplateForSelector(t *corev1.PodTemplateSpec, sel *metav1.LabelSelector, p *field.Path) field.ErrorList {
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return field.ErrorList{field.Invalid(p.Child("selector"), sel, "invalid label selector")}
	}
	return ValidatePodTemplateSpecForReplicaSet(t, selector, p.Child("template"))
}

// ValidatePodTemplateSpecForReplicaSet checks a template whose pods a
// controller keeps running: it matches the selector, is a valid pod
// template, restarts always and has no deadline.
func ValidatePodTemplateSpecForReplicaSet(t *corev1.PodTemplateSpec, selector labels.Selector, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if !selector.Empty() && !selector.Matches(labels.Set(t.Labels)) {
		errs = append(errs, field.Invalid(p.Child("metadata", "labels"), t.Labels, "`selector` does not match template `labels`"))
	}
	errs = append(errs, pod.ValidatePodTemplateSpec(t, p)...)
	if t.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(p.Child("spec", "restartPolicy"), t.Spec.RestartPolicy, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(p.Child("spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicaSet is not Supported"))
	}
	return errs
}

// ValidateStatus checks a status written through /status.
func ValidateStatus(s *appsv1.ReplicaSetStatus, p *field.Path) field.ErrorList {
	counters := []scale.Counter{
		{Field: "replicas", Value: int64(s.Replicas)},
		{Field: "fullyLabeledReplicas", Value: int64(s.FullyLabeledReplicas), AtMostReplicas: true},
		{Field: "readyReplicas", Value: int64(s.ReadyReplicas), AtMostReplicas: true},
		{Field: "availableReplicas", Value: int64(s.AvailableReplicas), AtMostReplicas: true},
		{Field: "observedGeneration", Value: s.ObservedGeneration},
	}
	if s.TerminatingReplicas != nil {
		counters = append(counters, scale.Counter{Field: "terminatingReplicas", Value: int64(*s.TerminatingReplicas)})
	}
	return scale.ValidateStatusCounters(p, int64(s.Replicas), counters, int64(s.ReadyReplicas), int64(s.AvailableReplicas), "readyReplicas")
}
