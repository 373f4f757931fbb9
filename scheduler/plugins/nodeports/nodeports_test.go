package nodeports

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2/ktesting"

	"github.com/capstan-dev/capstan/scheduler/framework"
	st "github.com/capstan-dev/capstan/scheduler/schedulertest"
)

func TestFilter(t *testing.T) {
	tcp, udp := v1.ProtocolTCP, v1.ProtocolUDP
	node := st.MakeNode("n").Obj()
	tests := []struct {
		name     string
		pod      *v1.Pod
		existing []*v1.Pod
		want     framework.Code
	}{
		{name: "no host ports", pod: st.MakePod("p").Obj(), existing: []*v1.Pod{st.MakePod("e").HostPort("", tcp, 80).Obj()}, want: framework.Skip},
		{name: "free port", pod: st.MakePod("p").HostPort("", tcp, 80).Obj(), existing: []*v1.Pod{st.MakePod("e").HostPort("", tcp, 81).Obj()}, want: framework.Success},
		{name: "same port and protocol", pod: st.MakePod("p").HostPort("", tcp, 80).Obj(), existing: []*v1.Pod{st.MakePod("e").HostPort("", tcp, 80).Obj()}, want: framework.Unschedulable},
		{name: "same port, other protocol", pod: st.MakePod("p").HostPort("", udp, 80).Obj(), existing: []*v1.Pod{st.MakePod("e").HostPort("", tcp, 80).Obj()}, want: framework.Success},
		{name: "protocol defaults to TCP", pod: st.MakePod("p").HostPort("", "", 80).Obj(), existing: []*v1.Pod{st.MakePod("e").HostPort("", tcp, 80).Obj()}, want: framework.Unschedulable},
		{name: "different host IPs", pod: st.MakePod("p").HostPort("10.0.0.1", tcp, 80).Obj(), existing: []*v1.Pod{st.MakePod("e").HostPort("10.0.0.2", tcp, 80).Obj()}, want: framework.Success},
		{name: "specific IP against all addresses", pod: st.MakePod("p").HostPort("10.0.0.1", tcp, 80).Obj(), existing: []*v1.Pod{st.MakePod("e").HostPort("0.0.0.0", tcp, 80).Obj()}, want: framework.Unschedulable},
		{name: "all addresses against a specific IP", pod: st.MakePod("p").HostPort("", tcp, 80).Obj(), existing: []*v1.Pod{st.MakePod("e").HostPort("10.0.0.2", tcp, 80).Obj()}, want: framework.Unschedulable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, e := range tt.existing {
				e.Spec.NodeName = "n"
			}
			pl := &NodePorts{}
			state := framework.NewCycleState()
			_, s := pl.PreFilter(context.Background(), state, tt.pod, nil)
			if s.IsSkip() {
				if tt.want != framework.Skip {
					t.Fatalf("PreFilter skipped, want %v", tt.want)
				}
				return
			}
			s = pl.Filter(context.Background(), state, tt.pod, st.NodeInfo(node, tt.existing...))
			if s.Code() != tt.want {
				t.Errorf("Filter = %v, want %v", s, tt.want)
			}
			if s.IsRejected() && s.Message() != ErrReason {
				t.Errorf("reason %q", s.Message())
			}
		})
	}
}

func TestSidecarPortsAreHeld(t *testing.T) {
	existing := st.MakePod("e").Node("n").Sidecar().Obj()
	existing.Spec.InitContainers[0].Ports = []v1.ContainerPort{{HostPort: 9000, ContainerPort: 9000}}
	if Fits(st.MakePod("p").HostPort("", v1.ProtocolTCP, 9000).Obj(), st.NodeInfo(st.MakeNode("n").Obj(), existing)) {
		t.Error("a sidecar's host port was treated as free")
	}
	plainInit := st.MakePod("e").Node("n").Init().Obj()
	plainInit.Spec.InitContainers[0].Ports = []v1.ContainerPort{{HostPort: 9000, ContainerPort: 9000}}
	if !Fits(st.MakePod("p").HostPort("", v1.ProtocolTCP, 9000).Obj(), st.NodeInfo(st.MakeNode("n").Obj(), plainInit)) {
		t.Error("an init container's host port was treated as held")
	}
}

func TestQueueingHintAfterPodDeleted(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	pod := st.MakePod("p").HostPort("", v1.ProtocolTCP, 80).Obj()
	tests := []struct {
		name    string
		deleted *v1.Pod
		want    framework.QueueingHint
	}{
		{"holder of the port", st.MakePod("d").Node("n").HostPort("", v1.ProtocolTCP, 80).Obj(), framework.Queue},
		{"other port", st.MakePod("d").Node("n").HostPort("", v1.ProtocolTCP, 81).Obj(), framework.QueueSkip},
		{"no ports", st.MakePod("d").Node("n").Obj(), framework.QueueSkip},
		{"unassigned", st.MakePod("d").HostPort("", v1.ProtocolTCP, 80).Obj(), framework.QueueSkip},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := isSchedulableAfterPodDeleted(logger, pod, tt.deleted, nil)
			if err != nil || got != tt.want {
				t.Errorf("hint = %v (%v), want %v", got, err, tt.want)
			}
		})
	}
}
