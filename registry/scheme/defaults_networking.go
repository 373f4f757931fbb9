package scheme

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// addNetworkingDefaults registers the networking.k8s.io/v1 defaulters. Ingress
// (its pathType is required, not defaulted, in v1), ServiceCIDR and IPAddress
// have no defaults upstream and get none here.
func addNetworkingDefaults(s *runtime.Scheme) {
	addGroupDefaulter(s, defaultNetworkPolicy)
	addGroupDefaulter(s, func(l *networkingv1.NetworkPolicyList) { defaultEach(l.Items, defaultNetworkPolicy) })
	addGroupDefaulter(s, defaultIngressClass)
	addGroupDefaulter(s, func(l *networkingv1.IngressClassList) { defaultEach(l.Items, defaultIngressClass) })
}

func defaultNetworkPolicy(np *networkingv1.NetworkPolicy) {
	spec := &np.Spec
	// Without explicit types a policy always isolates ingress, and egress as
	// well when it lists egress rules.
	if len(spec.PolicyTypes) == 0 {
		spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(spec.Egress) != 0 {
			spec.PolicyTypes = append(spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}
	}
	for i := range spec.Ingress {
		defaultEach(spec.Ingress[i].Ports, defaultNetworkPolicyPort)
	}
	for i := range spec.Egress {
		defaultEach(spec.Egress[i].Ports, defaultNetworkPolicyPort)
	}
}

func defaultNetworkPolicyPort(p *networkingv1.NetworkPolicyPort) {
	if p.Protocol == nil {
		p.Protocol = new(corev1.ProtocolTCP)
	}
}

func defaultIngressClass(ic *networkingv1.IngressClass) {
	if params := ic.Spec.Parameters; params != nil && params.Scope == nil {
		params.Scope = new(networkingv1.IngressClassParametersReferenceScopeCluster)
	}
}
