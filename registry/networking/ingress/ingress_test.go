package ingress

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func messages(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func prefix() *networkingv1.PathType { p := networkingv1.PathTypePrefix; return &p }

func svc(name string, port int32) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: port}}}
}

func rule(host string, paths ...networkingv1.HTTPIngressPath) networkingv1.IngressRule {
	return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}}
}

func TestValidate(t *testing.T) {
	bogus := networkingv1.PathType("Regex")
	tests := []struct {
		name string
		ing  *networkingv1.Ingress
		want []string
	}{
		{
			name: "valid",
			ing: &networkingv1.Ingress{Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{
				rule("foo.example.com", networkingv1.HTTPIngressPath{Path: "/", PathType: prefix(), Backend: svc("web", 80)}),
			}}},
			want: []string{},
		},
		{name: "empty", ing: &networkingv1.Ingress{}, want: []string{"spec: Invalid value: null: either `defaultBackend` or `rules` must be specified"}},
		{
			name: "bad rules",
			ing: &networkingv1.Ingress{Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{
				rule("10.0.0.1", networkingv1.HTTPIngressPath{Path: "/", Backend: svc("web", 80)}),
				rule("", networkingv1.HTTPIngressPath{Path: "foo//bar", PathType: prefix(), Backend: svc("web", 0)}),
				rule("", networkingv1.HTTPIngressPath{Path: "/", PathType: &bogus, Backend: networkingv1.IngressBackend{}}),
			}}},
			want: []string{
				`spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address`,
				"spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
				`spec.rules[1].http.paths[0].path: Invalid value: "foo//bar": must be an absolute path`,
				`spec.rules[1].http.paths[0].path: Invalid value: "foo//bar": must not contain '//'`,
				"spec.rules[1].http.paths[0].backend: Required value: port name or number is required",
				`spec.rules[2].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"`,
				`spec.rules[2].http.paths[0].backend: Invalid value: "": resource or service backend is required`,
			},
		},
		{
			name: "class annotation disagrees",
			ing: &networkingv1.Ingress{
				ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{ClassAnnotation: "nginx"}},
				Spec:       networkingv1.IngressSpec{IngressClassName: new("traefik"), DefaultBackend: &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Name: "http"}}}},
			},
			want: []string{`annotations.kubernetes.io/ingress.class: Invalid value: "nginx": must match ` + "`ingressClassName`" + ` when both are specified`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, messages(Resource.Validate(context.Background(), tt.ing))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdateKeepsInvalidSecretName(t *testing.T) {
	old := &networkingv1.Ingress{Spec: networkingv1.IngressSpec{
		DefaultBackend: &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}},
		TLS:            []networkingv1.IngressTLS{{SecretName: "Bad_Secret"}},
	}}
	ing := old.DeepCopy()
	if got := messages(Resource.ValidateUpdate(context.Background(), ing, old)); len(got) != 0 {
		t.Errorf("update rejected: %v", got)
	}
	want := []string{`spec.tls[0].secretName: Invalid value: "Bad_Secret": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`}
	if diff := cmp.Diff(want, messages(Resource.Validate(context.Background(), ing))); diff != "" {
		t.Errorf("create (-want +got):\n%s", diff)
	}
}

func TestWarnings(t *testing.T) {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{ClassAnnotation: "nginx"}}}
	want := []string{`annotation "kubernetes.io/ingress.class" is deprecated, please use 'spec.ingressClassName' instead`}
	if diff := cmp.Diff(want, Resource.WarningsOnCreate(context.Background(), ing)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestValidateStatus(t *testing.T) {
	s := &networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "300.1.1.1"}, {Hostname: "1.2.3.4"}}}
	want := []string{
		`status.loadBalancer.ingress[0].ip: Invalid value: "300.1.1.1": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
		`status.loadBalancer.ingress[1].hostname: Invalid value: "1.2.3.4": must be a DNS name, not an IP address`,
	}
	if diff := cmp.Diff(want, messages(ValidateLoadBalancerStatus(s, field.NewPath("status", "loadBalancer")))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestRow(t *testing.T) {
	tests := []struct {
		name string
		ing  *networkingv1.Ingress
		want []any
	}{
		{
			name: "no hosts",
			ing:  &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: networkingv1.IngressSpec{DefaultBackend: &networkingv1.IngressBackend{}}},
			want: []any{"web", "<none>", "*", "", "80", "<unknown>"},
		},
		{
			name: "hosts, tls and address",
			ing: &networkingv1.Ingress{
				ObjectMeta: metav1.ObjectMeta{Name: "web"},
				Spec: networkingv1.IngressSpec{
					IngressClassName: new("nginx"),
					Rules:            []networkingv1.IngressRule{{Host: "a"}, {}, {Host: "b"}, {Host: "c"}, {Host: "d"}},
					TLS:              []networkingv1.IngressTLS{{}},
				},
				Status: networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "10.0.0.2"}, {Hostname: "lb.example.com"}, {IP: "10.0.0.2"}}}},
			},
			want: []any{"web", "nginx", "a,b,c + 2 more...", "10.0.0.2,lb.example.com", "80, 443", "<unknown>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Resource.Row(tt.ing)); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
		})
	}
}
