package probe

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestProberResultsAndEvents(t *testing.T) {
	server := httptest.NewServer(&probeServer{})
	defer server.Close()
	port := intstr.FromInt32(int32(serverPort(t, server)))

	tests := []struct {
		name       string
		kind       Kind
		path       string
		podIP      string
		want       Result
		wantErr    bool
		wantEvents []string
	}{
		{name: "success", kind: Readiness, path: "/ok", want: Result{Outcome: Success}},
		{
			name: "redirect warning counts as success", kind: Readiness, path: "/redirect-remote",
			want:       Result{Outcome: Success},
			wantEvents: []string{"spec.initContainers{sidecar} Warning ProbeWarning Readiness probe warning: Probe terminated redirects, Response body: elsewhere"},
		},
		{
			name: "failure", kind: Startup, path: "/status?code=503",
			want:       Result{Outcome: Failure, Message: "Startup probe failed: HTTP probe failed with statuscode: 503"},
			wantEvents: []string{"spec.initContainers{sidecar} Warning Unhealthy Startup probe failed: HTTP probe failed with statuscode: 503"},
		},
		{
			name: "error", kind: Liveness, path: "/ok", podIP: "-",
			wantErr:    true,
			wantEvents: []string{"spec.initContainers{sidecar} Warning Unhealthy Liveness probe errored and resulted in unknown state: no host to probe: the pod has no IP"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &fakeRecorder{}
			p := newProber(nil, rec)
			pod := newPod("sidecar").pod
			pod.Spec.InitContainers = []corev1.Container{{Name: "sidecar"}}
			podIP := "127.0.0.1"
			if tc.podIP == "-" {
				podIP = ""
			}
			tgt := &target{container: &pod.Spec.InitContainers[0], containerID: "cid", podIP: podIP, ref: containerRef(pod, "sidecar")}
			spec := withDefaults(&corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: tc.path, Port: port}}})

			got, err := p.probe(context.Background(), tc.kind, spec, tgt)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantEvents, rec.take(), cmpEmpty); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}
