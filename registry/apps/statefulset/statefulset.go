// Package statefulset is the storage of apps/v1 StatefulSets and their
// scale subresource.
package statefulset

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/apps/deployment"
	"github.com/capstan-dev/capstan/registry/apps/replicaset"
	"github.com/capstan-dev/capstan/registry/core/pod"
	"github.com/capstan-dev/capstan/registry/scale"
	"github.com/capstan-dev/capstan/registry/store"
	"github.com/capstan-dev/capstan/registry/validate"
)

// Resource describes statefulsets.
var Resource = &store.Resource[*appsv1.StatefulSet]{
	Resource:   schema.GroupResource{Group: appsv1.GroupName, Resource: "statefulsets"},
	Kind:       "StatefulSet",
	Namespaced: true,
	ShortNames: []string{"sts"},
	Categories: []string{"all"},
	// Pod names and hostnames are the set's name plus an ordinal.
	NameFunc:   apimachineryvalidation.NameIsDNSLabel,
	HasStatus:  true,
	Generation: true,
	New:        func() *appsv1.StatefulSet { return &appsv1.StatefulSet{} },
	NewList:    func() runtime.Object { return &appsv1.StatefulSetList{} },
	Validate: func(_ context.Context, ss *appsv1.StatefulSet) field.ErrorList {
		return ValidateSpec(&ss.Spec, field.NewPath("spec"), Options{})
	},
	ValidateUpdate: func(_ context.Context, ss, old *appsv1.StatefulSet) field.ErrorList {
		return ValidateUpdate(ss, old)
	},
	WarningsOnCreate: func(_ context.Context, ss *appsv1.StatefulSet) []string { return warnings(ss) },
	WarningsOnUpdate: func(_ context.Context, ss, _ *appsv1.StatefulSet) []string { return warnings(ss) },
	ValidateStatusUpdate: func(_ context.Context, ss, old *appsv1.StatefulSet) field.ErrorList {
		errs := ValidateStatus(&ss.Status, field.NewPath("status"))
		return append(errs, deployment.ValidateCollisionCountUpdate(ss.Status.CollisionCount, old.Status.CollisionCount, field.NewPath("status", "collisionCount"))...)
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Ready", Type: "string", Description: "Number of the pod with ready state"},
		store.AgeColumn,
		replicaset.ContainersColumn,
		replicaset.ImagesColumn,
	},
	Row: func(ss *appsv1.StatefulSet) []any {
		names, images := replicaset.ContainerCells(ss.Spec.Template.Spec.Containers)
		return []any{ss.Name, fmt.Sprintf("%d/%d", ss.Status.ReadyReplicas, scale.Replicas(ss.Spec.Replicas)),
			store.Age(ss.CreationTimestamp), names, images}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// Scale is how the scale subresource reads and writes a StatefulSet.
var Scale = scale.Target[*appsv1.StatefulSet]{
	Resource:       Resource.Resource,
	Replicas:       func(ss *appsv1.StatefulSet) int32 { return scale.Replicas(ss.Spec.Replicas) },
	SetReplicas:    func(ss *appsv1.StatefulSet, n int32) { ss.Spec.Replicas = &n },
	StatusReplicas: func(ss *appsv1.StatefulSet) int32 { return ss.Status.Replicas },
	Selector:       func(ss *appsv1.StatefulSet) (string, error) { return scale.LabelSelector(ss.Spec.Selector) },
}

func warnings(ss *appsv1.StatefulSet) []string {
	if ss.Spec.RevisionHistoryLimit != nil && *ss.Spec.RevisionHistoryLimit < 0 {
		return []string{"spec.revisionHistoryLimit: a negative value retains all historical revisions; a value >= 0 is recommended"}
	}
	return nil
}

// Options relax validation for objects that already exist.
type Options struct {
	// AllowInvalidServiceName skips the serviceName check: it cannot change.
	AllowInvalidServiceName bool
	// SkipPodTemplateSpec checks only labels and annotations of an unchanged template.
	SkipPodTemplateSpec bool
	// SkipVolumeClaimTemplates skips the claim templates: they cannot change.
	SkipVolumeClaimTemplates bool
}

// ValidateUpdate checks an updated StatefulSet: a valid spec of which only
// some fields changed.
func ValidateUpdate(ss, old *appsv1.StatefulSet) field.ErrorList {
	opts := Options{
		AllowInvalidServiceName:  true,
		SkipPodTemplateSpec:      apiequality.Semantic.DeepEqual(ss.Spec.Template, old.Spec.Template),
		SkipVolumeClaimTemplates: true,
	}
	errs := ValidateSpec(&ss.Spec, field.NewPath("spec"), opts)

	spec := ss.Spec.DeepCopy()
	spec.Replicas = old.Spec.Replicas
	spec.Template = old.Spec.Template
	spec.UpdateStrategy = old.Spec.UpdateStrategy
	spec.MinReadySeconds = old.Spec.MinReadySeconds
	spec.Ordinals = old.Spec.Ordinals
	spec.RevisionHistoryLimit = old.Spec.RevisionHistoryLimit
	spec.PersistentVolumeClaimRetentionPolicy = old.Spec.PersistentVolumeClaimRetentionPolicy
	if !apiequality.Semantic.DeepEqual(*spec, old.Spec) {
		errs = append(errs, field.Forbidden(field.NewPath("spec"), "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
	}
	return errs
}

// ValidateSpec checks a StatefulSet spec.
func ValidateSpec(spec *appsv1.StatefulSetSpec, p *field.Path, opts Options) field.ErrorList {
	var errs field.ErrorList
	switch spec.PodManagementPolicy {
	case "":
		errs = append(errs, field.Required(p.Child("podManagementPolicy"), ""))
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		errs = append(errs, field.Invalid(p.Child("podManagementPolicy"), spec.PodManagementPolicy,
			fmt.Sprintf("must be '%s' or '%s'", appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement)))
	}

	us := p.Child("updateStrategy")
	switch spec.UpdateStrategy.Type {
	case "":
		errs = append(errs, field.Required(us, ""))
	case appsv1.OnDeleteStatefulSetStrategyType:
		if spec.UpdateStrategy.RollingUpdate != nil {
			errs = append(errs, field.Invalid(us.Child("rollingUpdate"), spec.UpdateStrategy.RollingUpdate,
				fmt.Sprintf("only allowed for updateStrategy '%s'", appsv1.RollingUpdateStatefulSetStrategyType)))
		}
	case appsv1.RollingUpdateStatefulSetStrategyType:
		if spec.UpdateStrategy.RollingUpdate != nil {
			errs = append(errs, validateRollingUpdate(spec.UpdateStrategy.RollingUpdate, us.Child("rollingUpdate"))...)
		}
	default:
		errs = append(errs, field.Invalid(us, spec.UpdateStrategy,
			fmt.Sprintf("must be '%s' or '%s'", appsv1.RollingUpdateStatefulSetStrategyType, appsv1.OnDeleteStatefulSetStrategyType)))
	}

	if rp := spec.PersistentVolumeClaimRetentionPolicy; rp != nil {
		rpPath := p.Child("persistentVolumeClaimRetentionPolicy")
		errs = append(errs, validateRetentionPolicyType(rp.WhenDeleted, rpPath.Child("whenDeleted"))...)
		errs = append(errs, validateRetentionPolicyType(rp.WhenScaled, rpPath.Child("whenScaled"))...)
	}
	if !opts.SkipVolumeClaimTemplates {
		for i := range spec.VolumeClaimTemplates {
			errs = append(errs, validateClaimTemplate(&spec.VolumeClaimTemplates[i], p.Child("volumeClaimTemplates").Index(i))...)
		}
	}

	if !opts.AllowInvalidServiceName && spec.ServiceName != "" {
		errs = append(errs, validate.Invalid(p.Child("serviceName"), spec.ServiceName, apimachineryvalidation.NameIsDNSLabel(spec.ServiceName, false))...)
	}
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(scale.Replicas(spec.Replicas)), p.Child("replicas"))...)
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	if spec.Ordinals != nil {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(spec.Ordinals.Start), p.Child("ordinals", "start"))...)
	}

	errs = append(errs, replicaset.ValidateSelector(spec.Selector, "statefulset", p.Child("selector"))...)
	if selector, err := metav1.LabelSelectorAsSelector(spec.Selector); err != nil {
		errs = append(errs, field.Invalid(p.Child("selector"), spec.Selector, ""))
	} else {
		errs = append(errs, validateTemplate(&spec.Template, spec.VolumeClaimTemplates, selector, p.Child("template"), opts)...)
	}

	if spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(p.Child("template", "spec", "restartPolicy"), spec.Template.Spec.RestartPolicy, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if spec.Template.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(p.Child("template", "spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in StatefulSet is not Supported"))
	}
	return errs
}

func validateTemplate(t *corev1.PodTemplateSpec, claims []corev1.PersistentVolumeClaim, selector labels.Selector, p *field.Path, opts Options) field.ErrorList {
	var errs field.ErrorList
	if !selector.Empty() && !selector.Matches(labels.Set(t.Labels)) {
		errs = append(errs, field.Invalid(p.Child("metadata", "labels"), t.Labels, "`selector` does not match template `labels`"))
	}
	if opts.SkipPodTemplateSpec {
		errs = append(errs, metavalidation.ValidateLabels(t.Labels, p.Child("labels"))...)
		return append(errs, apimachineryvalidation.ValidateAnnotations(t.Annotations, p.Child("annotations"))...)
	}
	return append(errs, pod.ValidatePodTemplateSpec(withClaimVolumes(t, claims), p)...)
}

// withClaimVolumes is the template as the pods get it: each claim template
// becomes a volume of the same name, in place of a template volume so named.
func withClaimVolumes(t *corev1.PodTemplateSpec, claims []corev1.PersistentVolumeClaim) *corev1.PodTemplateSpec {
	if len(claims) == 0 {
		return t
	}
	out := t.DeepCopy()
	claimed := map[string]bool{}
	for _, c := range claims {
		claimed[c.Name] = true
	}
	out.Spec.Volumes = out.Spec.Volumes[:0]
	for _, v := range t.Spec.Volumes {
		if !claimed[v.Name] {
			out.Spec.Volumes = append(out.Spec.Volumes, v)
		}
	}
	for _, c := range claims {
		if c.Name == "" {
			continue
		}
		out.Spec.Volumes = append(out.Spec.Volumes, corev1.Volume{
			Name:         c.Name,
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c.Name}},
		})
	}
	return out
}

func validateRollingUpdate(ru *appsv1.RollingUpdateStatefulSetStrategy, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if ru.Partition != nil {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(*ru.Partition), p.Child("partition"))...)
	}
	if ru.MaxUnavailable != nil {
		mu := p.Child("maxUnavailable")
		errs = append(errs, deployment.ValidatePositiveIntOrPercent(*ru.MaxUnavailable, mu)...)
		if deployment.IntOrPercentValue(*ru.MaxUnavailable) == 0 {
			errs = append(errs, field.Invalid(mu, *ru.MaxUnavailable, "cannot be 0"))
		}
		errs = append(errs, deployment.IsNotMoreThan100Percent(*ru.MaxUnavailable, mu)...)
	}
	return errs
}

func validateRetentionPolicyType(t appsv1.PersistentVolumeClaimRetentionPolicyType, p *field.Path) field.ErrorList {
	switch t {
	case appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType:
		return nil
	}
	return field.ErrorList{field.NotSupported(p, t, []appsv1.PersistentVolumeClaimRetentionPolicyType{
		appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType})}
}

var accessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOnce, corev1.ReadWriteOncePod}

// validateClaimTemplate checks what a claim stamped out of a template
// needs most: its name, access modes and a storage request.
func validateClaimTemplate(c *corev1.PersistentVolumeClaim, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.Name != "" {
		errs = append(errs, validate.Invalid(p.Child("metadata", "name"), c.Name, apimachineryvalidation.NameIsDNSSubdomain(c.Name, false))...)
	}
	errs = append(errs, metavalidation.ValidateLabels(c.Labels, p.Child("metadata", "labels"))...)
	errs = append(errs, apimachineryvalidation.ValidateAnnotations(c.Annotations, p.Child("metadata", "annotations"))...)

	sp := p.Child("spec")
	if len(c.Spec.AccessModes) == 0 {
		errs = append(errs, field.Required(sp.Child("accessModes"), "at least 1 access mode is required"))
	}
	for _, m := range c.Spec.AccessModes {
		known := false
		for _, a := range accessModes {
			known = known || m == a
		}
		if !known {
			errs = append(errs, field.NotSupported(sp.Child("accessModes"), m, accessModes))
		}
		if m == corev1.ReadWriteOncePod && len(c.Spec.AccessModes) > 1 {
			errs = append(errs, field.Forbidden(sp.Child("accessModes"), "may not use ReadWriteOncePod with other access modes"))
		}
	}
	storage := sp.Child("resources").Key(string(corev1.ResourceStorage))
	if q, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]; !ok {
		errs = append(errs, field.Required(storage, ""))
	} else if q.Cmp(resource.Quantity{}) <= 0 {
		errs = append(errs, field.Invalid(storage, q.String(), "must be greater than zero"))
	}
	return errs
}

// ValidateStatus checks a status written through /status.
func ValidateStatus(s *appsv1.StatefulSetStatus, p *field.Path) field.ErrorList {
	counters := []scale.Counter{
		{Field: "replicas", Value: int64(s.Replicas)},
		{Field: "readyReplicas", Value: int64(s.ReadyReplicas), AtMostReplicas: true},
		{Field: "currentReplicas", Value: int64(s.CurrentReplicas), AtMostReplicas: true},
		{Field: "updatedReplicas", Value: int64(s.UpdatedReplicas), AtMostReplicas: true},
		{Field: "availableReplicas", Value: int64(s.AvailableReplicas), AtMostReplicas: true},
		{Field: "observedGeneration", Value: s.ObservedGeneration},
	}
	if s.CollisionCount != nil {
		counters = append(counters, scale.Counter{Field: "collisionCount", Value: int64(*s.CollisionCount)})
	}
	return scale.ValidateStatusCounters(p, int64(s.Replicas), counters, int64(s.ReadyReplicas), int64(s.AvailableReplicas), "status.readyReplicas")
}
