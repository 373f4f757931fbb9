// Package endpointslice is the storage of discovery.k8s.io/v1 EndpointSlices.
package endpointslice

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/capstan-dev/capstan/registry/store"
	"github.com/capstan-dev/capstan/registry/validate"
)

// Limits upstream enforces on one slice.
const (
	MaxEndpoints      = 1000
	MaxAddresses      = 100
	MaxPorts          = 20000
	MaxTopologyLabels = 16
	MaxHints          = 8
)

// Controllers whose slices are not checked for non-standard IPs: they
// normalise addresses themselves.
var trustedManagers = map[string]bool{
	"endpointslice-controller.k8s.io":          true,
	"endpointslicemirroring-controller.k8s.io": true,
}

// Resource describes endpointslices.
var Resource = &store.Resource[*discoveryv1.EndpointSlice]{
	Resource:   schema.GroupResource{Group: discoveryv1.GroupName, Resource: "endpointslices"},
	Kind:       "EndpointSlice",
	Namespaced: true,
	New:        func() *discoveryv1.EndpointSlice { return &discoveryv1.EndpointSlice{} },
	NewList:    func() runtime.Object { return &discoveryv1.EndpointSliceList{} },
	PrepareForCreate: func(_ context.Context, es *discoveryv1.EndpointSlice) {
		es.Generation = 1
		dropDeprecatedTopology(nil, es)
	},
	PrepareForUpdate: func(_ context.Context, es, old *discoveryv1.EndpointSlice) {
		// Everything but metadata is spec here, and labels count as well
		// (they tie the slice to its service).
		es.Generation = old.Generation
		if !apiequality.Semantic.DeepEqual(content(es), content(old)) || !apiequality.Semantic.DeepEqual(es.Labels, old.Labels) {
			es.Generation = old.Generation + 1
		}
		dropDeprecatedTopology(old, es)
	},
	Validate: func(_ context.Context, es *discoveryv1.EndpointSlice) field.ErrorList { return Validate(es) },
	ValidateUpdate: func(_ context.Context, es, old *discoveryv1.EndpointSlice) field.ErrorList {
		errs := Validate(es)
		return append(errs, apimachineryvalidation.ValidateImmutableField(es.AddressType, old.AddressType, field.NewPath("addressType"))...)
	},
	WarningsOnCreate: func(_ context.Context, es *discoveryv1.EndpointSlice) []string {
		var w []string
		if es.AddressType == discoveryv1.AddressTypeFQDN {
			w = append(w, "spec.addressType: FQDN endpoints are deprecated")
		}
		return append(w, ipWarnings(es)...)
	},
	WarningsOnUpdate: func(_ context.Context, es, _ *discoveryv1.EndpointSlice) []string { return ipWarnings(es) },
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "AddressType", Type: "string", Description: discoveryv1.EndpointSlice{}.SwaggerDoc()["addressType"]},
		{Name: "Ports", Type: "string", Description: discoveryv1.EndpointSlice{}.SwaggerDoc()["ports"]},
		{Name: "Endpoints", Type: "string", Description: discoveryv1.EndpointSlice{}.SwaggerDoc()["endpoints"]},
		store.AgeColumn,
	},
	Row: func(es *discoveryv1.EndpointSlice) []any {
		return []any{es.Name, string(es.AddressType), FormatPorts(es.Ports), FormatEndpoints(es.Endpoints), store.Age(es.CreationTimestamp)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// content is the part of a slice that bumps its generation.
func content(es *discoveryv1.EndpointSlice) any {
	return []any{es.AddressType, es.Endpoints, es.Ports}
}

// dropDeprecatedTopology empties deprecatedTopology, which the v1 API does
// not accept, when the endpoints change; a hostname recorded there by an
// older client becomes nodeName if the previous slice already knew it.
func dropDeprecatedTopology(old, es *discoveryv1.EndpointSlice) {
	if old != nil && apiequality.Semantic.DeepEqual(old.Endpoints, es.Endpoints) {
		return
	}
	known := map[string]bool{}
	if old != nil {
		for _, ep := range old.Endpoints {
			if n := ep.DeprecatedTopology[corev1.LabelHostname]; n != "" {
				known[n] = true
			}
		}
	}
	for i := range es.Endpoints {
		ep := &es.Endpoints[i]
		if n, ok := ep.DeprecatedTopology[corev1.LabelHostname]; ok && ep.NodeName == nil && known[n] && len(apimachineryvalidation.NameIsDNSSubdomain(n, false)) == 0 {
			ep.NodeName = &n
		}
		ep.DeprecatedTopology = nil
	}
}

// Validate checks the address type, endpoints and ports.
func Validate(es *discoveryv1.EndpointSlice) field.ErrorList {
	errs := validateAddressType(es.AddressType)
	errs = append(errs, validateEndpoints(es.Endpoints, es.AddressType, field.NewPath("endpoints"))...)
	return append(errs, validatePorts(es.Ports, field.NewPath("ports"))...)
}

var addressTypes = []string{string(discoveryv1.AddressTypeFQDN), string(discoveryv1.AddressTypeIPv4), string(discoveryv1.AddressTypeIPv6)}

func validateAddressType(t discoveryv1.AddressType) field.ErrorList {
	p := field.NewPath("addressType")
	switch t {
	case "":
		return field.ErrorList{field.Required(p, "")}
	case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6, discoveryv1.AddressTypeFQDN:
		return nil
	}
	return field.ErrorList{field.NotSupported(p, t, addressTypes)}
}

func validateEndpoints(eps []discoveryv1.Endpoint, t discoveryv1.AddressType, p *field.Path) field.ErrorList {
	if len(eps) > MaxEndpoints {
		return field.ErrorList{field.TooMany(p, len(eps), MaxEndpoints)}
	}
	var errs field.ErrorList
	for i, ep := range eps {
		ip := p.Index(i)
		ap := ip.Child("addresses")
		if len(ep.Addresses) == 0 {
			errs = append(errs, field.Required(ap, "must contain at least 1 address"))
		} else if len(ep.Addresses) > MaxAddresses {
			errs = append(errs, field.TooMany(ap, len(ep.Addresses), MaxAddresses))
		}
		for j, a := range ep.Addresses {
			errs = append(errs, validateAddress(a, t, ap.Index(j))...)
		}
		if ep.NodeName != nil {
			errs = append(errs, validate.Invalid(ip.Child("nodeName"), *ep.NodeName, apimachineryvalidation.NameIsDNSSubdomain(*ep.NodeName, false))...)
		}
		tp := ip.Child("deprecatedTopology")
		if len(ep.DeprecatedTopology) > MaxTopologyLabels {
			errs = append(errs, field.TooMany(tp, len(ep.DeprecatedTopology), MaxTopologyLabels))
		}
		errs = append(errs, metav1validation.ValidateLabels(ep.DeprecatedTopology, tp)...)
		if ep.Hostname != nil {
			errs = append(errs, validate.Invalid(ip.Child("hostname"), *ep.Hostname, validation.IsDNS1123Label(*ep.Hostname))...)
		}
		if ep.Hints != nil {
			errs = append(errs, validateHints(ep.Hints, ip.Child("hints"))...)
		}
	}
	return errs
}

// validateAddress checks one address against the slice's type; unknown
// types were reported already and are not checked further.
func validateAddress(a string, t discoveryv1.AddressType, p *field.Path) field.ErrorList {
	switch t {
	case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6:
		if errs := validation.IsValidIPForLegacyField(p, a, false, nil); len(errs) > 0 {
			return errs
		}
		var errs field.ErrorList
		if t == discoveryv1.AddressTypeIPv4 && !netutils.IsIPv4String(a) {
			errs = append(errs, field.Invalid(p, a, "must be an IPv4 address"))
		}
		if t == discoveryv1.AddressTypeIPv6 && !netutils.IsIPv6String(a) {
			errs = append(errs, field.Invalid(p, a, "must be an IPv6 address"))
		}
		return append(errs, ValidateEndpointIP(a, p)...)
	case discoveryv1.AddressTypeFQDN:
		return validation.IsFullyQualifiedDomainName(p, a)
	}
	return nil
}

// ValidateEndpointIP rejects addresses that make no sense as a destination:
// unspecified, loopback and link-local ones.
func ValidateEndpointIP(a string, p *field.Path) field.ErrorList {
	ip := netutils.ParseIPSloppy(a)
	if ip == nil {
		return field.ErrorList{field.Invalid(p, a, "must be a valid IP address")}
	}
	var errs field.ErrorList
	if ip.IsUnspecified() {
		errs = append(errs, field.Invalid(p, a, fmt.Sprintf("may not be unspecified (%v)", a)))
	}
	if ip.IsLoopback() {
		errs = append(errs, field.Invalid(p, a, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
	}
	if ip.IsLinkLocalUnicast() {
		errs = append(errs, field.Invalid(p, a, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
	}
	if ip.IsLinkLocalMulticast() {
		errs = append(errs, field.Invalid(p, a, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
	}
	return errs
}

var protocols = []string{string(corev1.ProtocolSCTP), string(corev1.ProtocolTCP), string(corev1.ProtocolUDP)}

func validatePorts(ports []discoveryv1.EndpointPort, p *field.Path) field.ErrorList {
	if len(ports) > MaxPorts {
		return field.ErrorList{field.TooMany(p, len(ports), MaxPorts)}
	}
	var errs field.ErrorList
	names := map[string]bool{}
	for i, port := range ports {
		ip := p.Index(i)
		name := ""
		if port.Name != nil {
			name = *port.Name
		}
		if name != "" {
			errs = append(errs, validate.Invalid(ip.Child("name"), name, validation.IsDNS1123Label(name))...)
		}
		if names[name] {
			errs = append(errs, field.Duplicate(ip.Child("name"), name))
		}
		names[name] = true
		switch {
		case port.Protocol == nil:
			errs = append(errs, field.Required(ip.Child("protocol"), ""))
		case *port.Protocol != corev1.ProtocolTCP && *port.Protocol != corev1.ProtocolUDP && *port.Protocol != corev1.ProtocolSCTP:
			errs = append(errs, field.NotSupported(ip.Child("protocol"), *port.Protocol, protocols))
		}
		if port.AppProtocol != nil {
			errs = append(errs, validate.Invalid(ip.Child("appProtocol"), *port.AppProtocol, validation.IsQualifiedName(*port.AppProtocol))...)
		}
	}
	return errs
}

func validateHints(h *discoveryv1.EndpointHints, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	zp := p.Child("forZones")
	if len(h.ForZones) > MaxHints {
		return field.ErrorList{field.TooMany(zp, len(h.ForZones), MaxHints)}
	}
	zones := map[string]bool{}
	for i, z := range h.ForZones {
		np := zp.Index(i).Child("name")
		if zones[z.Name] {
			errs = append(errs, field.Duplicate(np, z.Name))
		}
		zones[z.Name] = true
		errs = append(errs, validate.Invalid(np, z.Name, validation.IsValidLabelValue(z.Name))...)
	}
	np := p.Child("forNodes")
	if len(h.ForNodes) > MaxHints {
		return append(errs, field.TooMany(np, len(h.ForNodes), MaxHints))
	}
	nodes := map[string]bool{}
	for i, n := range h.ForNodes {
		fp := np.Index(i).Child("name")
		if nodes[n.Name] {
			errs = append(errs, field.Duplicate(fp, n.Name))
		}
		nodes[n.Name] = true
		errs = append(errs, validate.Invalid(fp, n.Name, apimachineryvalidation.NameIsDNSSubdomain(n.Name, false))...)
	}
	return errs
}

// ipWarnings flags IPs in non-standard forms, except in slices the
// built-in controllers manage.
func ipWarnings(es *discoveryv1.EndpointSlice) []string {
	if trustedManagers[es.Labels[discoveryv1.LabelManagedBy]] {
		return nil
	}
	if es.AddressType != discoveryv1.AddressTypeIPv4 && es.AddressType != discoveryv1.AddressTypeIPv6 {
		return nil
	}
	var w []string
	for i, ep := range es.Endpoints {
		for j, a := range ep.Addresses {
			if netutils.ParseIPSloppy(a) == nil {
				continue
			}
			w = append(w, validation.GetWarningsForIP(field.NewPath("endpoints").Index(i).Child("addresses").Index(j), a)...)
		}
	}
	return w
}

// FormatPorts lists up to three ports (number, else name, else "*").
func FormatPorts(ports []discoveryv1.EndpointPort) string {
	var list []string
	for _, p := range ports {
		switch {
		case p.Port != nil:
			list = append(list, strconv.Itoa(int(*p.Port)))
		case p.Name != nil:
			list = append(list, *p.Name)
		default:
			list = append(list, "*")
		}
	}
	return withMore(list, 3)
}

// FormatEndpoints lists up to three addresses.
func FormatEndpoints(eps []discoveryv1.Endpoint) string {
	var list []string
	for _, ep := range eps {
		list = append(list, ep.Addresses...)
	}
	return withMore(list, 3)
}

func withMore(list []string, max int) string {
	if len(list) > max {
		return fmt.Sprintf("%s + %d more...", strings.Join(list[:max], ","), len(list)-max)
	}
	if len(list) == 0 {
		return "<unset>"
	}
	return strings.Join(list, ",")
}
