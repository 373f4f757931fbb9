// Package ingress is the storage of networking.k8s.io/v1 Ingresses.
package ingress

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/capstan-dev/capstan/registry/store"
	"github.com/capstan-dev/capstan/registry/validate"
)

// ClassAnnotation is the deprecated way of naming an Ingress's class.
const ClassAnnotation = "kubernetes.io/ingress.class"

// Resource describes ingresses.
var Resource = &store.Resource[*networkingv1.Ingress]{
	Resource:   schema.GroupResource{Group: networkingv1.GroupName, Resource: "ingresses"},
	Kind:       "Ingress",
	Namespaced: true,
	ShortNames: []string{"ing"},
	HasStatus:  true,
	Generation: true,
	New:        func() *networkingv1.Ingress { return &networkingv1.Ingress{} },
	NewList:    func() runtime.Object { return &networkingv1.IngressList{} },
	Validate: func(_ context.Context, ing *networkingv1.Ingress) field.ErrorList {
		errs := ValidateSpec(&ing.Spec, Options{}, field.NewPath("spec"))
		if v, ok := ing.Annotations[ClassAnnotation]; ok && ing.Spec.IngressClassName != nil && v != *ing.Spec.IngressClassName {
			errs = append(errs, field.Invalid(field.NewPath("annotations").Child(ClassAnnotation), v, "must match `ingressClassName` when both are specified"))
		}
		return errs
	},
	ValidateUpdate: func(_ context.Context, ing, old *networkingv1.Ingress) field.ErrorList {
		return ValidateSpec(&ing.Spec, OptionsFor(old), field.NewPath("spec"))
	},
	WarningsOnCreate: func(_ context.Context, ing *networkingv1.Ingress) []string {
		if _, ok := ing.Annotations[ClassAnnotation]; ok && ing.Spec.IngressClassName == nil {
			return []string{fmt.Sprintf("annotation %q is deprecated, please use 'spec.ingressClassName' instead", ClassAnnotation)}
		}
		return nil
	},
	ValidateStatusUpdate: func(_ context.Context, ing, _ *networkingv1.Ingress) field.ErrorList {
		return ValidateLoadBalancerStatus(&ing.Status.LoadBalancer, field.NewPath("status", "loadBalancer"))
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Class", Type: "string", Description: "The name of the IngressClass resource that should be used for additional configuration"},
		{Name: "Hosts", Type: "string", Description: "Hosts that incoming requests are matched against before the ingress rule"},
		{Name: "Address", Type: "string", Description: "Address is a list containing ingress points for the load-balancer"},
		{Name: "Ports", Type: "string", Description: "Ports of TLS configurations that open"},
		store.AgeColumn,
	},
	Row: func(ing *networkingv1.Ingress) []any {
		class := "<none>"
		if ing.Spec.IngressClassName != nil {
			class = *ing.Spec.IngressClassName
		}
		ports := "80"
		if len(ing.Spec.TLS) > 0 {
			ports = "80, 443"
		}
		return []any{ing.Name, class, Hosts(ing.Spec.Rules), Address(ing.Status.LoadBalancer), ports, store.Age(ing.CreationTimestamp)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// Options relax validation for what older servers let through, so that
// stored objects remain writable.
type Options struct {
	AllowInvalidSecretName       bool
	AllowInvalidWildcardHostRule bool
}

// OptionsFor returns the relaxations an update of old needs.
func OptionsFor(old *networkingv1.Ingress) Options {
	var o Options
	for _, tls := range old.Spec.TLS {
		if len(secretName(tls.SecretName)) > 0 {
			o.AllowInvalidSecretName = true
		}
	}
	for _, r := range old.Spec.Rules {
		if strings.Contains(r.Host, "*") && len(validateRuleValue(&r.IngressRuleValue, field.NewPath("x"), Options{})) > 0 {
			o.AllowInvalidWildcardHostRule = true
		}
	}
	return o
}

func secretName(name string) []string {
	if name == "" {
		return nil
	}
	return apimachineryvalidation.NameIsDNSSubdomain(name, false)
}

// ValidateSpec checks backends, rules, TLS and the class name.
func ValidateSpec(spec *networkingv1.IngressSpec, opts Options, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(spec.Rules) == 0 && spec.DefaultBackend == nil {
		errs = append(errs, field.Invalid(p, spec.Rules, "either `defaultBackend` or `rules` must be specified"))
	}
	if spec.DefaultBackend != nil {
		errs = append(errs, validateBackend(spec.DefaultBackend, p.Child("defaultBackend"))...)
	}
	for i, r := range spec.Rules {
		rp := p.Child("rules").Index(i)
		wildcard := false
		if r.Host != "" {
			if netutils.ParseIPSloppy(r.Host) != nil {
				errs = append(errs, field.Invalid(rp.Child("host"), r.Host, "must be a DNS name, not an IP address"))
			}
			msgs := validation.IsDNS1123Subdomain(r.Host)
			if strings.Contains(r.Host, "*") {
				msgs, wildcard = validation.IsWildcardDNS1123Subdomain(r.Host), true
			}
			errs = append(errs, validate.Invalid(rp.Child("host"), r.Host, msgs)...)
		}
		if !wildcard || !opts.AllowInvalidWildcardHostRule {
			errs = append(errs, validateRuleValue(&r.IngressRuleValue, rp, opts)...)
		}
	}
	for i, tls := range spec.TLS {
		tp := p.Child("tls").Index(i)
		for j, host := range tls.Hosts {
			msgs := validation.IsDNS1123Subdomain(host)
			if strings.Contains(host, "*") {
				msgs = validation.IsWildcardDNS1123Subdomain(host)
			}
			errs = append(errs, validate.Invalid(tp.Child("hosts").Index(j), host, msgs)...)
		}
		if !opts.AllowInvalidSecretName {
			errs = append(errs, validate.Invalid(tp.Child("secretName"), tls.SecretName, secretName(tls.SecretName))...)
		}
	}
	if spec.IngressClassName != nil {
		errs = append(errs, validate.Invalid(p.Child("ingressClassName"), *spec.IngressClassName, apimachineryvalidation.NameIsDNSSubdomain(*spec.IngressClassName, false))...)
	}
	return errs
}

func validateRuleValue(v *networkingv1.IngressRuleValue, p *field.Path, _ Options) field.ErrorList {
	if v.HTTP == nil {
		return nil
	}
	var errs field.ErrorList
	hp := p.Child("http")
	if len(v.HTTP.Paths) == 0 {
		errs = append(errs, field.Required(hp.Child("paths"), ""))
	}
	for i := range v.HTTP.Paths {
		errs = append(errs, validatePath(&v.HTTP.Paths[i], hp.Child("paths").Index(i))...)
	}
	return errs
}

var (
	pathTypes            = []string{string(networkingv1.PathTypeExact), string(networkingv1.PathTypeImplementationSpecific), string(networkingv1.PathTypePrefix)}
	invalidPathSequences = []string{"//", "/./", "/../", "%2f", "%2F"}
	invalidPathSuffixes  = []string{"/..", "/."}
)

func validatePath(hp *networkingv1.HTTPIngressPath, p *field.Path) field.ErrorList {
	if hp.PathType == nil {
		return field.ErrorList{field.Required(p.Child("pathType"), "pathType must be specified")}
	}
	var errs field.ErrorList
	pp := p.Child("path")
	switch *hp.PathType {
	case networkingv1.PathTypeExact, networkingv1.PathTypePrefix:
		if !strings.HasPrefix(hp.Path, "/") {
			errs = append(errs, field.Invalid(pp, hp.Path, "must be an absolute path"))
		}
		if hp.Path != "" {
			for _, seq := range invalidPathSequences {
				if strings.Contains(hp.Path, seq) {
					errs = append(errs, field.Invalid(pp, hp.Path, fmt.Sprintf("must not contain '%s'", seq)))
				}
			}
			for _, suffix := range invalidPathSuffixes {
				if strings.HasSuffix(hp.Path, suffix) {
					errs = append(errs, field.Invalid(pp, hp.Path, fmt.Sprintf("cannot end with '%s'", suffix)))
				}
			}
		}
	case networkingv1.PathTypeImplementationSpecific:
		if hp.Path != "" && !strings.HasPrefix(hp.Path, "/") {
			errs = append(errs, field.Invalid(pp, hp.Path, "must be an absolute path"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("pathType"), *hp.PathType, pathTypes))
	}
	return append(errs, validateBackend(&hp.Backend, p.Child("backend"))...)
}

// validateBackend requires exactly one of a service (with a port name or
// number) and a resource.
func validateBackend(b *networkingv1.IngressBackend, p *field.Path) field.ErrorList {
	switch {
	case b.Resource != nil && b.Service != nil:
		return field.ErrorList{field.Invalid(p, "", "cannot set both resource and service backends")}
	case b.Resource != nil:
		return ValidateTypedLocalObjectReference(b.Resource, p.Child("resource"))
	case b.Service != nil:
		var errs field.ErrorList
		if b.Service.Name == "" {
			errs = append(errs, field.Required(p.Child("service", "name"), ""))
		} else {
			errs = append(errs, validate.Invalid(p.Child("service", "name"), b.Service.Name, apimachineryvalidation.NameIsDNS1035Label(b.Service.Name, false))...)
		}
		port := b.Service.Port
		switch {
		case port.Name != "" && port.Number != 0:
			errs = append(errs, field.Invalid(p, "", "cannot set both port name & port number"))
		case port.Name != "":
			errs = append(errs, validate.Invalid(p.Child("service", "port", "name"), port.Name, validation.IsValidPortName(port.Name))...)
		case port.Number != 0:
			errs = append(errs, validate.Invalid(p.Child("service", "port", "number"), port.Number, validation.IsValidPortNum(int(port.Number)))...)
		default:
			errs = append(errs, field.Required(p, "port name or number is required"))
		}
		return errs
	}
	return field.ErrorList{field.Invalid(p, "", "resource or service backend is required")}
}

// ValidateTypedLocalObjectReference checks a reference to a custom backend
// or parameters object: kind and name are required.
func ValidateTypedLocalObjectReference(ref *corev1.TypedLocalObjectReference, p *field.Path) field.ErrorList {
	if ref == nil {
		return nil
	}
	var errs field.ErrorList
	if ref.APIGroup != nil {
		errs = append(errs, validate.Invalid(p.Child("apiGroup"), *ref.APIGroup, validation.IsDNS1123Subdomain(*ref.APIGroup))...)
	}
	if ref.Kind == "" {
		errs = append(errs, field.Required(p.Child("kind"), "kind is required"))
	} else {
		errs = append(errs, validate.Invalid(p.Child("kind"), ref.Kind, path.IsValidPathSegmentName(ref.Kind))...)
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), "name is required"))
	} else {
		errs = append(errs, validate.Invalid(p.Child("name"), ref.Name, path.IsValidPathSegmentName(ref.Name))...)
	}
	return errs
}

// ValidateLoadBalancerStatus checks the IPs and hostnames a controller reports.
func ValidateLoadBalancerStatus(s *networkingv1.IngressLoadBalancerStatus, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ing := range s.Ingress {
		ip := p.Child("ingress").Index(i)
		if ing.IP != "" {
			errs = append(errs, validation.IsValidIPForLegacyField(ip.Child("ip"), ing.IP, false, nil)...)
		}
		if ing.Hostname != "" {
			errs = append(errs, validate.Invalid(ip.Child("hostname"), ing.Hostname, validation.IsDNS1123Subdomain(ing.Hostname))...)
			if netutils.ParseIPSloppy(ing.Hostname) != nil {
				errs = append(errs, field.Invalid(ip.Child("hostname"), ing.Hostname, "must be a DNS name, not an IP address"))
			}
		}
	}
	return errs
}

// Hosts lists up to three rule hosts, "*" when no rule names one.
func Hosts(rules []networkingv1.IngressRule) string {
	var list []string
	more := false
	for _, r := range rules {
		// Like kubectl, "more" counts rules, hostless ones included, once
		// three hosts are listed.
		if len(list) == 3 {
			more = true
		}
		if !more && r.Host != "" {
			list = append(list, r.Host)
		}
	}
	if len(list) == 0 {
		return "*"
	}
	if more {
		return fmt.Sprintf("%s + %d more...", strings.Join(list, ","), len(rules)-3)
	}
	return strings.Join(list, ",")
}

// Address lists the load balancer's IPs (or hostnames), sorted and unique.
func Address(s networkingv1.IngressLoadBalancerStatus) string {
	seen := map[string]bool{}
	var list []string
	for _, ing := range s.Ingress {
		a := ing.IP
		if a == "" {
			a = ing.Hostname
		}
		if a != "" && !seen[a] {
			seen[a] = true
			list = append(list, a)
		}
	}
	sort.Strings(list)
	return strings.Join(list, ",")
}
