// Package service is the storage of core/v1 Services: validation, ClusterIP
// allocation as networking.k8s.io/v1 IPAddress objects, and NodePort allocation.
package service

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/store"
	"github.com/capstan-dev/capstan/registry/validate"
)

// Resource describes services.
var Resource = &store.Resource[*corev1.Service]{
	Resource:   schema.GroupResource{Resource: "services"},
	Kind:       "Service",
	Namespaced: true,
	ShortNames: []string{"svc"},
	Categories: []string{"all"},
	NameFunc:   apimachineryvalidation.NameIsDNS1035Label,
	HasStatus:  true,
	// Upstream answers DELETE of a service with the deleted object.
	ReturnDeletedObject: true,
	New:                 func() *corev1.Service { return &corev1.Service{} },
	NewList:             func() runtime.Object { return &corev1.ServiceList{} },
	PrepareForUpdate: func(_ context.Context, svc, old *corev1.Service) {
		// Allocated addresses stay unless the client changes them on purpose.
		if svc.Spec.ClusterIP == "" && svc.Spec.Type != corev1.ServiceTypeExternalName {
			svc.Spec.ClusterIP, svc.Spec.ClusterIPs = old.Spec.ClusterIP, old.Spec.ClusterIPs
		}
		if len(svc.Spec.ClusterIPs) == 0 && svc.Spec.ClusterIP == old.Spec.ClusterIP {
			svc.Spec.ClusterIPs = old.Spec.ClusterIPs
		}
		if len(svc.Spec.IPFamilies) == 0 && svc.Spec.Type != corev1.ServiceTypeExternalName {
			svc.Spec.IPFamilies = old.Spec.IPFamilies
		}
		if svc.Spec.IPFamilyPolicy == nil && svc.Spec.Type != corev1.ServiceTypeExternalName {
			svc.Spec.IPFamilyPolicy = old.Spec.IPFamilyPolicy
		}
		keepNodePorts(svc, old)
		if svc.Spec.HealthCheckNodePort == 0 && needsHealthCheck(svc) {
			svc.Spec.HealthCheckNodePort = old.Spec.HealthCheckNodePort
		}
	},
	Validate: func(_ context.Context, svc *corev1.Service) field.ErrorList { return Validate(svc) },
	ValidateUpdate: func(_ context.Context, svc, old *corev1.Service) field.ErrorList {
		errs := Validate(svc)
		spec := field.NewPath("spec")
		if old.Spec.ClusterIP != "" && svc.Spec.Type != corev1.ServiceTypeExternalName && old.Spec.Type != corev1.ServiceTypeExternalName &&
			svc.Spec.ClusterIP != old.Spec.ClusterIP {
			errs = append(errs, field.Invalid(spec.Child("clusterIPs").Index(0), svc.Spec.ClusterIP, "may not change once set"))
		}
		return errs
	},
	Fields: map[string]func(*corev1.Service) string{
		"spec.clusterIP": func(s *corev1.Service) string { return s.Spec.ClusterIP },
		"spec.type":      func(s *corev1.Service) string { return string(s.Spec.Type) },
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Type", Type: "string", Description: corev1.ServiceSpec{}.SwaggerDoc()["type"]},
		{Name: "Cluster-IP", Type: "string", Description: corev1.ServiceSpec{}.SwaggerDoc()["clusterIP"]},
		{Name: "External-IP", Type: "string", Description: corev1.ServiceSpec{}.SwaggerDoc()["externalIPs"]},
		{Name: "Port(s)", Type: "string", Description: corev1.ServiceSpec{}.SwaggerDoc()["ports"]},
		store.AgeColumn,
		{Name: "Selector", Type: "string", Priority: 1, Description: corev1.ServiceSpec{}.SwaggerDoc()["selector"]},
	},
	Row: func(s *corev1.Service) []any {
		clusterIP := s.Spec.ClusterIP
		if clusterIP == "" {
			clusterIP = "<none>"
		}
		return []any{s.Name, string(s.Spec.Type), clusterIP, externalIPs(s), ports(s.Spec.Ports), store.Age(s.CreationTimestamp), selector(s.Spec.Selector)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

var (
	serviceTypes = []string{string(corev1.ServiceTypeClusterIP), string(corev1.ServiceTypeExternalName), string(corev1.ServiceTypeLoadBalancer), string(corev1.ServiceTypeNodePort)}
	protocols    = []string{string(corev1.ProtocolSCTP), string(corev1.ProtocolTCP), string(corev1.ProtocolUDP)}
)

// Validate checks a service the way upstream rejects common mistakes.
func Validate(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	switch svc.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
		if len(svc.Spec.Ports) == 0 && svc.Spec.ClusterIP != corev1.ClusterIPNone {
			errs = append(errs, field.Required(spec.Child("ports"), ""))
		}
	case corev1.ServiceTypeExternalName:
		if svc.Spec.ClusterIP != "" {
			errs = append(errs, field.Forbidden(spec.Child("clusterIPs"), "may not be set for ExternalName services"))
		}
		name := strings.TrimSuffix(svc.Spec.ExternalName, ".")
		if name == "" {
			errs = append(errs, field.Required(spec.Child("externalName"), ""))
		} else {
			errs = append(errs, validate.Invalid(spec.Child("externalName"), svc.Spec.ExternalName, validation.IsDNS1123Subdomain(name))...)
		}
	case "":
		errs = append(errs, field.Required(spec.Child("type"), ""))
	default:
		errs = append(errs, field.NotSupported(spec.Child("type"), svc.Spec.Type, serviceTypes))
	}
	if ip := svc.Spec.ClusterIP; ip != "" && ip != corev1.ClusterIPNone && net.ParseIP(ip) == nil {
		errs = append(errs, field.Invalid(spec.Child("clusterIPs").Index(0), ip, "must be empty, 'None', or a valid IP address"))
	}
	if svc.Spec.ClusterIP == corev1.ClusterIPNone && (svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer) {
		errs = append(errs, field.Invalid(spec.Child("clusterIPs").Index(0), svc.Spec.ClusterIP, "may not be set to 'None' for "+string(svc.Spec.Type)+" services"))
	}
	names := sets.New[string]()
	type portKey struct {
		port  int32
		proto corev1.Protocol
	}
	seen := map[portKey]bool{}
	nodePorts := map[portKey]bool{}
	for i, p := range svc.Spec.Ports {
		pp := spec.Child("ports").Index(i)
		if len(svc.Spec.Ports) > 1 && p.Name == "" {
			errs = append(errs, field.Required(pp.Child("name"), ""))
		}
		if p.Name != "" {
			errs = append(errs, validate.Invalid(pp.Child("name"), p.Name, validation.IsDNS1123Label(p.Name))...)
			if names.Has(p.Name) {
				errs = append(errs, field.Duplicate(pp.Child("name"), p.Name))
			}
			names.Insert(p.Name)
		}
		errs = append(errs, validate.Invalid(pp.Child("port"), p.Port, validation.IsValidPortNum(int(p.Port)))...)
		if !sets.New(protocols...).Has(string(p.Protocol)) {
			errs = append(errs, field.NotSupported(pp.Child("protocol"), p.Protocol, protocols))
		}
		k := portKey{p.Port, p.Protocol}
		if seen[k] {
			errs = append(errs, field.Duplicate(pp, fmt.Sprintf("%d/%s", p.Port, p.Protocol)))
		}
		seen[k] = true
		if p.TargetPort.Type == 0 && p.TargetPort.IntVal != 0 {
			errs = append(errs, validate.Invalid(pp.Child("targetPort"), p.TargetPort.IntVal, validation.IsValidPortNum(int(p.TargetPort.IntVal)))...)
		} else if p.TargetPort.Type == 1 {
			errs = append(errs, validate.Invalid(pp.Child("targetPort"), p.TargetPort.StrVal, validation.IsValidPortName(p.TargetPort.StrVal))...)
		}
		if p.NodePort != 0 {
			if svc.Spec.Type == corev1.ServiceTypeClusterIP || svc.Spec.Type == corev1.ServiceTypeExternalName {
				errs = append(errs, field.Forbidden(pp.Child("nodePort"), "may not be used when `type` is '"+string(svc.Spec.Type)+"'"))
			}
			errs = append(errs, validate.Invalid(pp.Child("nodePort"), p.NodePort, validation.IsValidPortNum(int(p.NodePort)))...)
			nk := portKey{p.NodePort, p.Protocol}
			if nodePorts[nk] {
				errs = append(errs, field.Duplicate(pp.Child("nodePort"), p.NodePort))
			}
			nodePorts[nk] = true
		}
		if p.AppProtocol != nil {
			errs = append(errs, validate.Invalid(pp.Child("appProtocol"), *p.AppProtocol, validation.IsQualifiedName(*p.AppProtocol))...)
		}
	}
	for k, v := range svc.Spec.Selector {
		errs = append(errs, validate.Invalid(spec.Child("selector"), k, validation.IsQualifiedName(k))...)
		errs = append(errs, validate.Invalid(spec.Child("selector"), v, validation.IsValidLabelValue(v))...)
	}
	switch svc.Spec.SessionAffinity {
	case corev1.ServiceAffinityNone, corev1.ServiceAffinityClientIP:
	case "":
		if svc.Spec.Type != corev1.ServiceTypeExternalName {
			errs = append(errs, field.Required(spec.Child("sessionAffinity"), ""))
		}
	default:
		errs = append(errs, field.NotSupported(spec.Child("sessionAffinity"), svc.Spec.SessionAffinity, []string{"ClientIP", "None"}))
	}
	if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
		if t := *c.ClientIP.TimeoutSeconds; t <= 0 || t > maxClientIPAffinitySeconds {
			errs = append(errs, field.Invalid(spec.Child("sessionAffinityConfig", "clientIP", "timeoutSeconds"), t,
				fmt.Sprintf("must be greater than 0 and less than %d", maxClientIPAffinitySeconds)))
		}
	}
	if p := svc.Spec.ExternalTrafficPolicy; p != "" && p != corev1.ServiceExternalTrafficPolicyCluster && p != corev1.ServiceExternalTrafficPolicyLocal {
		errs = append(errs, field.NotSupported(spec.Child("externalTrafficPolicy"), p, []string{"Cluster", "Local"}))
	}
	if p := svc.Spec.InternalTrafficPolicy; p != nil && *p != corev1.ServiceInternalTrafficPolicyCluster && *p != corev1.ServiceInternalTrafficPolicyLocal {
		errs = append(errs, field.NotSupported(spec.Child("internalTrafficPolicy"), *p, []string{"Cluster", "Local"}))
	}
	for i, ip := range svc.Spec.ExternalIPs {
		if net.ParseIP(ip) == nil {
			errs = append(errs, field.Invalid(spec.Child("externalIPs").Index(i), ip, "must be a valid IP address"))
		}
	}
	return errs
}

func externalIPs(s *corev1.Service) string {
	var ips []string
	for _, in := range s.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			ips = append(ips, in.IP)
		} else if in.Hostname != "" {
			ips = append(ips, in.Hostname)
		}
	}
	ips = append(ips, s.Spec.ExternalIPs...)
	switch {
	case s.Spec.Type == corev1.ServiceTypeExternalName:
		return s.Spec.ExternalName
	case len(ips) > 0:
		return strings.Join(ips, ",")
	case s.Spec.Type == corev1.ServiceTypeLoadBalancer:
		return "<pending>"
	}
	return "<none>"
}

func ports(ps []corev1.ServicePort) string {
	if len(ps) == 0 {
		return "<none>"
	}
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		s := fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		if p.NodePort > 0 {
			s = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

func selector(sel map[string]string) string {
	if len(sel) == 0 {
		return "<none>"
	}
	keys := make([]string, 0, len(sel))
	for k := range sel {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+sel[k])
	}
	return strings.Join(out, ",")
}

func needsNodePorts(s *corev1.Service) bool {
	if s.Spec.Type == corev1.ServiceTypeNodePort {
		return true
	}
	return s.Spec.Type == corev1.ServiceTypeLoadBalancer &&
		(s.Spec.AllocateLoadBalancerNodePorts == nil || *s.Spec.AllocateLoadBalancerNodePorts)
}

func needsHealthCheck(s *corev1.Service) bool {
	return s.Spec.Type == corev1.ServiceTypeLoadBalancer && s.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
}

// keepNodePorts carries allocated node ports over an update that omits them.
func keepNodePorts(svc, old *corev1.Service) {
	if !needsNodePorts(svc) {
		return
	}
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if p.NodePort != 0 {
			continue
		}
		for _, o := range old.Spec.Ports {
			if o.NodePort != 0 && o.Protocol == p.Protocol && (o.Name == p.Name || o.Port == p.Port) {
				p.NodePort = o.NodePort
				break
			}
		}
	}
}

// maxClientIPAffinitySeconds is upstream's ceiling for sessionAffinityConfig.clientIP.timeoutSeconds (one day).
const maxClientIPAffinitySeconds = 86400
