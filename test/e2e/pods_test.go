package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/capstan-dev/capstan/nodeagent/containerd"
	"github.com/capstan-dev/capstan/nodeagent/images"
)

// TestKubectlRunsPods is the README's single-node cluster driven by stock
// kubectl: a pod that prints and exits, its logs, a long-running pod with
// exec and port-forward, and deletion within the grace period.
func TestKubectlRunsPods(t *testing.T) {
	if os.Geteuid() != 0 || !containerd.Available("") {
		t.Fatal("this test runs containers: it needs root and containerd (make test installs it)")
	}
	archives := t.TempDir()
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatal(err)
	}
	busybox, err := busyboxBinary()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := images.BuildNodeImages(archives, "go", strings.TrimSpace(string(root)), busybox); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	agentPort := freePort(t)
	s := startServer(t, dataDir, freePort(t), "--local-agent=true", "--local-agent-image-archive-dir", archives,
		"--local-agent-bridge", "capste2e", "--local-agent-pod-cidr", "10.199.0.0/24", "--local-agent-port", strconv.Itoa(agentPort))
	k := kubectl{t: t, kubeconfig: s.kubeconfig}
	t.Cleanup(func() {
		// Pods first (their containers, mounts and network), then the
		// server, then the containerd the local agent started, by its PID.
		_, _ = k.cmd("delete", "pods", "--all", "--grace-period=1", "--wait=true", "--timeout=60s").CombinedOutput()
		s.stop(t)
		if b, err := os.ReadFile(filepath.Join(dataDir, "agent", "containerd", "containerd.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				_ = syscall.Kill(pid, syscall.SIGTERM)
			}
		}
		_ = exec.Command("ip", "link", "del", "capste2e").Run()
	})
	// The local agent registers its Node once it has started containerd.
	err = wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 90*time.Second, true, func(context.Context) (bool, error) {
		return strings.TrimSpace(k.run("get", "nodes", "-o", "name")) != "", nil
	})
	if err != nil {
		t.Fatal("no Node registered within 90s")
	}
	k.run("wait", "--for=condition=Ready", "node", "--all", "--timeout=90s")

	k.run("run", "hello", "--image="+images.BusyboxImage, "--restart=Never", "--", "sh", "-c", "echo hello from capstan")
	k.run("wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/hello", "--timeout=90s")
	if out := k.run("logs", "hello"); out != "hello from capstan\n" {
		t.Errorf("kubectl logs: %q", out)
	}

	k.run("run", "web", "--image="+images.BusyboxImage, "--", "sh", "-c",
		"mkdir -p /www && echo port-forwarded > /www/index.html && exec httpd -f -p 8080 -h /www")
	k.run("wait", "--for=condition=Ready", "pod/web", "--timeout=90s")
	mustContain(t, k.run("get", "pod", "web", "-o", "wide"), "Running", "10.199.0.")
	if out := k.run("exec", "web", "--", "cat", "/www/index.html"); out != "port-forwarded\n" {
		t.Errorf("kubectl exec: %q", out)
	}
	local := freePort(t)
	pf := k.cmd("port-forward", "pod/web", fmt.Sprintf("%d:8080", local))
	if err := pf.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pf.Process.Kill(); _ = pf.Wait() }()
	var body string
	_ = wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/index.html", local))
		if err != nil {
			return false, nil // the forward is not listening yet
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		return true, nil
	})
	if body != "port-forwarded\n" {
		t.Errorf("through kubectl port-forward: %q", body)
	}

	// httpd ignores SIGTERM as PID 1: the agent kills it when the grace
	// period (5s) is over.
	start := time.Now()
	k.run("delete", "pod", "web", "--grace-period=5", "--wait=true", "--timeout=60s")
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("deleting with a 5s grace period took %s", d)
	}
	k.run("delete", "pod", "hello", "--wait=true", "--timeout=60s")
}

// busyboxBinary is the busybox the image is made from: $CAPSTAN_BUSYBOX
// (make builds busybox 1.37.0 into bin/busybox), else the one on PATH.
func busyboxBinary() (string, error) {
	if p := os.Getenv("CAPSTAN_BUSYBOX"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return exec.LookPath("busybox")
}
