package framework

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
)

func mustParse(s string) resource.Quantity { return resource.MustParse(s) }

func container(cpu string) v1.Container {
	return v1.Container{Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: mustParse(cpu)}}}
}

func sidecar(cpu string) v1.Container {
	c := container(cpu)
	c.RestartPolicy = ptr.To(v1.ContainerRestartPolicyAlways)
	return c
}

// TestPodRequests checks the effective request upstream computes: regular
// and sidecar containers add up; an init container runs alone, beside the
// sidecars started before it; overhead adds on top.
func TestPodRequests(t *testing.T) {
	tests := []struct {
		name string
		spec v1.PodSpec
		want int64
	}{
		{"containers add up", v1.PodSpec{Containers: []v1.Container{container("1"), container("500m")}}, 1500},
		{"a larger init container wins", v1.PodSpec{InitContainers: []v1.Container{container("3")}, Containers: []v1.Container{container("1")}}, 3000},
		{"a smaller init container does not add", v1.PodSpec{InitContainers: []v1.Container{container("500m")}, Containers: []v1.Container{container("1")}}, 1000},
		{"sidecars add to the containers", v1.PodSpec{InitContainers: []v1.Container{sidecar("500m")}, Containers: []v1.Container{container("1")}}, 1500},
		{"an init container after a sidecar runs beside it",
			v1.PodSpec{InitContainers: []v1.Container{sidecar("1"), container("2")}, Containers: []v1.Container{container("500m")}}, 3000},
		{"overhead adds", v1.PodSpec{Containers: []v1.Container{container("1")}, Overhead: v1.ResourceList{v1.ResourceCPU: mustParse("250m")}}, 1250},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewResource(PodRequests(&v1.Pod{Spec: tt.spec}))
			if r.MilliCPU != tt.want {
				t.Errorf("cpu = %dm, want %dm", r.MilliCPU, tt.want)
			}
		})
	}
}

func TestIsScalarResourceName(t *testing.T) {
	for name, want := range map[v1.ResourceName]bool{
		"example.com/gpu":           true,
		"hugepages-2Mi":             true,
		"attachable-volumes-csi-x":  true,
		"kubernetes.io/something":   true,
		v1.ResourceCPU:              false,
		"requests.example.com/gpu":  false,
		"not a valid/resource name": false,
	} {
		if got := IsScalarResourceName(name); got != want {
			t.Errorf("IsScalarResourceName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestHostPortInfo(t *testing.T) {
	h := HostPortInfo{}
	h.Add("", "", 80)
	h.Add("10.0.0.1", "UDP", 53)
	tests := []struct {
		ip, protocol string
		port         int32
		want         bool
	}{
		{"0.0.0.0", "TCP", 80, true},
		{"10.0.0.2", "TCP", 80, true},
		{"", "UDP", 80, false},
		{"10.0.0.1", "UDP", 53, true},
		{"10.0.0.2", "UDP", 53, false},
		{"", "UDP", 53, true},
		{"", "TCP", 0, false},
	}
	for _, tt := range tests {
		if got := h.CheckConflict(tt.ip, tt.protocol, tt.port); got != tt.want {
			t.Errorf("CheckConflict(%q, %q, %d) = %v, want %v", tt.ip, tt.protocol, tt.port, got, tt.want)
		}
	}
	h.Remove("0.0.0.0", "TCP", 80)
	if h.CheckConflict("", "TCP", 80) {
		t.Error("port 80 still used after removal")
	}
}
