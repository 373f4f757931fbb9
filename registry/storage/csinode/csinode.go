// Package csinode is the storage of storage.k8s.io/v1 CSINodes, with the
// status subresource 1.37 adds for storage health reports.
package csinode

import (
	"context"
	"fmt"

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

// Limits on CSINode contents.
const (
	MaxNodeIDLength        = 256
	MaxHealthConditions    = 16
	MaxHealthReasonLength  = 256
	MaxHealthMessageLength = 1024
)

var no = false

// Resource describes csinodes.
var Resource = &store.Resource[*storagev1.CSINode]{
	Resource:                 schema.GroupResource{Group: storagev1.GroupName, Resource: "csinodes"},
	Kind:                     "CSINode",
	HasStatus:                true,
	AllowUnconditionalUpdate: &no,
	New:                      func() *storagev1.CSINode { return &storagev1.CSINode{} },
	NewList:                  func() runtime.Object { return &storagev1.CSINodeList{} },
	Validate: func(_ context.Context, n *storagev1.CSINode) field.ErrorList {
		return ValidateSpec(&n.Spec, field.NewPath("spec"))
	},
	ValidateUpdate: func(_ context.Context, n, old *storagev1.CSINode) field.ErrorList {
		return append(ValidateSpec(&n.Spec, field.NewPath("spec")), ValidateSpecUpdate(&n.Spec, &old.Spec)...)
	},
	// storageHealth belongs to CSIVolumeHealth, an alpha gate that is off:
	// it is dropped unless already stored.
	PrepareForStatusUpdate: func(_ context.Context, n, old *storagev1.CSINode) {
		if len(old.Status.StorageHealth) == 0 {
			n.Status.StorageHealth = nil
		}
	},
	ValidateStatusUpdate: func(_ context.Context, n, _ *storagev1.CSINode) field.ErrorList {
		return ValidateStatus(&n.Status, field.NewPath("status"))
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Drivers", Type: "integer", Description: "Drivers indicates the number of CSI drivers registered on the node"},
		store.AgeColumn,
	},
	Row: func(n *storagev1.CSINode) []any {
		return []any{n.Name, int64(len(n.Spec.Drivers)), store.Age(n.CreationTimestamp)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// ValidateSpec checks every driver: a valid unique name, a node ID, a
// non-negative volume count and unique qualified topology keys.
func ValidateSpec(spec *storagev1.CSINodeSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, d := range spec.Drivers {
		dp := p.Child("drivers").Index(i)
		errs = append(errs, csidriver.ValidateDriverName(d.Name, dp.Child("name"))...)
		if d.NodeID == "" {
			errs = append(errs, field.Required(dp.Child("nodeID"), d.NodeID))
		}
		if len(d.NodeID) > MaxNodeIDLength {
			errs = append(errs, field.Invalid(dp.Child("nodeID"), d.NodeID, fmt.Sprintf("must be %d characters or less", MaxNodeIDLength)))
		}
		if d.Allocatable != nil && d.Allocatable.Count != nil {
			errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(*d.Allocatable.Count), dp.Child("allocatable", "count"))...)
		}
		if names[d.Name] {
			errs = append(errs, field.Duplicate(dp.Child("name"), d.Name))
		}
		names[d.Name] = true
		keys := map[string]bool{}
		for _, k := range d.TopologyKeys {
			if k == "" {
				errs = append(errs, field.Required(dp, k))
			}
			if keys[k] {
				errs = append(errs, field.Duplicate(dp, k))
			}
			keys[k] = true
			errs = append(errs, validate.Invalid(dp, k, validation.IsQualifiedName(k))...)
		}
	}
	return errs
}

// ValidateSpecUpdate keeps each registered driver as it is, apart from its
// allocatable count (MutableCSINodeAllocatableCount is on in 1.37).
func ValidateSpecUpdate(spec, old *storagev1.CSINodeSpec) field.ErrorList {
	var errs field.ErrorList
	for _, o := range old.Drivers {
		for _, n := range spec.Drivers {
			if o.Name != n.Name {
				continue
			}
			o, n := o, n
			o.Allocatable, n.Allocatable = nil, nil
			if !apiequality.Semantic.DeepEqual(o, n) {
				errs = append(errs, field.Invalid(field.NewPath("spec", "drivers"), n, apimachineryvalidation.FieldImmutableErrorMsg))
			}
		}
	}
	return errs
}

var healthStatuses = []storagev1.StorageHealthStatusType{storagev1.StorageDegraded, storagev1.StorageUnreachable}

// ValidateStatus checks the storage health reports.
func ValidateStatus(s *storagev1.CSINodeStatus, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, h := range s.StorageHealth {
		hp := p.Child("storageHealth").Index(i)
		errs = append(errs, csidriver.ValidateDriverName(h.Name, hp.Child("name"))...)
		if names[h.Name] {
			errs = append(errs, field.Duplicate(hp.Child("name"), h.Name))
		}
		names[h.Name] = true
		cp := hp.Child("healthConditions")
		if len(h.HealthConditions) > MaxHealthConditions {
			errs = append(errs, field.TooMany(cp, len(h.HealthConditions), MaxHealthConditions))
			continue
		}
		for j, c := range h.HealthConditions {
			ip := cp.Index(j)
			switch c.Status {
			case storagev1.StorageUnreachable, storagev1.StorageDegraded:
			case "":
				errs = append(errs, field.Required(ip.Child("status"), ""))
			default:
				errs = append(errs, field.NotSupported(ip.Child("status"), c.Status, healthStatuses))
			}
			if c.Reason == "" {
				errs = append(errs, field.Required(ip.Child("reason"), ""))
			} else if len(c.Reason) > MaxHealthReasonLength {
				errs = append(errs, field.TooLong(ip.Child("reason"), "", MaxHealthReasonLength))
			}
			if len(c.Message) > MaxHealthMessageLength {
				errs = append(errs, field.TooLong(ip.Child("message"), "", MaxHealthMessageLength))
			}
		}
	}
	return errs
}
