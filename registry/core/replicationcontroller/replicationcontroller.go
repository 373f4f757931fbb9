// Package replicationcontroller is the storage of core/v1
// ReplicationControllers with their status and scale subresources.
package replicationcontroller

import (
	"context"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/scale"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/capstan-dev/capstan/registry/core/pod"
	"github.com/capstan-dev/capstan/registry/core/podtemplate"
	"github.com/capstan-dev/capstan/registry/store"
)

// Resource describes replicationcontrollers.
var Resource = &store.Resource[*corev1.ReplicationController]{
	Resource:   schema.GroupResource{Resource: "replicationcontrollers"},
	Kind:       "ReplicationController",
	Namespaced: true,
	ShortNames: []string{"rc"},
	Categories: []string{"all"},
	HasStatus:  true,
	Generation: true,
	// Deleting an RC through core/v1 orphans its pods, as it always has.
	GCPolicy: rest.OrphanDependents,
	New:      func() *corev1.ReplicationController { return &corev1.ReplicationController{} },
	NewList:  func() runtime.Object { return &corev1.ReplicationControllerList{} },
	PrepareForCreate: func(_ context.Context, rc *corev1.ReplicationController) {
		if rc.Spec.Template != nil {
			pod.NormalizePodSpec(&rc.Spec.Template.Spec)
		}
	},
	PrepareForUpdate: func(_ context.Context, rc, _ *corev1.ReplicationController) {
		if rc.Spec.Template != nil {
			pod.NormalizePodSpec(&rc.Spec.Template.Spec)
		}
	},
	Validate: func(_ context.Context, rc *corev1.ReplicationController) field.ErrorList {
		return ValidateSpec(&rc.Spec, field.NewPath("spec"))
	},
	ValidateStatusUpdate: func(_ context.Context, rc, _ *corev1.ReplicationController) field.ErrorList {
		return ValidateStatus(&rc.Status, field.NewPath("status"))
	},
	Fields: map[string]func(*corev1.ReplicationController) string{
		"status.replicas": func(rc *corev1.ReplicationController) string { return strconv.Itoa(int(rc.Status.Replicas)) },
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Desired", Type: "integer", Description: corev1.ReplicationControllerSpec{}.SwaggerDoc()["replicas"]},
		{Name: "Current", Type: "integer", Description: corev1.ReplicationControllerStatus{}.SwaggerDoc()["replicas"]},
		{Name: "Ready", Type: "integer", Description: corev1.ReplicationControllerStatus{}.SwaggerDoc()["readyReplicas"]},
		store.AgeColumn,
		{Name: "Containers", Type: "string", Priority: 1, Description: "Names of each container in the template."},
		{Name: "Images", Type: "string", Priority: 1, Description: "Images referenced by each container in the template."},
		{Name: "Selector", Type: "string", Priority: 1, Description: corev1.ReplicationControllerSpec{}.SwaggerDoc()["selector"]},
	},
	Row: func(rc *corev1.ReplicationController) []any {
		var containers []corev1.Container
		if rc.Spec.Template != nil {
			containers = rc.Spec.Template.Spec.Containers
		}
		names, images := podtemplate.ContainerCells(containers)
		return []any{rc.Name, int64(replicas(rc)), int64(rc.Status.Replicas), int64(rc.Status.ReadyReplicas),
			store.Age(rc.CreationTimestamp), names, images, labels.FormatLabels(rc.Spec.Selector)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

func replicas(rc *corev1.ReplicationController) int32 {
	if rc.Spec.Replicas == nil {
		return 0
	}
	return *rc.Spec.Replicas
}

// ValidateSpec checks an RC spec: a non-empty selector that matches the
// template's labels, non-negative replicas and minReadySeconds, and a pod
// template that always restarts and has no active deadline.
func ValidateSpec(spec *corev1.ReplicationControllerSpec, p *field.Path) field.ErrorList {
	errs := apimachineryvalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), p.Child("minReadySeconds"))
	selector := labels.Set(spec.Selector).AsSelector()
	if selector.Empty() {
		errs = append(errs, field.Required(p.Child("selector"), ""))
	}
	var n int32
	if spec.Replicas != nil {
		n = *spec.Replicas
	}
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(n), p.Child("replicas"))...)
	tp := p.Child("template")
	t := spec.Template
	if t == nil {
		return append(errs, field.Required(tp, ""))
	}
	if !selector.Empty() && !selector.Matches(labels.Set(t.Labels)) {
		errs = append(errs, field.Invalid(tp.Child("metadata", "labels"), t.Labels, "`selector` does not match template `labels`"))
	}
	errs = append(errs, pod.ValidatePodTemplateSpec(t, tp)...)
	if t.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(tp.Child("spec", "restartPolicy"), t.Spec.RestartPolicy, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(tp.Child("spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicationController is not Supported"))
	}
	return errs
}

// ValidateStatus checks the counters of an RC status.
func ValidateStatus(st *corev1.ReplicationControllerStatus, p *field.Path) field.ErrorList {
	return scale.ValidateStatusCounters(p, int64(st.Replicas), []scale.Counter{
		{Field: "replicas", Value: int64(st.Replicas)},
		{Field: "fullyLabeledReplicas", Value: int64(st.FullyLabeledReplicas), AtMostReplicas: true},
		{Field: "readyReplicas", Value: int64(st.ReadyReplicas), AtMostReplicas: true},
		{Field: "availableReplicas", Value: int64(st.AvailableReplicas), AtMostReplicas: true},
		{Field: "observedGeneration", Value: st.ObservedGeneration},
	}, int64(st.ReadyReplicas), int64(st.AvailableReplicas), "readyReplicas")
}
