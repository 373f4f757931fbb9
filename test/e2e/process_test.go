// Package e2e drives the built `capstan` binary as a separate process, with
// stock kubectl and client-go, the way a user runs it.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/capstan-dev/capstan/test/integration/framework"
)

// server is one `capstan server` process.
type server struct {
	cmd        *exec.Cmd
	dataDir    string
	port       int
	kubeconfig string
	log        *bytes.Buffer
	exited     chan error
}

func binary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("CAPSTAN_BIN")
	if bin == "" {
		t.Fatal("CAPSTAN_BIN must name the capstan binary (make e2e builds and sets it)")
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServer runs the binary on dataDir and waits for /readyz. The process
// is killed by PID when the test ends, if it is still running.
func startServer(t *testing.T, dataDir string, port int, extraArgs ...string) *server {
	t.Helper()
	s := &server{dataDir: dataDir, port: port, kubeconfig: filepath.Join(dataDir, "admin.kubeconfig"), log: &bytes.Buffer{}, exited: make(chan error, 1)}
	// No local node agent unless a test asks for one (--local-agent=true).
	args := append([]string{"server", "--data-dir", dataDir, "--bind-address", "127.0.0.1", "--secure-port", fmt.Sprint(port), "--local-agent=false"}, extraArgs...)
	s.cmd = exec.Command(binary(t), args...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("server log (pid %d):\n%s", s.cmd.Process.Pid, tail(s.log.String(), 4000))
		}
	})
	cfg := s.waitKubeconfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), framework.StartTimeout)
	defer cancel()
	if err := framework.WaitReady(ctx, cfg, s.exited); err != nil {
		t.Fatalf("server not ready: %v\n%s", err, tail(s.log.String(), 4000))
	}
	return s
}

func (s *server) waitKubeconfig(t *testing.T) *rest.Config {
	t.Helper()
	deadline := time.Now().Add(framework.StartTimeout)
	for {
		if cfg, err := clientcmd.BuildConfigFromFlags("", s.kubeconfig); err == nil {
			if cfg.Host == fmt.Sprintf("https://127.0.0.1:%d", s.port) {
				cfg.QPS, cfg.Burst = 500, 1000
				return cfg
			}
		}
		select {
		case err := <-s.exited:
			t.Fatalf("server exited: %v\n%s", err, tail(s.log.String(), 4000))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no kubeconfig after %s", framework.StartTimeout)
		}
	}
}

func (s *server) client(t *testing.T) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", s.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 500, 1000
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		if err != nil {
			t.Errorf("server exited with %v after SIGTERM\n%s", err, tail(s.log.String(), 4000))
		}
		s.exited <- err
	case <-time.After(90 * time.Second):
		t.Errorf("server did not stop within 90s of SIGTERM")
		s.kill()
	}
}

// kill sends SIGKILL to the process, by PID, and reaps it.
func (s *server) kill() {
	if s.cmd.Process == nil {
		return
	}
	select {
	case err := <-s.exited:
		s.exited <- err
		return
	default:
	}
	_ = syscall.Kill(s.cmd.Process.Pid, syscall.SIGKILL)
	err := <-s.exited
	s.exited <- err
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
