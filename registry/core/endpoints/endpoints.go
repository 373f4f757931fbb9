// Package endpoints is the storage of core/v1 Endpoints.
package endpoints

import (
	"context"
	"fmt"
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
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

// Resource describes endpoints.
var Resource = &store.Resource[*corev1.Endpoints]{
	Resource:            schema.GroupResource{Resource: "endpoints"},
	Kind:                "Endpoints",
	Singular:            "endpoints",
	Namespaced:          true,
	ShortNames:          []string{"ep"},
	AllowCreateOnUpdate: true,
	NameFunc:            apimachineryvalidation.NameIsDNS1035Label,
	New:                 func() *corev1.Endpoints { return &corev1.Endpoints{} },
	NewList:             func() runtime.Object { return &corev1.EndpointsList{} },
	Validate:            func(_ context.Context, ep *corev1.Endpoints) field.ErrorList { return Validate(ep) },
	WarningsOnCreate:    func(context.Context, *corev1.Endpoints) []string { return []string{deprecation} },
	WarningsOnUpdate:    func(context.Context, *corev1.Endpoints, *corev1.Endpoints) []string { return []string{deprecation} },
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Endpoints", Type: "string", Description: corev1.Endpoints{}.SwaggerDoc()["subsets"]},
		store.AgeColumn,
	},
	Row: func(ep *corev1.Endpoints) []any {
		return []any{ep.Name, Summary(ep.Subsets, 3), store.Age(ep.CreationTimestamp)}
	},
}

const deprecation = "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// Validate checks addresses and ports.
func Validate(ep *corev1.Endpoints) field.ErrorList {
	var errs field.ErrorList
	for i, ss := range ep.Subsets {
		p := field.NewPath("subsets").Index(i)
		for j, a := range append(append([]corev1.EndpointAddress{}, ss.Addresses...), ss.NotReadyAddresses...) {
			ap := p.Child("addresses").Index(j)
			if j >= len(ss.Addresses) {
				ap = p.Child("notReadyAddresses").Index(j - len(ss.Addresses))
			}
			if net.ParseIP(a.IP) == nil {
				errs = append(errs, field.Invalid(ap.Child("ip"), a.IP, "must be a valid IP address"))
			}
			if a.Hostname != "" {
				errs = append(errs, validate.Invalid(ap.Child("hostname"), a.Hostname, validation.IsDNS1123Label(a.Hostname))...)
			}
		}
		for j, port := range ss.Ports {
			pp := p.Child("ports").Index(j)
			if len(ss.Ports) > 1 && port.Name == "" {
				errs = append(errs, field.Required(pp.Child("name"), ""))
			}
			errs = append(errs, validate.Invalid(pp.Child("port"), port.Port, validation.IsValidPortNum(int(port.Port)))...)
			switch port.Protocol {
			case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
			case "":
				errs = append(errs, field.Required(pp.Child("protocol"), ""))
			default:
				errs = append(errs, field.NotSupported(pp.Child("protocol"), port.Protocol, []string{"SCTP", "TCP", "UDP"}))
			}
		}
	}
	return errs
}

// Summary renders up to max endpoints as kubectl shows them ("<none>" when empty).
func Summary(subsets []corev1.EndpointSubset, max int) string {
	var list []string
	total := 0
	for _, ss := range subsets {
		for _, a := range ss.Addresses {
			if len(ss.Ports) == 0 {
				total++
				if len(list) < max {
					list = append(list, a.IP)
				}
				continue
			}
			for _, p := range ss.Ports {
				total++
				if len(list) < max {
					list = append(list, net.JoinHostPort(a.IP, fmt.Sprint(p.Port)))
				}
			}
		}
	}
	if total == 0 {
		return "<none>"
	}
	s := strings.Join(list, ",")
	if total > max {
		s += fmt.Sprintf(" + %d more...", total-max)
	}
	return s
}
