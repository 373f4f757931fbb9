// Package storageclass is the storage of storage.k8s.io/v1 StorageClasses.
package storageclass

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/capstan-dev/capstan/registry/store"
	"github.com/capstan-dev/capstan/registry/validate"
)

// Annotations that make a class the default one.
const (
	DefaultAnnotation     = "storageclass.kubernetes.io/is-default-class"
	BetaDefaultAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
)

// Limits on provisioner parameters.
const (
	MaxParameters    = 512
	MaxParameterSize = 256 * (1 << 10)
)

// Resource describes storageclasses.
var Resource = &store.Resource[*storagev1.StorageClass]{
	Resource:   schema.GroupResource{Group: storagev1.GroupName, Resource: "storageclasses"},
	Kind:       "StorageClass",
	ShortNames: []string{"sc"},
	New:        func() *storagev1.StorageClass { return &storagev1.StorageClass{} },
	NewList:    func() runtime.Object { return &storagev1.StorageClassList{} },
	Validate:   func(_ context.Context, sc *storagev1.StorageClass) field.ErrorList { return Validate(sc) },
	ValidateUpdate: func(_ context.Context, sc, old *storagev1.StorageClass) field.ErrorList {
		return append(Validate(sc), ValidateUpdate(sc, old)...)
	},
	WarningsOnCreate: func(_ context.Context, sc *storagev1.StorageClass) []string { return Warnings(sc) },
	WarningsOnUpdate: func(_ context.Context, sc, _ *storagev1.StorageClass) []string { return Warnings(sc) },
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Provisioner", Type: "string", Description: storagev1.StorageClass{}.SwaggerDoc()["provisioner"]},
		{Name: "ReclaimPolicy", Type: "string", Description: storagev1.StorageClass{}.SwaggerDoc()["reclaimPolicy"]},
		{Name: "VolumeBindingMode", Type: "string", Description: storagev1.StorageClass{}.SwaggerDoc()["volumeBindingMode"]},
		{Name: "AllowVolumeExpansion", Type: "string", Description: storagev1.StorageClass{}.SwaggerDoc()["allowVolumeExpansion"]},
		store.AgeColumn,
	},
	Row: func(sc *storagev1.StorageClass) []any {
		name := sc.Name
		if IsDefault(sc) {
			name += defaultSuffix
		}
		reclaim := string(corev1.PersistentVolumeReclaimDelete)
		if sc.ReclaimPolicy != nil {
			reclaim = string(*sc.ReclaimPolicy)
		}
		binding := string(storagev1.VolumeBindingImmediate)
		if sc.VolumeBindingMode != nil {
			binding = string(*sc.VolumeBindingMode)
		}
		expansion := sc.AllowVolumeExpansion != nil && *sc.AllowVolumeExpansion
		return []any{name, sc.Provisioner, reclaim, binding, expansion, store.Age(sc.CreationTimestamp)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

const defaultSuffix = " (default)"

// IsDefault reports whether sc carries a default-class annotation.
func IsDefault(sc *storagev1.StorageClass) bool {
	return sc.Annotations[DefaultAnnotation] == "true" || sc.Annotations[BetaDefaultAnnotation] == "true"
}

// Validate checks the provisioner, parameters, reclaim policy, binding mode
// and allowed topologies.
func Validate(sc *storagev1.StorageClass) field.ErrorList {
	errs := ValidateProvisioner(sc.Provisioner, field.NewPath("provisioner"))
	errs = append(errs, ValidateParameters(sc.Parameters, true, field.NewPath("parameters"))...)
	if sc.ReclaimPolicy != nil && *sc.ReclaimPolicy != "" &&
		*sc.ReclaimPolicy != corev1.PersistentVolumeReclaimDelete && *sc.ReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
		errs = append(errs, field.NotSupported(field.NewPath("reclaimPolicy"), *sc.ReclaimPolicy,
			[]corev1.PersistentVolumeReclaimPolicy{corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRetain}))
	}
	bp := field.NewPath("volumeBindingMode")
	switch {
	case sc.VolumeBindingMode == nil:
		errs = append(errs, field.Required(bp, ""))
	case *sc.VolumeBindingMode != storagev1.VolumeBindingImmediate && *sc.VolumeBindingMode != storagev1.VolumeBindingWaitForFirstConsumer:
		errs = append(errs, field.NotSupported(bp, *sc.VolumeBindingMode,
			[]storagev1.VolumeBindingMode{storagev1.VolumeBindingImmediate, storagev1.VolumeBindingWaitForFirstConsumer}))
	}
	return append(errs, validateTopologies(sc.AllowedTopologies, field.NewPath("allowedTopologies"))...)
}

// ValidateUpdate forbids changing what provisioning depends on.
func ValidateUpdate(sc, old *storagev1.StorageClass) field.ErrorList {
	var errs field.ErrorList
	if !reflect.DeepEqual(old.Parameters, sc.Parameters) {
		errs = append(errs, field.Forbidden(field.NewPath("parameters"), "updates to parameters are forbidden."))
	}
	if sc.Provisioner != old.Provisioner {
		errs = append(errs, field.Forbidden(field.NewPath("provisioner"), "updates to provisioner are forbidden."))
	}
	if !reflect.DeepEqual(sc.ReclaimPolicy, old.ReclaimPolicy) {
		errs = append(errs, field.Forbidden(field.NewPath("reclaimPolicy"), "updates to reclaimPolicy are forbidden."))
	}
	return append(errs, apimachineryvalidation.ValidateImmutableField(sc.VolumeBindingMode, old.VolumeBindingMode, field.NewPath("volumeBindingMode"))...)
}

// ValidateProvisioner requires a qualified name (compared case-insensitively).
func ValidateProvisioner(provisioner string, p *field.Path) field.ErrorList {
	if provisioner == "" {
		return field.ErrorList{field.Required(p, provisioner)}
	}
	var errs field.ErrorList
	errs = append(errs, validate.Invalid(p, strings.ToLower(provisioner), validation.IsQualifiedName(strings.ToLower(provisioner)))...)
	return errs
}

// ValidateParameters bounds the number and total size of parameters and
// rejects empty keys; allowEmpty tells whether no parameters at all is fine.
func ValidateParameters(params map[string]string, allowEmpty bool, p *field.Path) field.ErrorList {
	if len(params) > MaxParameters {
		return field.ErrorList{field.TooLong(p, "", MaxParameters)}
	}
	var errs field.ErrorList
	size := 0
	for k, v := range params {
		if k == "" {
			errs = append(errs, field.Invalid(p, k, "field can not be empty."))
		}
		size += len(k) + len(v)
	}
	if size > MaxParameterSize {
		errs = append(errs, field.TooLong(p, "", MaxParameterSize))
	}
	if !allowEmpty && len(params) == 0 {
		errs = append(errs, field.Required(p, "must contain at least one key/value pair"))
	}
	return errs
}

func validateTopologies(terms []corev1.TopologySelectorTerm, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	var seen []map[string]map[string]bool
	for i, term := range terms {
		tp := p.Index(i)
		exprs := map[string]map[string]bool{}
		for j, req := range term.MatchLabelExpressions {
			ep := tp.Child("matchLabelExpressions").Index(j)
			vp := ep.Child("values")
			if len(req.Values) == 0 {
				errs = append(errs, field.Required(vp, ""))
			}
			values := map[string]bool{}
			for k, v := range req.Values {
				if values[v] {
					errs = append(errs, field.Duplicate(vp.Index(k), v))
				}
				values[v] = true
			}
			errs = append(errs, metav1validation.ValidateLabelName(req.Key, ep.Child("key"))...)
			if _, dup := exprs[req.Key]; dup {
				errs = append(errs, field.Duplicate(ep.Child("key"), req.Key))
			}
			exprs[req.Key] = values
		}
		for _, other := range seen {
			if reflect.DeepEqual(exprs, other) {
				errs = append(errs, field.Duplicate(tp.Child("matchLabelExpressions"), ""))
			}
		}
		seen = append(seen, exprs)
	}
	return errs
}

var deprecatedNodeLabels = map[string]string{
	"beta.kubernetes.io/arch":                  `deprecated since v1.14; use "kubernetes.io/arch" instead`,
	"beta.kubernetes.io/os":                    `deprecated since v1.14; use "kubernetes.io/os" instead`,
	"failure-domain.beta.kubernetes.io/region": `deprecated since v1.17; use "topology.kubernetes.io/region" instead`,
	"failure-domain.beta.kubernetes.io/zone":   `deprecated since v1.17; use "topology.kubernetes.io/zone" instead`,
	"beta.kubernetes.io/instance-type":         `deprecated since v1.17; use "node.kubernetes.io/instance-type" instead`,
}

// DeprecatedNodeLabel tells whether key is a deprecated node label, and what
// to use instead.
func DeprecatedNodeLabel(key string) (string, bool) {
	msg, ok := deprecatedNodeLabels[key]
	return msg, ok
}

// Warnings flags deprecated node labels in allowedTopologies.
func Warnings(sc *storagev1.StorageClass) []string {
	var w []string
	for i, term := range sc.AllowedTopologies {
		for j, req := range term.MatchLabelExpressions {
			if msg, ok := deprecatedNodeLabels[req.Key]; ok {
				p := field.NewPath("allowedTopologies").Index(i).Child("matchLabelExpressions").Index(j).Child("key")
				w = append(w, fmt.Sprintf("%s: %s", p, msg))
			}
		}
	}
	return w
}

// NewStorage builds the storageclass storage, whose table marks only the
// effective default: of several annotated classes, the newest (then the
// first by name) is the one new claims get.
func NewStorage(opts generic.RESTOptionsGetter) (*store.Storage, error) {
	s, err := store.New(Resource, opts)
	if err != nil {
		return nil, err
	}
	s.REST.Store.TableConvertor = tableConvertor{inner: s.REST.Store.TableConvertor, lister: s.REST.Store}
	return s, nil
}

type tableConvertor struct {
	inner  rest.TableConvertor
	lister rest.Lister
}

func (c tableConvertor) ConvertToTable(ctx context.Context, obj runtime.Object, opts runtime.Object) (*metav1.Table, error) {
	table, err := c.inner.ConvertToTable(ctx, obj, opts)
	if err != nil {
		return nil, err
	}
	var all []storagev1.StorageClass
	switch o := obj.(type) {
	case *storagev1.StorageClassList:
		all = o.Items
	case *storagev1.StorageClass:
		list, err := c.lister.List(ctx, &metainternalversion.ListOptions{})
		if err != nil {
			return table, nil // keep the per-object annotation
		}
		all = list.(*storagev1.StorageClassList).Items
	default:
		return table, nil
	}
	MarkEffectiveDefault(table, EffectiveDefault(all))
	return table, nil
}

// EffectiveDefault names the default class among all, "" when none.
func EffectiveDefault(all []storagev1.StorageClass) string {
	var defaults []*storagev1.StorageClass
	for i := range all {
		if IsDefault(&all[i]) {
			defaults = append(defaults, &all[i])
		}
	}
	if len(defaults) == 0 {
		return ""
	}
	sort.Slice(defaults, func(i, j int) bool {
		a, b := defaults[i].CreationTimestamp.UnixNano(), defaults[j].CreationTimestamp.UnixNano()
		if a == b {
			return defaults[i].Name < defaults[j].Name
		}
		return a > b
	})
	return defaults[0].Name
}

// MarkEffectiveDefault rewrites the name cells so that only name carries
// the " (default)" suffix.
func MarkEffectiveDefault(table *metav1.Table, name string) {
	for i := range table.Rows {
		cells := table.Rows[i].Cells
		if len(cells) == 0 {
			continue
		}
		s, ok := cells[0].(string)
		if !ok {
			continue
		}
		s = strings.TrimSuffix(s, defaultSuffix)
		if s == name {
			s += defaultSuffix
		}
		cells[0] = s
	}
}
