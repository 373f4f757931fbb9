package fieldpath

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func testPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web", Namespace: "ns", UID: "uid-1",
			Labels:      map[string]string{"app": "web", "tier": "front"},
			Annotations: map[string]string{"note": "a \"quoted\"\nline", "example.com/owner": "me"},
		},
		Spec: corev1.PodSpec{
			NodeName:           "node-1",
			ServiceAccountName: "sa",
			Containers: []corev1.Container{{
				Name: "app",
				Resources: corev1.ResourceRequirements{
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1250m"), "hugepages-2Mi": resource.MustParse("4Mi")},
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
				},
			}},
			InitContainers: []corev1.Container{{
				Name:      "init",
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("32Mi")}},
			}},
		},
		Status: corev1.PodStatus{PodIPs: []corev1.PodIP{{IP: "fd00::5"}, {IP: "10.0.0.5"}}},
	}
}

func testNode(addrs ...string) *corev1.Node {
	n := &corev1.Node{Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("4"),
		corev1.ResourceMemory:           resource.MustParse("8Gi"),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}}}
	for _, a := range addrs {
		n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: a})
	}
	return n
}

func TestField(t *testing.T) {
	tests := []struct {
		name          string
		src           Source
		noNode        bool
		statusHostIPs []string
		path          string
		version       string
		want          string
		wantErr       string
	}{
		{name: "name", path: "metadata.name", want: "web"},
		{name: "namespace", path: "metadata.namespace", want: "ns"},
		{name: "uid", path: "metadata.uid", want: "uid-1"},
		{name: "labels", path: "metadata.labels", want: "app=\"web\"\ntier=\"front\""},
		{name: "annotations escaped", path: "metadata.annotations", want: "example.com/owner=\"me\"\nnote=\"a \\\"quoted\\\"\\nline\""},
		{name: "one label", path: "metadata.labels['tier']", want: "front"},
		{name: "missing label", path: "metadata.labels['nope']", want: ""},
		{name: "one annotation", path: "metadata.annotations['example.com/owner']", want: "me"},
		{name: "invalid subscript", path: "metadata.labels['a b']", wantErr: "invalid key subscript in metadata.labels['a b']"},
		{name: "subscript not supported", path: "metadata.name['x']", wantErr: "field label does not support subscript: metadata.name['x']"},
		{name: "node name", path: "spec.nodeName", want: "node-1"},
		{name: "legacy spec.host", path: "spec.host", want: "node-1"},
		{name: "service account", path: "spec.serviceAccountName", want: "sa"},
		{name: "host IP", path: "status.hostIP", want: "10.1.1.1"},
		{name: "host IPs", path: "status.hostIPs", want: "10.1.1.1,fd01::1"},
		{name: "pod IP primary family first", path: "status.podIP", want: "10.0.0.5"},
		{name: "pod IPs", path: "status.podIPs", want: "10.0.0.5,fd00::5"},
		{name: "runtime pod IPs win", path: "status.podIPs", src: Source{PodIPs: []string{"10.9.9.9"}}, want: "10.9.9.9"},
		{name: "node without addresses", path: "status.hostIP", src: Source{Node: &corev1.Node{}}, wantErr: "host IP unknown"},
		{name: "no node: host IPs from the pod's status", path: "status.hostIPs", noNode: true, statusHostIPs: []string{"10.2.2.2", "fd02::2"}, want: "10.2.2.2,fd02::2"},
		{name: "no node at all", path: "status.hostIP", noNode: true, wantErr: "failed to find node object"},
		{name: "phase not resolvable on node", path: "status.phase", wantErr: "unsupported fieldPath: status.phase"},
		{name: "unknown path", path: "spec.hostname", wantErr: "field label not supported: spec.hostname"},
		{name: "bad version", path: "metadata.name", version: "v2", wantErr: "unsupported pod version: v2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src
			src.Pod = testPod()
			for _, ip := range tt.statusHostIPs {
				src.Pod.Status.HostIPs = append(src.Pod.Status.HostIPs, corev1.HostIP{IP: ip})
			}
			if src.Node == nil && !tt.noNode {
				src.Node = testNode("10.1.1.1", "fd01::1", "10.1.1.2")
			}
			version := tt.version
			if version == "" {
				version = "v1"
			}
			got, err := src.Field(&corev1.ObjectFieldSelector{APIVersion: version, FieldPath: tt.path})
			checkResult(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestResource(t *testing.T) {
	withPodLimits := func(s *Source) {
		s.Pod.Spec.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}}
	}
	tests := []struct {
		name      string
		sel       corev1.ResourceFieldSelector
		mutate    func(*Source)
		container string // the calling container; "" = none
		want      string
		wantErr   string
	}{
		{name: "cpu limit rounds up", sel: corev1.ResourceFieldSelector{Resource: "limits.cpu"}, container: "app", want: "2"},
		{name: "cpu limit in millicores", sel: corev1.ResourceFieldSelector{Resource: "limits.cpu", Divisor: resource.MustParse("1m")}, container: "app", want: "1250"},
		{name: "cpu request", sel: corev1.ResourceFieldSelector{Resource: "requests.cpu", Divisor: resource.MustParse("1m")}, container: "app", want: "250"},
		{name: "memory request in Mi", sel: corev1.ResourceFieldSelector{Resource: "requests.memory", Divisor: resource.MustParse("1Mi")}, container: "app", want: "64"},
		{name: "memory limit defaults to allocatable", sel: corev1.ResourceFieldSelector{Resource: "limits.memory"}, container: "app", want: "8589934592"},
		{name: "memory limit defaults to pod limit", sel: corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}, mutate: withPodLimits, container: "app", want: "1024"},
		{name: "ephemeral storage limit", sel: corev1.ResourceFieldSelector{Resource: "limits.ephemeral-storage", Divisor: resource.MustParse("1Gi")}, container: "app", want: "100"},
		{name: "missing request is zero", sel: corev1.ResourceFieldSelector{Resource: "requests.ephemeral-storage"}, container: "app", want: "0"},
		{name: "hugepages limit", sel: corev1.ResourceFieldSelector{Resource: "limits.hugepages-2Mi", Divisor: resource.MustParse("1Mi")}, container: "app", want: "4"},
		{name: "named init container", sel: corev1.ResourceFieldSelector{ContainerName: "init", Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}, want: "32"},
		{name: "named container overrides caller", sel: corev1.ResourceFieldSelector{ContainerName: "init", Resource: "limits.cpu"}, container: "app", want: "4"},
		{name: "unknown container", sel: corev1.ResourceFieldSelector{ContainerName: "nope", Resource: "limits.cpu"}, wantErr: "container nope not found"},
		{name: "unsupported resource", sel: corev1.ResourceFieldSelector{Resource: "limits.nvidia.com/gpu"}, container: "app", wantErr: "unsupported container resource : limits.nvidia.com/gpu"},
		{name: "limits need the node", sel: corev1.ResourceFieldSelector{Resource: "limits.cpu"}, container: "app", mutate: func(s *Source) { s.Node = nil }, wantErr: "failed to find node object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := Source{Pod: testPod(), Node: testNode("10.1.1.1")}
			if tt.mutate != nil {
				tt.mutate(&src)
			}
			var c *corev1.Container
			if tt.container != "" {
				c = &src.Pod.Spec.Containers[0]
			}
			got, err := src.Resource(&tt.sel, c)
			checkResult(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestHostIPs(t *testing.T) {
	tests := []struct {
		name  string
		addrs []corev1.NodeAddress
		want  []string
	}{
		{name: "internal before external", addrs: []corev1.NodeAddress{{Type: corev1.NodeExternalIP, Address: "1.2.3.4"}, {Type: corev1.NodeInternalIP, Address: "10.0.0.1"}}, want: []string{"10.0.0.1"}},
		{name: "dual stack", addrs: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "fd00::1"}, {Type: corev1.NodeInternalIP, Address: "fd00::2"}, {Type: corev1.NodeExternalIP, Address: "1.2.3.4"}}, want: []string{"fd00::1", "1.2.3.4"}},
		{name: "hostname only", addrs: []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "n"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := HostIPs(&corev1.Node{Status: corev1.NodeStatus{Addresses: tt.addrs}})
			if tt.want == nil {
				if err == nil {
					t.Fatalf("want error, got %v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func checkResult(t *testing.T, got string, err error, want, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error = %v, want containing %q", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
