package probe

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// seenRequest is what the test server saw of a probe request.
type seenRequest struct {
	Host      string
	UserAgent string
	Accept    []string
	Custom    string
}

// probeServer serves the paths the HTTP probe tests use and records the
// request headers of the last request.
type probeServer struct {
	mu   sync.Mutex
	last seenRequest
}

func (s *probeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.last = seenRequest{Host: r.Host, UserAgent: r.UserAgent(), Accept: r.Header.Values("Accept"), Custom: r.Header.Get("X-Custom")}
	s.mu.Unlock()
	switch {
	case r.URL.Path == "/ok":
		fmt.Fprint(w, "fine")
	case r.URL.Path == "/big":
		fmt.Fprint(w, strings.Repeat("b", 3*maxOutputBytes))
	case r.URL.Path == "/status":
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		w.WriteHeader(code)
		fmt.Fprint(w, "body")
	case r.URL.Path == "/redirect-local":
		http.Redirect(w, r, "/ok", http.StatusFound)
	case r.URL.Path == "/redirect-remote":
		// Same server, other host name: not followed.
		_, port, _ := net.SplitHostPort(r.Host)
		w.Header().Set("Location", "http://localhost:"+port+"/ok")
		w.WriteHeader(http.StatusFound)
		fmt.Fprint(w, "elsewhere")
	case r.URL.Path == "/loop":
		http.Redirect(w, r, "/loop", http.StatusFound)
	default:
		http.NotFound(w, r)
	}
}

func (s *probeServer) seen() seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func serverPort(t *testing.T, s *httptest.Server) int {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func TestHTTPProbe(t *testing.T) {
	handler := &probeServer{}
	plain := httptest.NewServer(handler)
	defer plain.Close()
	tlsServer := httptest.NewTLSServer(handler)
	defer tlsServer.Close()
	plainPort, tlsPort := serverPort(t, plain), serverPort(t, tlsServer)
	closedPort := unusedPort(t)

	tests := []struct {
		name   string
		action corev1.HTTPGetAction
		podIP  string
		ports  []corev1.ContainerPort

		wantOutcome Outcome
		wantOutput  string
		wantErr     string
		wantSeen    *seenRequest
	}{
		{
			name:        "200 with default headers",
			action:      corev1.HTTPGetAction{Path: "/ok", Port: intstr.FromInt32(int32(plainPort))},
			wantOutcome: Success,
			wantOutput:  "fine",
			wantSeen:    &seenRequest{Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(plainPort)), UserAgent: "kube-probe/1.37", Accept: []string{"*/*"}},
		},
		{
			name: "headers with Host and User-Agent overrides and no Accept",
			action: corev1.HTTPGetAction{Path: "/ok", Port: intstr.FromInt32(int32(plainPort)), HTTPHeaders: []corev1.HTTPHeader{
				{Name: "Host", Value: "example.com"},
				{Name: "user-agent", Value: "mine"},
				{Name: "Accept", Value: ""},
				{Name: "X-Custom", Value: "yes"},
			}},
			wantOutcome: Success,
			wantOutput:  "fine",
			wantSeen:    &seenRequest{Host: "example.com", UserAgent: "mine", Custom: "yes"},
		},
		{
			name:        "named port and explicit host",
			action:      corev1.HTTPGetAction{Path: "/ok", Host: "127.0.0.1", Port: intstr.FromString("web")},
			podIP:       "192.0.2.1",
			ports:       []corev1.ContainerPort{{Name: "metrics", ContainerPort: 1}, {Name: "web", ContainerPort: int32(plainPort)}},
			wantOutcome: Success,
			wantOutput:  "fine",
		},
		{
			name:        "HTTPS without certificate verification",
			action:      corev1.HTTPGetAction{Path: "/ok", Port: intstr.FromInt32(int32(tlsPort)), Scheme: corev1.URISchemeHTTPS},
			wantOutcome: Success,
			wantOutput:  "fine",
		},
		{
			name:        "399 is a success",
			action:      corev1.HTTPGetAction{Path: "/status?code=204", Port: intstr.FromInt32(int32(plainPort))},
			wantOutcome: Success,
			wantOutput:  "",
		},
		{
			name:        "body read limited",
			action:      corev1.HTTPGetAction{Path: "/big", Port: intstr.FromInt32(int32(plainPort))},
			wantOutcome: Success,
			wantOutput:  strings.Repeat("b", maxOutputBytes),
		},
		{
			name:        "redirect on the same host is followed",
			action:      corev1.HTTPGetAction{Path: "/redirect-local", Port: intstr.FromInt32(int32(plainPort))},
			wantOutcome: Success,
			wantOutput:  "fine",
		},
		{
			name:        "redirect to another host is a warning",
			action:      corev1.HTTPGetAction{Path: "/redirect-remote", Port: intstr.FromInt32(int32(plainPort))},
			wantOutcome: warning,
			wantOutput:  "Probe terminated redirects, Response body: elsewhere",
		},
		{
			name:        "redirect loop",
			action:      corev1.HTTPGetAction{Path: "/loop", Port: intstr.FromInt32(int32(plainPort))},
			wantOutcome: Failure,
			wantOutput:  `Get "/loop": stopped after 10 redirects`,
		},
		{
			name:        "500",
			action:      corev1.HTTPGetAction{Path: "/status?code=500", Port: intstr.FromInt32(int32(plainPort))},
			wantOutcome: Failure,
			wantOutput:  "HTTP probe failed with statuscode: 500",
		},
		{
			name:        "404",
			action:      corev1.HTTPGetAction{Path: "/nothing", Port: intstr.FromInt32(int32(plainPort))},
			wantOutcome: Failure,
			wantOutput:  "HTTP probe failed with statuscode: 404",
		},
		{
			name:        "connection refused",
			action:      corev1.HTTPGetAction{Path: "/ok", Port: intstr.FromInt32(int32(closedPort))},
			wantOutcome: Failure,
			wantOutput:  fmt.Sprintf(`Get "http://127.0.0.1:%d/ok": dial tcp 127.0.0.1:%d: connect: connection refused`, closedPort, closedPort),
		},
		{
			name:    "unknown port name",
			action:  corev1.HTTPGetAction{Path: "/ok", Port: intstr.FromString("web")},
			wantErr: `port "web" not found`,
		},
		{
			name:    "no pod IP",
			action:  corev1.HTTPGetAction{Path: "/ok", Port: intstr.FromInt32(int32(plainPort))},
			podIP:   "-",
			wantErr: "no host to probe: the pod has no IP",
		},
	}
	p := newProber(nil, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			podIP := tc.podIP
			switch podIP {
			case "":
				podIP = "127.0.0.1"
			case "-":
				podIP = ""
			}
			spec := withDefaults(&corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &tc.action}})
			tgt := &target{container: &corev1.Container{Name: "app", Ports: tc.ports}, podIP: podIP}

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
			if outcome != tc.wantOutcome {
				t.Errorf("outcome = %q, want %q (output %q)", outcome, tc.wantOutcome, output)
			}
			if output != tc.wantOutput {
				t.Errorf("output (-want +got):\n%s", cmp.Diff(tc.wantOutput, output))
			}
			if tc.wantSeen != nil {
				if diff := cmp.Diff(*tc.wantSeen, handler.seen()); diff != "" {
					t.Errorf("request seen by the server (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestHTTPProbeTimeout(t *testing.T) {
	release := make(chan struct{})
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer server.Close()
	defer close(release)

	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, server.URL+"/slow", nil)
	if err != nil {
		t.Fatal(err)
	}
	outcome, output, err := runHTTP(req, newHTTPTransport(), 50*time.Millisecond)
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if outcome != Failure || !strings.Contains(output, "Client.Timeout exceeded") {
		t.Errorf("got %q %q, want a failure for the client timeout", outcome, output)
	}
}

// unusedPort returns a loopback port nothing listens on.
func unusedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}
