// Package runtimeclass is the storage of node.k8s.io/v1 RuntimeClasses.
package runtimeclass

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/storage/storageclass"
	"github.com/capstan-dev/capstan/registry/store"
	"github.com/capstan-dev/capstan/registry/validate"
)

var no = false

// Resource describes runtimeclasses. As upstream, PUT may create one and an
// update must name the version it read.
var Resource = &store.Resource[*nodev1.RuntimeClass]{
	Resource:                 schema.GroupResource{Group: nodev1.GroupName, Resource: "runtimeclasses"},
	Kind:                     "RuntimeClass",
	AllowCreateOnUpdate:      true,
	AllowUnconditionalUpdate: &no,
	New:                      func() *nodev1.RuntimeClass { return &nodev1.RuntimeClass{} },
	NewList:                  func() runtime.Object { return &nodev1.RuntimeClassList{} },
	Validate:                 func(_ context.Context, rc *nodev1.RuntimeClass) field.ErrorList { return Validate(rc) },
	ValidateUpdate: func(_ context.Context, rc, old *nodev1.RuntimeClass) field.ErrorList {
		errs := Validate(rc)
		return append(errs, apimachineryvalidation.ValidateImmutableField(rc.Handler, old.Handler, field.NewPath("handler"))...)
	},
	WarningsOnCreate: func(_ context.Context, rc *nodev1.RuntimeClass) []string { return Warnings(rc) },
	WarningsOnUpdate: func(_ context.Context, rc, _ *nodev1.RuntimeClass) []string { return Warnings(rc) },
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Handler", Type: "string", Description: nodev1.RuntimeClass{}.SwaggerDoc()["handler"]},
		store.AgeColumn,
	},
	Row: func(rc *nodev1.RuntimeClass) []any {
		return []any{rc.Name, rc.Handler, store.Age(rc.CreationTimestamp)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// Validate checks the handler (a DNS label), the overhead and the scheduling constraints.
func Validate(rc *nodev1.RuntimeClass) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validate.Invalid(field.NewPath("handler"), rc.Handler, apimachineryvalidation.NameIsDNSLabel(rc.Handler, false))...)
	if rc.Overhead != nil {
		// Upstream checks the overhead as a container's limits, and reports it so.
		errs = append(errs, validateLimits(rc.Overhead.PodFixed, field.NewPath("overhead", "limits"))...)
	}
	if s := rc.Scheduling; s != nil {
		p := field.NewPath("scheduling")
		errs = append(errs, metav1validation.ValidateLabels(s.NodeSelector, p.Child("nodeSelector"))...)
		errs = append(errs, validateTolerations(s.Tolerations, p.Child("tolerations"))...)
	}
	return errs
}

func isStandardContainerResource(name corev1.ResourceName) bool {
	switch name {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
		return true
	}
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

func validateLimits(limits corev1.ResourceList, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for name, q := range limits {
		kp := p.Key(string(name))
		errs = append(errs, validate.Invalid(kp, name, validation.IsQualifiedName(string(name)))...)
		native := !strings.Contains(string(name), "/") || strings.Contains(string(name), corev1.ResourceDefaultNamespacePrefix)
		if !strings.Contains(string(name), "/") {
			if !isStandardContainerResource(name) {
				errs = append(errs, field.Invalid(kp, name, "must be a standard resource for containers"))
			}
		} else if !native && strings.HasPrefix(string(name), "requests.") {
			errs = append(errs, field.Invalid(kp, name, "doesn't follow extended resource name standard"))
		}
		errs = append(errs, validateQuantity(name, q, native, kp)...)
	}
	return errs
}

func validateQuantity(name corev1.ResourceName, q resource.Quantity, native bool, p *field.Path) field.ErrorList {
	if q.Sign() < 0 {
		return field.ErrorList{field.Invalid(p, q.String(), apimachineryvalidation.IsNegativeErrorMsg)}
	}
	// Extended resources are counted in whole units.
	if !native && q.MilliValue()%1000 != 0 {
		return field.ErrorList{field.Invalid(p, q.String(), "must be an integer")}
	}
	return nil
}

var (
	operators = []corev1.TolerationOperator{corev1.TolerationOpEqual, corev1.TolerationOpExists}
	effects   = []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute}
)

func validateTolerations(ts []corev1.Toleration, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[corev1.Toleration]bool{}
	for i, t := range ts {
		ip := p.Index(i)
		if t.Key != "" {
			errs = append(errs, metav1validation.ValidateLabelName(t.Key, ip.Child("key"))...)
		}
		if t.Key == "" && t.Operator != corev1.TolerationOpExists {
			errs = append(errs, field.Invalid(ip.Child("operator"), t.Operator,
				"operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
			errs = append(errs, field.Invalid(ip.Child("effect"), t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
		}
		switch t.Operator {
		case corev1.TolerationOpEqual, "":
			if msgs := validation.IsValidLabelValue(t.Value); len(msgs) > 0 {
				errs = append(errs, field.Invalid(ip.Child("operator"), t.Value, strings.Join(msgs, ";")))
			}
		case corev1.TolerationOpExists:
			if t.Value != "" {
				errs = append(errs, field.Invalid(ip.Child("operator"), t, "value must be empty when `operator` is 'Exists'"))
			}
		default:
			errs = append(errs, field.NotSupported(ip.Child("operator"), t.Operator, operators))
		}
		if t.Effect != "" && t.Effect != corev1.TaintEffectNoSchedule && t.Effect != corev1.TaintEffectPreferNoSchedule && t.Effect != corev1.TaintEffectNoExecute {
			errs = append(errs, field.NotSupported(ip.Child("effect"), t.Effect, effects))
		}
		key := corev1.Toleration{Key: t.Key, Operator: t.Operator, Value: t.Value, Effect: t.Effect}
		if seen[key] {
			errs = append(errs, field.Duplicate(ip, t))
		}
		seen[key] = true
	}
	return errs
}

// Warnings flags deprecated node labels in the node selector.
func Warnings(rc *nodev1.RuntimeClass) []string {
	if rc.Scheduling == nil {
		return nil
	}
	keys := make([]string, 0, len(rc.Scheduling.NodeSelector))
	for k := range rc.Scheduling.NodeSelector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var w []string
	for _, k := range keys {
		if msg, ok := storageclass.DeprecatedNodeLabel(k); ok {
			w = append(w, fmt.Sprintf("%s: %s", field.NewPath("scheduling", "nodeSelector"), msg))
		}
	}
	return w
}
