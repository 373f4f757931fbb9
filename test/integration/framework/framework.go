// Package framework boots a real Capstan server in-process, with embedded
// etcd in a temporary directory, through the same code path as `capstan server`.
package framework

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2/ktesting"

	"github.com/capstan-dev/capstan/apiserver"
)

// Server is a running in-process server.
type Server struct {
	// Config is the admin client configuration (system:masters via client certificate).
	Config     *rest.Config
	Kubeconfig string
	DataDir    string
	// URL is the server's address, for node agents.
	URL     string
	cancel  context.CancelFunc
	srv     *apiserver.Server
	stopped bool
}

// StartTimeout bounds how long a server may take to become ready.
const StartTimeout = 90 * time.Second

// Start boots a server with its own data directory and waits for /readyz.
// The server is stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartIn(t, t.TempDir())
}

// StartIn boots a server on dataDir (reusing what an earlier server left there).
func StartIn(t testing.TB, dataDir string) *Server {
	t.Helper()
	return StartWith(t, dataDir, nil)
}

// StartWith boots a server on dataDir after adjust has changed its options.
func StartWith(t testing.TB, dataDir string, adjust func(*apiserver.Options)) *Server {
	t.Helper()
	o := apiserver.NewOptions()
	o.DataDir = dataDir
	o.BindAddress = net.ParseIP("127.0.0.1")
	o.SecurePort = 0
	if adjust != nil {
		adjust(o)
	}
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	srv, err := apiserver.Start(ctx, o)
	if err != nil {
		cancel()
		t.Fatalf("starting server: %v", err)
	}
	s := &Server{Kubeconfig: srv.Kubeconfig, DataDir: dataDir, URL: srv.URL, cancel: cancel, srv: srv}
	t.Cleanup(s.Stop)
	cfg, err := srv.AdminConfig()
	if err != nil {
		t.Fatalf("admin kubeconfig: %v", err)
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	s.Config = cfg
	if err := WaitReady(ctx, cfg, srv.Done()); err != nil {
		t.Fatalf("server not ready: %v", err)
	}
	return s
}

// Stop shuts the server down and waits until it (and its etcd) have stopped.
func (s *Server) Stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	s.cancel()
	select {
	case <-s.srv.Done():
	case <-time.After(2 * time.Minute):
		panic("server did not stop within 2 minutes")
	}
}

// Client returns a typed client for the admin user.
func (s *Server) Client(t testing.TB) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// WaitReady polls /readyz until it answers 200, the server stops, or the deadline passes.
func WaitReady(ctx context.Context, cfg *rest.Config, done <-chan error) error {
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	return wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		select {
		case err := <-done:
			return false, err
		default:
		}
		status := 0
		c.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).StatusCode(&status)
		return status == http.StatusOK, nil
	})
}

// Compact compacts the server's etcd history up to its current revision,
// as the apiserver's periodic compaction would, so tests can reach 410 Gone.
func Compact(ctx context.Context, s *Server) error {
	return s.srv.CompactEtcd(ctx)
}
