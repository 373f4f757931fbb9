package probe

import (
	"context"
	"fmt"
	"net"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestTCPProbe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	open := l.Addr().(*net.TCPAddr).Port
	closed := unusedPort(t)

	tests := []struct {
		name        string
		action      corev1.TCPSocketAction
		podIP       string
		wantOutcome Outcome
		wantOutput  string
		wantErr     string
	}{
		{name: "open port on the pod IP", action: corev1.TCPSocketAction{Port: intstr.FromInt32(int32(open))}, podIP: "127.0.0.1", wantOutcome: Success},
		{name: "named port on an explicit host", action: corev1.TCPSocketAction{Host: "127.0.0.1", Port: intstr.FromString("svc")}, wantOutcome: Success},
		{
			name:        "closed port",
			action:      corev1.TCPSocketAction{Port: intstr.FromInt32(int32(closed))},
			podIP:       "127.0.0.1",
			wantOutcome: Failure,
			wantOutput:  fmt.Sprintf("dial tcp 127.0.0.1:%d: connect: connection refused", closed),
		},
		{name: "no pod IP", action: corev1.TCPSocketAction{Port: intstr.FromInt32(int32(open))}, wantErr: "no host to probe: the pod has no IP"},
		{name: "port out of range", action: corev1.TCPSocketAction{Port: intstr.FromInt32(70000)}, podIP: "127.0.0.1", wantErr: "invalid port number: 70000"},
	}
	p := newProber(nil, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := withDefaults(&corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &tc.action}})
			tgt := &target{
				container: &corev1.Container{Name: "app", Ports: []corev1.ContainerPort{{Name: "svc", ContainerPort: int32(open)}}},
				podIP:     tc.podIP,
			}
			outcome, output, err := p.check(context.Background(), spec, tgt)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if outcome != tc.wantOutcome || output != tc.wantOutput {
				t.Errorf("got %q %q, want %q %q", outcome, output, tc.wantOutcome, tc.wantOutput)
			}
		})
	}
}
