// Package persistentvolume is the storage of core/v1 PersistentVolumes.
package persistentvolume

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/store"
)

// Resource describes persistentvolumes.
var Resource = &store.Resource[*corev1.PersistentVolume]{
	Resource:   schema.GroupResource{Resource: "persistentvolumes"},
	Kind:       "PersistentVolume",
	ShortNames: []string{"pv"},
	HasStatus:  true,
	New:        func() *corev1.PersistentVolume { return &corev1.PersistentVolume{} },
	NewList:    func() runtime.Object { return &corev1.PersistentVolumeList{} },
	PrepareForCreate: func(_ context.Context, pv *corev1.PersistentVolume) {
		now := metav1.Now()
		pv.Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumePending, LastPhaseTransitionTime: &now}
	},
	Validate: func(_ context.Context, pv *corev1.PersistentVolume) field.ErrorList {
		var errs field.ErrorList
		spec := field.NewPath("spec")
		if len(pv.Spec.AccessModes) == 0 {
			errs = append(errs, field.Required(spec.Child("accessModes"), ""))
		}
		if _, ok := pv.Spec.Capacity[corev1.ResourceStorage]; !ok {
			errs = append(errs, field.Required(spec.Child("capacity"), ""))
		}
		if sourceCount(pv.Spec.PersistentVolumeSource) == 0 {
			errs = append(errs, field.Required(spec, "must specify a volume type"))
		}
		return errs
	},
	Fields: map[string]func(*corev1.PersistentVolume) string{
		"name": func(pv *corev1.PersistentVolume) string { return pv.Name },
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Capacity", Type: "string", Description: corev1.PersistentVolumeSpec{}.SwaggerDoc()["capacity"]},
		{Name: "Access Modes", Type: "string", Description: corev1.PersistentVolumeSpec{}.SwaggerDoc()["accessModes"]},
		{Name: "Reclaim Policy", Type: "string", Description: corev1.PersistentVolumeSpec{}.SwaggerDoc()["persistentVolumeReclaimPolicy"]},
		{Name: "Status", Type: "string", Description: corev1.PersistentVolumeStatus{}.SwaggerDoc()["phase"]},
		{Name: "Claim", Type: "string", Description: corev1.PersistentVolumeSpec{}.SwaggerDoc()["claimRef"]},
		{Name: "StorageClass", Type: "string", Description: "StorageClass of the pv"},
		{Name: "VolumeAttributesClass", Type: "string", Description: "VolumeAttributesClass of the pv"},
		{Name: "Reason", Type: "string", Description: corev1.PersistentVolumeStatus{}.SwaggerDoc()["reason"]},
		store.AgeColumn,
		{Name: "VolumeMode", Type: "string", Priority: 1, Description: corev1.PersistentVolumeSpec{}.SwaggerDoc()["volumeMode"]},
	},
	Row: func(pv *corev1.PersistentVolume) []any {
		claim := ""
		if pv.Spec.ClaimRef != nil {
			claim = pv.Spec.ClaimRef.Namespace + "/" + pv.Spec.ClaimRef.Name
		}
		q := pv.Spec.Capacity[corev1.ResourceStorage]
		vac := "<unset>"
		if pv.Spec.VolumeAttributesClassName != nil && *pv.Spec.VolumeAttributesClassName != "" {
			vac = *pv.Spec.VolumeAttributesClassName
		}
		mode := "<unset>"
		if pv.Spec.VolumeMode != nil {
			mode = string(*pv.Spec.VolumeMode)
		}
		return []any{pv.Name, q.String(), AccessModes(pv.Spec.AccessModes), string(pv.Spec.PersistentVolumeReclaimPolicy),
			string(pv.Status.Phase), claim, pv.Spec.StorageClassName, vac, pv.Status.Reason, store.Age(pv.CreationTimestamp), mode}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// AccessModes renders access modes in kubectl's short form (RWO,ROX,RWX,RWOP).
func AccessModes(modes []corev1.PersistentVolumeAccessMode) string {
	short := map[corev1.PersistentVolumeAccessMode]string{
		corev1.ReadWriteOnce: "RWO", corev1.ReadOnlyMany: "ROX", corev1.ReadWriteMany: "RWX", corev1.ReadWriteOncePod: "RWOP",
	}
	var out []string
	seen := map[string]bool{}
	for _, m := range modes {
		if s, ok := short[m]; ok && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return strings.Join(out, ",")
}

// sourceCount counts the volume sources set on a PV.
func sourceCount(s corev1.PersistentVolumeSource) int {
	n := 0
	for _, set := range []bool{s.GCEPersistentDisk != nil, s.AWSElasticBlockStore != nil, s.HostPath != nil, s.Glusterfs != nil,
		s.NFS != nil, s.RBD != nil, s.ISCSI != nil, s.Cinder != nil, s.CephFS != nil, s.FC != nil, s.Flocker != nil,
		s.FlexVolume != nil, s.AzureFile != nil, s.VsphereVolume != nil, s.Quobyte != nil, s.AzureDisk != nil,
		s.PhotonPersistentDisk != nil, s.PortworxVolume != nil, s.ScaleIO != nil, s.Local != nil, s.StorageOS != nil, s.CSI != nil} {
		if set {
			n++
		}
	}
	return n
}
