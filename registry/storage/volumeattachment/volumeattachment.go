// Package volumeattachment is the storage of storage.k8s.io/v1 VolumeAttachments.
package volumeattachment

import (
	"context"
	"math"

	storagev1 "k8s.io/api/storage/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/storage/csidriver"
	"github.com/capstan-dev/capstan/registry/store"
	"github.com/capstan-dev/capstan/registry/validate"
)

// Limits on the status an attacher reports.
const (
	MaxMetadataSize     = 256 * (1 << 10)
	MaxErrorMessageSize = 1024
)

var no = false

// Resource describes volumeattachments.
var Resource = &store.Resource[*storagev1.VolumeAttachment]{
	Resource:                 schema.GroupResource{Group: storagev1.GroupName, Resource: "volumeattachments"},
	Kind:                     "VolumeAttachment",
	HasStatus:                true,
	AllowUnconditionalUpdate: &no,
	New:                      func() *storagev1.VolumeAttachment { return &storagev1.VolumeAttachment{} },
	NewList:                  func() runtime.Object { return &storagev1.VolumeAttachmentList{} },
	Validate: func(_ context.Context, va *storagev1.VolumeAttachment) field.ErrorList {
		errs := ValidateSpec(&va.Spec, field.NewPath("spec"))
		return append(errs, ValidateStatus(&va.Status, field.NewPath("status"))...)
	},
	ValidateUpdate: func(_ context.Context, va, old *storagev1.VolumeAttachment) field.ErrorList {
		errs := ValidateSpec(&va.Spec, field.NewPath("spec"))
		errs = append(errs, ValidateStatus(&va.Status, field.NewPath("status"))...)
		return append(errs, immutableSpec(va, old)...)
	},
	ValidateStatusUpdate: func(_ context.Context, va, _ *storagev1.VolumeAttachment) field.ErrorList {
		return ValidateStatus(&va.Status, field.NewPath("status"))
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Attacher", Type: "string", Format: "name", Description: storagev1.VolumeAttachmentSpec{}.SwaggerDoc()["attacher"]},
		{Name: "PV", Type: "string", Description: storagev1.VolumeAttachmentSource{}.SwaggerDoc()["persistentVolumeName"]},
		{Name: "Node", Type: "string", Description: storagev1.VolumeAttachmentSpec{}.SwaggerDoc()["nodeName"]},
		{Name: "Attached", Type: "boolean", Description: storagev1.VolumeAttachmentStatus{}.SwaggerDoc()["attached"]},
		store.AgeColumn,
	},
	Row: func(va *storagev1.VolumeAttachment) []any {
		pv := ""
		if va.Spec.Source.PersistentVolumeName != nil {
			pv = *va.Spec.Source.PersistentVolumeName
		}
		return []any{va.Name, va.Spec.Attacher, pv, va.Spec.NodeName, va.Status.Attached, store.Age(va.CreationTimestamp)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

func immutableSpec(va, old *storagev1.VolumeAttachment) field.ErrorList {
	if apiequality.Semantic.DeepEqual(va.Spec, old.Spec) {
		return nil
	}
	return field.ErrorList{field.Invalid(field.NewPath("spec"), va.Spec, apimachineryvalidation.FieldImmutableErrorMsg)}
}

// ValidateSpec checks the attacher (a CSI driver name), that the source
// names exactly one volume, and the node name.
func ValidateSpec(spec *storagev1.VolumeAttachmentSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.Attacher == "" {
		errs = append(errs, field.Required(p.Child("attacher"), ""))
	}
	sp := p.Child("source")
	src := spec.Source
	switch {
	case src.InlineVolumeSpec == nil && src.PersistentVolumeName == nil:
		errs = append(errs, field.Required(sp, "must specify exactly one of inlineVolumeSpec and persistentVolumeName"))
	case src.InlineVolumeSpec != nil && src.PersistentVolumeName != nil:
		errs = append(errs, field.Forbidden(sp, "must specify exactly one of inlineVolumeSpec and persistentVolumeName"))
	case src.PersistentVolumeName != nil && *src.PersistentVolumeName == "":
		errs = append(errs, field.Required(sp.Child("persistentVolumeName"), "must specify non empty persistentVolumeName"))
	}
	errs = append(errs, validate.Invalid(p.Child("nodeName"), spec.NodeName, apimachineryvalidation.NameIsDNSSubdomain(spec.NodeName, false))...)
	// The checks v1 added on top.
	if spec.Attacher != "" {
		errs = append(errs, csidriver.ValidateDriverName(spec.Attacher, p.Child("attacher"))...)
	}
	if pv := src.PersistentVolumeName; pv != nil && *pv != "" {
		errs = append(errs, validate.Invalid(sp.Child("persistentVolumeName"), *pv, apimachineryvalidation.NameIsDNSSubdomain(*pv, false))...)
	}
	return errs
}

// ValidateStatus bounds the attachment metadata and the error messages.
func ValidateStatus(s *storagev1.VolumeAttachmentStatus, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	size := 0
	for k, v := range s.AttachmentMetadata {
		size += len(k) + len(v)
	}
	if size > MaxMetadataSize {
		errs = append(errs, field.TooLong(p.Child("attachmentMetadata"), "", MaxMetadataSize))
	}
	errs = append(errs, validateError(s.AttachError, p.Child("attachError"))...)
	return append(errs, validateError(s.DetachError, p.Child("detachError"))...)
}

func validateError(e *storagev1.VolumeError, p *field.Path) field.ErrorList {
	if e == nil {
		return nil
	}
	var errs field.ErrorList
	if len(e.Message) > MaxErrorMessageSize {
		// Upstream reports the metadata limit here, and so does Capstan.
		errs = append(errs, field.TooLong(p.Child("message"), "", MaxMetadataSize))
	}
	if e.ErrorCode != nil && *e.ErrorCode < 0 {
		errs = append(errs, field.Invalid(p.Child("errorCode"), *e.ErrorCode, validation.InclusiveRangeError(0, math.MaxInt32)))
	}
	return errs
}
