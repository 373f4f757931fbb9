package servicecidr

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

func cidr(cidrs ...string) *networkingv1.ServiceCIDR {
	return &networkingv1.ServiceCIDR{ObjectMeta: metav1.ObjectMeta{Name: "kubernetes"}, Spec: networkingv1.ServiceCIDRSpec{CIDRs: cidrs}}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		sc   *networkingv1.ServiceCIDR
		want []string
	}{
		{name: "single", sc: cidr("10.96.0.0/12"), want: []string{}},
		{name: "dual", sc: cidr("10.96.0.0/12", "fd00:10:96::/112"), want: []string{}},
		{name: "none", sc: cidr(), want: []string{"spec.cidrs: Required value: at least one CIDR required"}},
		{
			name: "two of a family",
			sc:   cidr("10.96.0.0/12", "10.128.0.0/12"),
			want: []string{`spec.cidrs: Invalid value: {"cidrs":["10.96.0.0/12","10.128.0.0/12"]}: may specify no more than one IP for each IP family, i.e 192.168.0.0/24 and 2001:db8::/64`},
		},
		{name: "host bits set", sc: cidr("10.96.0.1/12"), want: []string{`spec.cidrs[0]: Invalid value: "10.96.0.1/12": must not have bits set beyond the prefix length`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, messages(Resource.Validate(context.Background(), tt.sc))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	tests := []struct {
		name     string
		old, new *networkingv1.ServiceCIDR
		want     []string
	}{
		{name: "unchanged", old: cidr("10.96.0.0/12"), new: cidr("10.96.0.0/12"), want: []string{}},
		{name: "to dual stack", old: cidr("10.96.0.0/12"), new: cidr("10.96.0.0/12", "fd00::/112"), want: []string{}},
		{
			name: "changed",
			old:  cidr("10.96.0.0/12"), new: cidr("10.112.0.0/12"),
			want: []string{`spec.cidrs[0]: Invalid value: ["10.112.0.0/12"]: field is immutable`},
		},
		{
			name: "dropped family",
			old:  cidr("10.96.0.0/12", "fd00::/112"), new: cidr("10.96.0.0/12"),
			want: []string{`spec.cidrs: Invalid value: ["10.96.0.0/12"]: field is immutable`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, messages(Resource.ValidateUpdate(context.Background(), tt.new, tt.old))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRow(t *testing.T) {
	if diff := cmp.Diff([]any{"kubernetes", "10.96.0.0/12,fd00::/112", "<unknown>"}, Resource.Row(cidr("10.96.0.0/12", "fd00::/112"))); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
}
