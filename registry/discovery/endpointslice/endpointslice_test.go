package endpointslice

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
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

func tcp() *corev1.Protocol { p := corev1.ProtocolTCP; return &p }

func slice(t discoveryv1.AddressType, addrs ...string) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "web-abc", Namespace: "default"},
		AddressType: t,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: addrs}},
		Ports:       []discoveryv1.EndpointPort{{Name: new("http"), Protocol: tcp(), Port: new(int32(80))}},
	}
}

func TestValidate(t *testing.T) {
	many := slice(discoveryv1.AddressTypeIPv4)
	many.Endpoints = make([]discoveryv1.Endpoint, MaxEndpoints+1)
	badPorts := slice(discoveryv1.AddressTypeIPv4, "10.0.0.1")
	udp := corev1.Protocol("ICMP")
	badPorts.Ports = []discoveryv1.EndpointPort{
		{Name: new("http"), Protocol: tcp()},
		{Name: new("http"), Protocol: tcp()},
		{Name: new("Bad_Name"), Protocol: &udp},
		{Name: new("")},
	}
	tests := []struct {
		name string
		es   *discoveryv1.EndpointSlice
		want []string
	}{
		{name: "valid IPv4", es: slice(discoveryv1.AddressTypeIPv4, "10.0.0.1"), want: []string{}},
		{name: "valid FQDN", es: slice(discoveryv1.AddressTypeFQDN, "web.example.com"), want: []string{}},
		{name: "missing address type", es: slice("", "10.0.0.1"), want: []string{"addressType: Required value"}},
		{
			name: "unknown address type",
			es:   slice("IP", "10.0.0.1"),
			want: []string{`addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"`},
		},
		{
			name: "bad addresses",
			es:   slice(discoveryv1.AddressTypeIPv4, "not-an-ip", "fd00::1", "127.0.0.1"),
			want: []string{
				`endpoints[0].addresses[0]: Invalid value: "not-an-ip": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
				`endpoints[0].addresses[1]: Invalid value: "fd00::1": must be an IPv4 address`,
				`endpoints[0].addresses[2]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)`,
			},
		},
		{name: "no addresses", es: slice(discoveryv1.AddressTypeIPv4), want: []string{"endpoints[0].addresses: Required value: must contain at least 1 address"}},
		{name: "too many endpoints", es: many, want: []string{"endpoints: Too many: 1001: must have at most 1000 items"}},
		{
			name: "bad ports",
			es:   badPorts,
			want: []string{
				`ports[1].name: Duplicate value: "http"`,
				`ports[2].name: Invalid value: "Bad_Name": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
				`ports[2].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"`,
				"ports[3].protocol: Required value",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, messages(Validate(tt.es))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAddressTypeImmutable(t *testing.T) {
	old := slice(discoveryv1.AddressTypeIPv4, "10.0.0.1")
	es := slice(discoveryv1.AddressTypeIPv6, "fd00::1")
	want := []string{`addressType: Invalid value: "IPv6": field is immutable`}
	if diff := cmp.Diff(want, messages(Resource.ValidateUpdate(context.Background(), es, old))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestGeneration(t *testing.T) {
	ctx := context.Background()
	old := slice(discoveryv1.AddressTypeIPv4, "10.0.0.1")
	old.Generation = 3
	tests := []struct {
		name   string
		change func(*discoveryv1.EndpointSlice)
		want   int64
	}{
		{name: "annotation only", change: func(es *discoveryv1.EndpointSlice) { es.Annotations = map[string]string{"a": "b"} }, want: 3},
		{name: "label", change: func(es *discoveryv1.EndpointSlice) { es.Labels = map[string]string{"a": "b"} }, want: 4},
		{name: "endpoints", change: func(es *discoveryv1.EndpointSlice) { es.Endpoints[0].Addresses = []string{"10.0.0.2"} }, want: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := old.DeepCopy()
			es.Generation = 0
			tt.change(es)
			Resource.PrepareForUpdate(ctx, es, old)
			if es.Generation != tt.want {
				t.Errorf("generation = %d, want %d", es.Generation, tt.want)
			}
		})
	}
}

func TestDeprecatedTopologyDropped(t *testing.T) {
	es := slice(discoveryv1.AddressTypeIPv4, "10.0.0.1")
	es.Endpoints[0].DeprecatedTopology = map[string]string{corev1.LabelHostname: "node-1"}
	Resource.PrepareForCreate(context.Background(), es)
	if es.Endpoints[0].DeprecatedTopology != nil || es.Generation != 1 {
		t.Errorf("got topology %v generation %d", es.Endpoints[0].DeprecatedTopology, es.Generation)
	}
}

func TestRow(t *testing.T) {
	var eps []discoveryv1.Endpoint
	for i := 1; i <= 5; i++ {
		eps = append(eps, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.0.0.%d", i)}})
	}
	tests := []struct {
		name string
		es   *discoveryv1.EndpointSlice
		want []any
	}{
		{name: "one", es: slice(discoveryv1.AddressTypeIPv4, "10.0.0.1"), want: []any{"web-abc", "IPv4", "80", "10.0.0.1", "<unknown>"}},
		{
			name: "more than three",
			es: &discoveryv1.EndpointSlice{
				ObjectMeta: metav1.ObjectMeta{Name: "s"}, AddressType: discoveryv1.AddressTypeIPv4, Endpoints: eps,
				Ports: []discoveryv1.EndpointPort{{Port: new(int32(80))}, {Name: new("dns")}, {}, {Port: new(int32(9))}},
			},
			want: []any{"s", "IPv4", "80,dns,* + 1 more...", "10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...", "<unknown>"},
		},
		{name: "empty", es: &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "e"}, AddressType: "FQDN"}, want: []any{"e", "FQDN", "<unset>", "<unset>", "<unknown>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Resource.Row(tt.es)); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
		})
	}
}
