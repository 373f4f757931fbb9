package networkpolicy

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func messages(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func TestValidate(t *testing.T) {
	icmp := corev1.Protocol("ICMP")
	tests := []struct {
		name string
		spec networkingv1.NetworkPolicySpec
		want []string
	}{
		{
			name: "valid",
			spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					Ports: []networkingv1.NetworkPolicyPort{{Port: new(intstr.FromInt32(5432)), EndPort: new(int32(5440))}},
					From:  []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16"}}}},
				}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			},
			want: []string{},
		},
		{
			name: "bad ports",
			spec: networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{
				{Protocol: &icmp, Port: new(intstr.FromInt32(70000))},
				{Port: new(intstr.FromString("http")), EndPort: new(int32(90))},
				{Port: new(intstr.FromInt32(100)), EndPort: new(int32(90))},
			}}}},
			want: []string{
				`spec.egress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"`,
				"spec.egress[0].ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
				"spec.egress[0].ports[1].endPort: Invalid value: 90: may not be specified when `port` is non-numeric",
				"spec.egress[0].ports[2].endPort: Invalid value: 100: must be greater than or equal to `port`",
			},
		},
		{
			name: "bad peers",
			spec: networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{
				{},
				{PodSelector: &metav1.LabelSelector{}, IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}},
				{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/16", Except: []string{"10.0.0.0/8", "bogus"}}},
			}}}},
			want: []string{
				"spec.ingress[0].from[0]: Required value: must specify a peer",
				"spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer",
				`spec.ingress[0].from[2].ipBlock.except[0]: Invalid value: "10.0.0.0/8": must be a strict subset of ` + "`cidr`",
				`spec.ingress[0].from[2].ipBlock.except[1]: Invalid value: "bogus": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`,
			},
		},
		{
			name: "bad policy type",
			spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"Both"}},
			want: []string{`spec.policyTypes[0]: Unsupported value: "Both": supported values: "Ingress", "Egress"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			np := &networkingv1.NetworkPolicy{Spec: tt.spec}
			if diff := cmp.Diff(tt.want, messages(Resource.Validate(context.Background(), np))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRow(t *testing.T) {
	tests := []struct {
		name string
		np   *networkingv1.NetworkPolicy
		want []any
	}{
		{name: "all pods", np: &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny"}}, want: []any{"deny", "<none>", "<unknown>"}},
		{
			name: "selected",
			np:   &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}}},
			want: []any{"db", "app=db", "<unknown>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Resource.Row(tt.np)); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
		})
	}
}
