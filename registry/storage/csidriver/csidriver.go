// Package csidriver is the storage of storage.k8s.io/v1 CSIDrivers.
package csidriver

import (
	"context"
	"strings"
	"time"

	storagev1 "k8s.io/api/storage/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/store"
	"github.com/capstan-dev/capstan/registry/validate"
)

var no = false

// Resource describes csidrivers.
var Resource = &store.Resource[*storagev1.CSIDriver]{
	Resource:                 schema.GroupResource{Group: storagev1.GroupName, Resource: "csidrivers"},
	Kind:                     "CSIDriver",
	AllowUnconditionalUpdate: &no,
	New:                      func() *storagev1.CSIDriver { return &storagev1.CSIDriver{} },
	NewList:                  func() runtime.Object { return &storagev1.CSIDriverList{} },
	Validate: func(_ context.Context, d *storagev1.CSIDriver) field.ErrorList {
		return ValidateSpec(&d.Spec, field.NewPath("spec"))
	},
	ValidateUpdate: func(_ context.Context, d, old *storagev1.CSIDriver) field.ErrorList {
		errs := ValidateSpec(&d.Spec, field.NewPath("spec"))
		// Upstream's path for attachRequired is spelled "attachedRequired".
		errs = append(errs, apimachineryvalidation.ValidateImmutableField(d.Spec.AttachRequired, old.Spec.AttachRequired, field.NewPath("spec", "attachedRequired"))...)
		return append(errs, apimachineryvalidation.ValidateImmutableField(d.Spec.VolumeLifecycleModes, old.Spec.VolumeLifecycleModes, field.NewPath("spec", "volumeLifecycleModes"))...)
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "AttachRequired", Type: "boolean", Description: storagev1.CSIDriverSpec{}.SwaggerDoc()["attachRequired"]},
		{Name: "PodInfoOnMount", Type: "boolean", Description: storagev1.CSIDriverSpec{}.SwaggerDoc()["podInfoOnMount"]},
		{Name: "StorageCapacity", Type: "boolean", Description: storagev1.CSIDriverSpec{}.SwaggerDoc()["storageCapacity"]},
		{Name: "TokenRequests", Type: "string", Description: storagev1.CSIDriverSpec{}.SwaggerDoc()["tokenRequests"]},
		{Name: "RequiresRepublish", Type: "boolean", Description: storagev1.CSIDriverSpec{}.SwaggerDoc()["requiresRepublish"]},
		{Name: "Modes", Type: "string", Description: storagev1.CSIDriverSpec{}.SwaggerDoc()["volumeLifecycleModes"]},
		store.AgeColumn,
	},
	Row: func(d *storagev1.CSIDriver) []any {
		s := &d.Spec
		tokens := "<unset>"
		if s.TokenRequests != nil {
			var audiences []string
			for _, t := range s.TokenRequests {
				audiences = append(audiences, t.Audience)
			}
			tokens = strings.Join(audiences, ",")
		}
		var modes []string
		for _, m := range s.VolumeLifecycleModes {
			modes = append(modes, string(m))
		}
		modeList := strings.Join(modes, ",")
		if modeList == "" {
			modeList = "<none>"
		}
		return []any{d.Name, boolOr(s.AttachRequired, true), boolOr(s.PodInfoOnMount, false), boolOr(s.StorageCapacity, false),
			tokens, boolOr(s.RequiresRepublish, false), modeList, store.Age(d.CreationTimestamp)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// ValidateDriverName checks the name of a CSI driver as other objects refer
// to it: at most 63 characters, a DNS subdomain regardless of case.
func ValidateDriverName(name string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p, ""))
	}
	if len(name) > 63 {
		errs = append(errs, field.TooLong(p, name, 63))
	}
	errs = append(errs, validate.Invalid(p, name, validation.IsDNS1123Subdomain(strings.ToLower(name)))...)
	return errs
}

var (
	fsGroupPolicies = []storagev1.FSGroupPolicy{storagev1.FileFSGroupPolicy, storagev1.NoneFSGroupPolicy, storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy}
	lifecycleModes  = []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent, storagev1.VolumeLifecycleEphemeral}
)

// ValidateSpec checks the required booleans (all defaulted), the enums and
// the token requests.
func ValidateSpec(s *storagev1.CSIDriverSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	required := func(set bool, name string) {
		if !set {
			errs = append(errs, field.Required(p.Child(name), ""))
		}
	}
	required(s.AttachRequired != nil, "attachedRequired")
	required(s.PodInfoOnMount != nil, "podInfoOnMount")
	required(s.StorageCapacity != nil, "storageCapacity")
	if s.FSGroupPolicy != nil {
		switch *s.FSGroupPolicy {
		case storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy, storagev1.FileFSGroupPolicy, storagev1.NoneFSGroupPolicy:
		default:
			errs = append(errs, field.NotSupported(p.Child("fsGroupPolicy"), *s.FSGroupPolicy, fsGroupPolicies))
		}
	}
	audiences := map[string]bool{}
	for i, t := range s.TokenRequests {
		tp := p.Child("tokenRequests").Index(i)
		if audiences[t.Audience] {
			errs = append(errs, field.Duplicate(tp.Child("audience"), t.Audience))
			continue
		}
		audiences[t.Audience] = true
		if t.ExpirationSeconds == nil {
			continue
		}
		if *t.ExpirationSeconds < int64((10 * time.Minute).Seconds()) {
			errs = append(errs, field.Invalid(tp.Child("expirationSeconds"), *t.ExpirationSeconds, "may not specify a duration less than 10 minutes"))
		}
		if *t.ExpirationSeconds > 1<<32 {
			errs = append(errs, field.Invalid(tp.Child("expirationSeconds"), *t.ExpirationSeconds, "may not specify a duration larger than 2^32 seconds"))
		}
	}
	for _, m := range s.VolumeLifecycleModes {
		if m != storagev1.VolumeLifecyclePersistent && m != storagev1.VolumeLifecycleEphemeral {
			errs = append(errs, field.NotSupported(p.Child("volumeLifecycleModes"), m, lifecycleModes))
		}
	}
	// SELinuxMountReadWriteOncePod is on in 1.37, so seLinuxMount is defaulted and required.
	required(s.SELinuxMount != nil, "seLinuxMount")
	if s.NodeAllocatableUpdatePeriodSeconds != nil && *s.NodeAllocatableUpdatePeriodSeconds < 10 {
		errs = append(errs, field.Invalid(p.Child("nodeAllocatableUpdatePeriodSeconds"), *s.NodeAllocatableUpdatePeriodSeconds, "must be greater than or equal to 10 seconds"))
	}
	return errs
}
