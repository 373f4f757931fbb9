package probe

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	corev1 "k8s.io/api/core/v1"
)

// startGRPC serves gRPC on a loopback port, with the health service when
// statuses is not nil, and returns the port and a function reporting the
// last user agent seen.
func startGRPC(t *testing.T, statuses map[string]healthpb.HealthCheckResponse_ServingStatus) (int, func() string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var ua string
	s := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		mu.Lock()
		ua = strings.Join(md.Get("user-agent"), ",")
		mu.Unlock()
		return handler(ctx, req)
	}))
	if statuses != nil {
		hs := health.NewServer()
		for svc, st := range statuses {
			hs.SetServingStatus(svc, st)
		}
		healthpb.RegisterHealthServer(s, hs)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(s.Stop)
	return l.Addr().(*net.TCPAddr).Port, func() string {
		mu.Lock()
		defer mu.Unlock()
		return ua
	}
}

func TestGRPCProbe(t *testing.T) {
	healthy, userAgentSeen := startGRPC(t, map[string]healthpb.HealthCheckResponse_ServingStatus{
		"":         healthpb.HealthCheckResponse_SERVING,
		"draining": healthpb.HealthCheckResponse_NOT_SERVING,
	})
	noHealth, _ := startGRPC(t, nil)
	closed := unusedPort(t)

	tests := []struct {
		name        string
		port        int
		service     *string
		timeout     time.Duration
		wantOutcome Outcome
		wantOutput  string
	}{
		{name: "serving", port: healthy, wantOutcome: Success, wantOutput: "service healthy"},
		{name: "not serving service", port: healthy, service: ptr("draining"), wantOutcome: Failure, wantOutput: `service unhealthy (responded with "NOT_SERVING")`},
		{
			name:        "unknown service",
			port:        healthy,
			service:     ptr("nope"),
			wantOutcome: Failure,
			wantOutput:  "error: health rpc probe failed: rpc error: code = NotFound desc = unknown service",
		},
		{
			name:        "no health service",
			port:        noHealth,
			wantOutcome: Failure,
			wantOutput:  "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service grpc.health.v1.Health",
		},
		{
			name:        "nothing listening",
			port:        closed,
			timeout:     200 * time.Millisecond,
			wantOutcome: Failure,
			wantOutput:  fmt.Sprintf(`timeout: failed to connect service "127.0.0.1:%d" within 200ms: context deadline exceeded`, closed),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.timeout == 0 {
				spec := withDefaults(&corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: int32(tc.port), Service: tc.service}}})
				outcome, output, err := newProber(nil, nil).check(context.Background(), spec, &target{container: &corev1.Container{Name: "app"}, podIP: "127.0.0.1"})
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if outcome != tc.wantOutcome || output != tc.wantOutput {
					t.Errorf("got %q %q, want %q %q", outcome, output, tc.wantOutcome, tc.wantOutput)
				}
				return
			}
			// Timeouts shorter than the API's one second.
			service := ""
			if tc.service != nil {
				service = *tc.service
			}
			outcome, output, err := runGRPC(context.Background(), "127.0.0.1", tc.port, service, tc.timeout)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if outcome != tc.wantOutcome || output != tc.wantOutput {
				t.Errorf("got %q %q, want %q %q", outcome, output, tc.wantOutcome, tc.wantOutput)
			}
		})
	}
	if ua := userAgentSeen(); !strings.HasPrefix(ua, "kube-probe/1.37") {
		t.Errorf("user agent = %q, want kube-probe/1.37 first", ua)
	}
}

func ptr[T any](v T) *T { return &v }
