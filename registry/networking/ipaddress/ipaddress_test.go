package ipaddress

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

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{name: "10.96.0.1", want: nil},
		{name: "2001:db8::1", want: nil},
		{name: "2001:db8:0::1", want: []string{`must be in canonical form ("2001:db8::1")`}},
		{name: "010.0.0.1", want: []string{"must not have leading 0s"}},
		{name: "web", want: []string{"must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ValidateName(tt.name, false)); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		ref  *networkingv1.ParentReference
		want []string
	}{
		{name: "service", ref: &networkingv1.ParentReference{Resource: "services", Namespace: "default", Name: "kubernetes"}, want: []string{}},
		{name: "missing", want: []string{"spec.parentRef: Required value"}},
		{
			name: "incomplete",
			ref:  &networkingv1.ParentReference{Group: "Not_A_Group", Name: "a/b"},
			want: []string{
				`spec.parentRef.group: Invalid value: "Not_A_Group": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
				"spec.parentRef.resource: Required value",
				`spec.parentRef.name: Invalid value: "a/b": may not contain '/'`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ip := &networkingv1.IPAddress{Spec: networkingv1.IPAddressSpec{ParentRef: tt.ref}}
			if diff := cmp.Diff(tt.want, messages(Validate(ip))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParentRefImmutable(t *testing.T) {
	old := &networkingv1.IPAddress{Spec: networkingv1.IPAddressSpec{ParentRef: &networkingv1.ParentReference{Resource: "services", Namespace: "default", Name: "a"}}}
	ip := old.DeepCopy()
	ip.Spec.ParentRef.Name = "b"
	want := []string{`spec.parentRef: Invalid value: {"resource":"services","namespace":"default","name":"b"}: field is immutable`}
	if diff := cmp.Diff(want, messages(Resource.ValidateUpdate(context.Background(), ip, old))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestRow(t *testing.T) {
	tests := []struct {
		name string
		ip   *networkingv1.IPAddress
		want []any
	}{
		{
			name: "service",
			ip:   &networkingv1.IPAddress{ObjectMeta: metav1.ObjectMeta{Name: "10.96.0.1"}, Spec: networkingv1.IPAddressSpec{ParentRef: &networkingv1.ParentReference{Resource: "services", Namespace: "default", Name: "kubernetes"}}},
			want: []any{"10.96.0.1", "services/default/kubernetes", "<unknown>"},
		},
		{
			name: "grouped, cluster-scoped",
			ip:   &networkingv1.IPAddress{ObjectMeta: metav1.ObjectMeta{Name: "10.0.0.9"}, Spec: networkingv1.IPAddressSpec{ParentRef: &networkingv1.ParentReference{Group: "gateway.networking.k8s.io", Resource: "Gateways", Name: "gw"}}},
			want: []any{"10.0.0.9", "gateways.gateway.networking.k8s.io/gw", "<unknown>"},
		},
		{name: "none", ip: &networkingv1.IPAddress{ObjectMeta: metav1.ObjectMeta{Name: "10.0.0.8"}}, want: []any{"10.0.0.8", "<none>", "<unknown>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Resource.Row(tt.ip)); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
		})
	}
}
