package ingressclass

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

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		spec networkingv1.IngressClassSpec
		want []string
	}{
		{name: "valid", spec: networkingv1.IngressClassSpec{Controller: "example.com/ingress"}, want: []string{}},
		{name: "no controller", spec: networkingv1.IngressClassSpec{}, want: []string{"spec.controller: Required value"}},
		{
			name: "namespace scope without namespace",
			spec: networkingv1.IngressClassSpec{Controller: "example.com/ingress", Parameters: &networkingv1.IngressClassParametersReference{
				Kind: "Params", Name: "p", Scope: new(networkingv1.IngressClassParametersReferenceScopeNamespace),
			}},
			want: []string{"spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'"},
		},
		{
			name: "cluster scope with namespace",
			spec: networkingv1.IngressClassSpec{Controller: "example.com/ingress", Parameters: &networkingv1.IngressClassParametersReference{
				Name: "p", Scope: new(networkingv1.IngressClassParametersReferenceScopeCluster), Namespace: new("default"),
			}},
			want: []string{
				"spec.parameters.kind: Required value: kind is required",
				"spec.parameters.namespace: Forbidden: `parameters.scope` is set to 'Cluster'",
			},
		},
		{
			name: "unknown scope",
			spec: networkingv1.IngressClassSpec{Controller: "example.com/ingress", Parameters: &networkingv1.IngressClassParametersReference{
				Kind: "Params", Name: "p", Scope: new("Global"),
			}},
			want: []string{`spec.parameters.scope: Unsupported value: "Global": supported values: "Cluster", "Namespace"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ic := &networkingv1.IngressClass{Spec: tt.spec}
			if diff := cmp.Diff(tt.want, messages(Resource.Validate(context.Background(), ic))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestControllerImmutable(t *testing.T) {
	old := &networkingv1.IngressClass{Spec: networkingv1.IngressClassSpec{Controller: "example.com/a"}}
	ic := &networkingv1.IngressClass{Spec: networkingv1.IngressClassSpec{Controller: "example.com/b"}}
	want := []string{`spec.controller: Invalid value: "example.com/b": field is immutable`}
	if diff := cmp.Diff(want, messages(Resource.ValidateUpdate(context.Background(), ic, old))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestRow(t *testing.T) {
	ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx"}, Spec: networkingv1.IngressClassSpec{
		Controller: "k8s.io/ingress-nginx",
		Parameters: &networkingv1.IngressClassParametersReference{APIGroup: new("k8s.example.com"), Kind: "IngressParameters", Name: "external-lb"},
	}}
	want := []any{"nginx", "k8s.io/ingress-nginx", "IngressParameters.k8s.example.com/external-lb", "<unknown>"}
	if diff := cmp.Diff(want, Resource.Row(ic)); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
}
