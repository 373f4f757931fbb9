// Package persistentvolumeclaim is the storage of core/v1 PersistentVolumeClaims.
package persistentvolumeclaim

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/core/persistentvolume"
	"github.com/capstan-dev/capstan/registry/store"
)

// Resource describes persistentvolumeclaims.
var Resource = &store.Resource[*corev1.PersistentVolumeClaim]{
	Resource:   schema.GroupResource{Resource: "persistentvolumeclaims"},
	Kind:       "PersistentVolumeClaim",
	Namespaced: true,
	ShortNames: []string{"pvc"},
	HasStatus:  true,
	New:        func() *corev1.PersistentVolumeClaim { return &corev1.PersistentVolumeClaim{} },
	NewList:    func() runtime.Object { return &corev1.PersistentVolumeClaimList{} },
	PrepareForCreate: func(_ context.Context, pvc *corev1.PersistentVolumeClaim) {
		pvc.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}
	},
	Validate: func(_ context.Context, pvc *corev1.PersistentVolumeClaim) field.ErrorList {
		return validateSpec(&pvc.Spec)
	},
	ValidateUpdate: func(_ context.Context, pvc, old *corev1.PersistentVolumeClaim) field.ErrorList {
		errs := validateSpec(&pvc.Spec)
		// Only requests (to expand) and volumeAttributesClassName may change once bound.
		a, b := pvc.Spec.DeepCopy(), old.Spec.DeepCopy()
		a.Resources.Requests, b.Resources.Requests = nil, nil
		a.VolumeAttributesClassName, b.VolumeAttributesClassName = nil, nil
		if old.Spec.VolumeName == "" {
			a.VolumeName, b.VolumeName = "", ""
		}
		if !apiequality.Semantic.DeepEqual(a, b) {
			errs = append(errs, field.Forbidden(field.NewPath("spec"), "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
		}
		return errs
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Status", Type: "string", Description: corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["phase"]},
		{Name: "Volume", Type: "string", Description: corev1.PersistentVolumeClaimSpec{}.SwaggerDoc()["volumeName"]},
		{Name: "Capacity", Type: "string", Description: corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["capacity"]},
		{Name: "Access Modes", Type: "string", Description: corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["accessModes"]},
		{Name: "StorageClass", Type: "string", Description: "StorageClass of the pvc"},
		{Name: "VolumeAttributesClass", Type: "string", Description: "VolumeAttributesClass of the pvc"},
		store.AgeColumn,
		{Name: "VolumeMode", Type: "string", Priority: 1, Description: corev1.PersistentVolumeClaimSpec{}.SwaggerDoc()["volumeMode"]},
	},
	Row: func(pvc *corev1.PersistentVolumeClaim) []any {
		capacity, modes := "", ""
		if pvc.Spec.VolumeName != "" {
			q := pvc.Status.Capacity[corev1.ResourceStorage]
			capacity = q.String()
			modes = persistentvolume.AccessModes(pvc.Status.AccessModes)
		}
		sc := ""
		if pvc.Spec.StorageClassName != nil {
			sc = *pvc.Spec.StorageClassName
		}
		vac := "<unset>"
		if pvc.Spec.VolumeAttributesClassName != nil && *pvc.Spec.VolumeAttributesClassName != "" {
			vac = *pvc.Spec.VolumeAttributesClassName
		}
		mode := "<unset>"
		if pvc.Spec.VolumeMode != nil {
			mode = string(*pvc.Spec.VolumeMode)
		}
		return []any{pvc.Name, string(pvc.Status.Phase), pvc.Spec.VolumeName, capacity, modes, sc, vac, store.Age(pvc.CreationTimestamp), mode}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

func validateSpec(spec *corev1.PersistentVolumeClaimSpec) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec")
	if len(spec.AccessModes) == 0 {
		errs = append(errs, field.Required(p.Child("accessModes"), "at least 1 access mode is required"))
	}
	for i, m := range spec.AccessModes {
		switch m {
		case corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod:
		default:
			errs = append(errs, field.NotSupported(p.Child("accessModes").Index(i), m, []string{"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"}))
		}
	}
	if spec.DataSource == nil && spec.DataSourceRef == nil {
		q, ok := spec.Resources.Requests[corev1.ResourceStorage]
		if !ok {
			errs = append(errs, field.Required(p.Child("resources").Key(string(corev1.ResourceStorage)), ""))
		} else if q.Sign() <= 0 {
			errs = append(errs, field.Invalid(p.Child("resources", "requests").Key(string(corev1.ResourceStorage)), q.String(), "must be greater than zero"))
		}
	}
	return errs
}
