// Package ipaddress is the storage of networking.k8s.io/v1 IPAddresses, the
// record of each allocated Service ClusterIP.
package ipaddress

import (
	"context"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/store"
	"github.com/capstan-dev/capstan/registry/validate"
)

// Resource describes ipaddresses.
var Resource = &store.Resource[*networkingv1.IPAddress]{
	Resource:   schema.GroupResource{Group: networkingv1.GroupName, Resource: "ipaddresses"},
	Kind:       "IPAddress",
	ShortNames: []string{"ip"},
	NameFunc:   ValidateName,
	New:        func() *networkingv1.IPAddress { return &networkingv1.IPAddress{} },
	NewList:    func() runtime.Object { return &networkingv1.IPAddressList{} },
	Validate:   func(_ context.Context, ip *networkingv1.IPAddress) field.ErrorList { return Validate(ip) },
	ValidateUpdate: func(_ context.Context, ip, old *networkingv1.IPAddress) field.ErrorList {
		errs := Validate(ip)
		return append(errs, apimachineryvalidation.ValidateImmutableField(ip.Spec.ParentRef, old.Spec.ParentRef, field.NewPath("spec", "parentRef"))...)
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "ParentRef", Type: "string", Description: networkingv1.IPAddressSpec{}.SwaggerDoc()["parentRef"]},
	},
	// Upstream's row carries an age cell its column list lacks; kubectl shows
	// only the defined columns.
	Row: func(ip *networkingv1.IPAddress) []any {
		return []any{ip.Name, ParentRefName(ip.Spec.ParentRef), store.Age(ip.CreationTimestamp)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// ValidateName accepts only an IP address in canonical form; IPAddresses
// have no generated names, so prefix changes nothing.
func ValidateName(name string, _ bool) []string {
	var msgs []string
	for _, err := range validation.IsValidIP(field.NewPath(""), name) {
		msgs = append(msgs, err.Detail)
	}
	return msgs
}

// Validate checks the parent reference, which is required.
func Validate(ip *networkingv1.IPAddress) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec", "parentRef")
	ref := ip.Spec.ParentRef
	if ref == nil {
		return append(errs, field.Required(p, ""))
	}
	// The core group of Services is "", so an empty group is allowed.
	if ref.Group != "" {
		errs = append(errs, validate.Invalid(p.Child("group"), ref.Group, validation.IsDNS1123Subdomain(ref.Group))...)
	}
	errs = append(errs, pathSegment(ref.Resource, true, p.Child("resource"))...)
	errs = append(errs, pathSegment(ref.Name, true, p.Child("name"))...)
	errs = append(errs, pathSegment(ref.Namespace, false, p.Child("namespace"))...)
	return errs
}

func pathSegment(v string, required bool, p *field.Path) field.ErrorList {
	if v == "" {
		if required {
			return field.ErrorList{field.Required(p, "")}
		}
		return nil
	}
	var errs field.ErrorList
	errs = append(errs, validate.Invalid(p, v, path.IsValidPathSegmentName(v))...)
	return errs
}

// ParentRefName renders a parent reference as group-qualified
// resource[/namespace]/name, or "<none>".
func ParentRefName(ref *networkingv1.ParentReference) string {
	if ref == nil {
		return "<none>"
	}
	s := strings.ToLower(schema.GroupResource{Group: ref.Group, Resource: ref.Resource}.String())
	if ref.Namespace != "" {
		s += "/" + ref.Namespace
	}
	return s + "/" + ref.Name
}
