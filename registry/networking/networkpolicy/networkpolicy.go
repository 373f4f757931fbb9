// Package networkpolicy is the storage of networking.k8s.io/v1 NetworkPolicies.
package networkpolicy

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/capstan-dev/capstan/registry/store"
	"github.com/capstan-dev/capstan/registry/validate"
)

// Resource describes networkpolicies.
var Resource = &store.Resource[*networkingv1.NetworkPolicy]{
	Resource:   schema.GroupResource{Group: networkingv1.GroupName, Resource: "networkpolicies"},
	Kind:       "NetworkPolicy",
	Namespaced: true,
	ShortNames: []string{"netpol"},
	Generation: true,
	New:        func() *networkingv1.NetworkPolicy { return &networkingv1.NetworkPolicy{} },
	NewList:    func() runtime.Object { return &networkingv1.NetworkPolicyList{} },
	Validate: func(_ context.Context, np *networkingv1.NetworkPolicy) field.ErrorList {
		return ValidateSpec(&np.Spec, false, field.NewPath("spec"))
	},
	ValidateUpdate: func(_ context.Context, np, old *networkingv1.NetworkPolicy) field.ErrorList {
		// A pod selector stored before label values were checked stays writable.
		allow := len(metav1validation.ValidateLabelSelector(&old.Spec.PodSelector, metav1validation.LabelSelectorValidationOptions{}, nil)) > 0
		return ValidateSpec(&np.Spec, allow, field.NewPath("spec"))
	},
	WarningsOnCreate: func(_ context.Context, np *networkingv1.NetworkPolicy) []string { return cidrWarnings(np) },
	WarningsOnUpdate: func(_ context.Context, np, _ *networkingv1.NetworkPolicy) []string { return cidrWarnings(np) },
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Pod-Selector", Type: "string", Description: networkingv1.NetworkPolicySpec{}.SwaggerDoc()["podSelector"]},
		store.AgeColumn,
	},
	Row: func(np *networkingv1.NetworkPolicy) []any {
		return []any{np.Name, metav1.FormatLabelSelector(&np.Spec.PodSelector), store.Age(np.CreationTimestamp)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

var (
	protocols   = []string{string(corev1.ProtocolTCP), string(corev1.ProtocolUDP), string(corev1.ProtocolSCTP)}
	policyTypes = []string{string(networkingv1.PolicyTypeIngress), string(networkingv1.PolicyTypeEgress)}
)

// ValidateSpec checks the pod selector, every rule's ports and peers, and the policy types.
func ValidateSpec(spec *networkingv1.NetworkPolicySpec, allowInvalidLabelValue bool, p *field.Path) field.ErrorList {
	opts := metav1validation.LabelSelectorValidationOptions{AllowInvalidLabelValueInSelector: allowInvalidLabelValue}
	errs := metav1validation.ValidateLabelSelector(&spec.PodSelector, opts, p.Child("podSelector"))
	for i, rule := range spec.Ingress {
		rp := p.Child("ingress").Index(i)
		for j := range rule.Ports {
			errs = append(errs, validatePort(&rule.Ports[j], rp.Child("ports").Index(j))...)
		}
		for j := range rule.From {
			errs = append(errs, validatePeer(&rule.From[j], opts, rp.Child("from").Index(j))...)
		}
	}
	for i, rule := range spec.Egress {
		rp := p.Child("egress").Index(i)
		for j := range rule.Ports {
			errs = append(errs, validatePort(&rule.Ports[j], rp.Child("ports").Index(j))...)
		}
		for j := range rule.To {
			errs = append(errs, validatePeer(&rule.To[j], opts, rp.Child("to").Index(j))...)
		}
	}
	tp := p.Child("policyTypes")
	if len(spec.PolicyTypes) > len(policyTypes) {
		return append(errs, field.Invalid(tp, &spec.PolicyTypes, "may not specify more than two policyTypes"))
	}
	for i, t := range spec.PolicyTypes {
		if t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress {
			errs = append(errs, field.NotSupported(tp.Index(i), t, policyTypes))
		}
	}
	return errs
}

func validatePort(port *networkingv1.NetworkPolicyPort, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if pr := port.Protocol; pr != nil && *pr != corev1.ProtocolTCP && *pr != corev1.ProtocolUDP && *pr != corev1.ProtocolSCTP {
		errs = append(errs, field.NotSupported(p.Child("protocol"), *pr, protocols))
	}
	switch {
	case port.Port == nil:
		if port.EndPort != nil {
			errs = append(errs, field.Invalid(p.Child("endPort"), *port.EndPort, "may not be specified when `port` is not specified"))
		}
	case port.Port.Type == intstr.Int:
		errs = append(errs, validate.Invalid(p.Child("port"), port.Port.IntVal, validation.IsValidPortNum(int(port.Port.IntVal)))...)
		if port.EndPort != nil {
			if *port.EndPort < port.Port.IntVal {
				errs = append(errs, field.Invalid(p.Child("endPort"), port.Port.IntVal, "must be greater than or equal to `port`"))
			}
			errs = append(errs, validate.Invalid(p.Child("endPort"), *port.EndPort, validation.IsValidPortNum(int(*port.EndPort)))...)
		}
	default:
		if port.EndPort != nil {
			errs = append(errs, field.Invalid(p.Child("endPort"), *port.EndPort, "may not be specified when `port` is non-numeric"))
		}
		errs = append(errs, validate.Invalid(p.Child("port"), port.Port.StrVal, validation.IsValidPortName(port.Port.StrVal))...)
	}
	return errs
}

// validatePeer requires a peer, and an ipBlock alone.
func validatePeer(peer *networkingv1.NetworkPolicyPeer, opts metav1validation.LabelSelectorValidationOptions, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	if peer.PodSelector != nil {
		n++
		errs = append(errs, metav1validation.ValidateLabelSelector(peer.PodSelector, opts, p.Child("podSelector"))...)
	}
	if peer.NamespaceSelector != nil {
		n++
		errs = append(errs, metav1validation.ValidateLabelSelector(peer.NamespaceSelector, opts, p.Child("namespaceSelector"))...)
	}
	if peer.IPBlock != nil {
		n++
		errs = append(errs, ValidateIPBlock(peer.IPBlock, p.Child("ipBlock"))...)
	}
	if n == 0 {
		errs = append(errs, field.Required(p, "must specify a peer"))
	} else if n > 1 && peer.IPBlock != nil {
		errs = append(errs, field.Forbidden(p, "may not specify both ipBlock and another peer"))
	}
	return errs
}

// ValidateIPBlock checks the CIDR and that every exception lies strictly inside it.
func ValidateIPBlock(b *networkingv1.IPBlock, p *field.Path) field.ErrorList {
	if b.CIDR == "" {
		return field.ErrorList{field.Required(p.Child("cidr"), "")}
	}
	errs := validation.IsValidCIDRForLegacyField(p.Child("cidr"), b.CIDR, false, nil)
	_, cidr, err := netutils.ParseCIDRSloppy(b.CIDR)
	if err != nil {
		return errs
	}
	for i, e := range b.Except {
		ep := p.Child("except").Index(i)
		errs = append(errs, validation.IsValidCIDRForLegacyField(ep, e, false, nil)...)
		_, except, err := netutils.ParseCIDRSloppy(e)
		if err != nil {
			continue
		}
		cidrLen, _ := cidr.Mask.Size()
		exceptLen, _ := except.Mask.Size()
		if !cidr.Contains(except.IP) || cidrLen >= exceptLen {
			errs = append(errs, field.Invalid(ep, e, "must be a strict subset of `cidr`"))
		}
	}
	return errs
}

// cidrWarnings flags CIDRs written in non-standard forms.
func cidrWarnings(np *networkingv1.NetworkPolicy) []string {
	var w []string
	add := func(peers []networkingv1.NetworkPolicyPeer, p *field.Path) {
		for i, peer := range peers {
			if peer.IPBlock == nil {
				continue
			}
			bp := p.Index(i).Child("ipBlock")
			if _, _, err := netutils.ParseCIDRSloppy(peer.IPBlock.CIDR); err == nil {
				w = append(w, validation.GetWarningsForCIDR(bp.Child("cidr"), peer.IPBlock.CIDR)...)
			}
			for j, e := range peer.IPBlock.Except {
				if _, _, err := netutils.ParseCIDRSloppy(e); err == nil {
					w = append(w, validation.GetWarningsForCIDR(bp.Child("except").Index(j), e)...)
				}
			}
		}
	}
	for i, r := range np.Spec.Ingress {
		add(r.From, field.NewPath("spec", "ingress").Index(i).Child("from"))
	}
	for i, r := range np.Spec.Egress {
		add(r.To, field.NewPath("spec", "egress").Index(i).Child("to"))
	}
	return w
}
