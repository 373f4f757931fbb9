package node

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/capstan-dev/capstan/nodeagent/images"
)

// startRegistry runs Debian's docker-registry on a loopback port with its
// storage under a temporary directory and returns its URL; it is stopped
// by PID when the test ends.
func startRegistry(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Fatal("docker-registry is not installed; `make test` installs it (hack/install-node-deps.sh)")
	}
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	config := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	url := "http://" + addr
	err = wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		resp, err := http.Get(url + "/v2/")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		t.Fatalf("registry at %s did not come up: %v", url, err)
	}
	return url
}

// testRegistryMirror checks that imagePullPolicy Always pulls, through the
// mirror containerd's registry hosts directory names, an image the node
// has never seen.
func testRegistryMirror(t *testing.T, c *cluster) {
	url := startRegistry(t)
	bb, err := busyboxBinary()
	if err != nil {
		t.Fatal(err)
	}
	img, err := images.Busybox(bb)
	if err != nil {
		t.Fatal(err)
	}
	const host = "mirror.capstan.test"
	img.Name = host + "/capstan/mirrored:1"
	archive := filepath.Join(t.TempDir(), "mirrored.tar")
	if err := images.WriteArchive(archive, img); err != nil {
		t.Fatal(err)
	}
	if pushed, err := images.Push(archive, url); err != nil || len(pushed) != 1 {
		t.Fatalf("push: %v %v", pushed, err)
	}
	hosts := filepath.Join(c.registryHosts, host)
	if err := os.MkdirAll(hosts, 0o755); err != nil {
		t.Fatal(err)
	}
	toml := fmt.Sprintf("server = \"https://%s\"\n\n[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n", host, url)
	if err := os.WriteFile(filepath.Join(hosts, "hosts.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(hosts) })

	for _, name := range []string{"mirrored-1", "mirrored-2"} {
		ctr := corev1.Container{Name: "main", Image: img.Name, ImagePullPolicy: corev1.PullAlways, Command: []string{"echo", "pulled"}}
		c.createPod(pod(name, corev1.RestartPolicyNever, ctr))
		p := c.waitPod(name, "Succeeded", 2*time.Minute, phaseIs(corev1.PodSucceeded))
		if got := c.logs(name, "main", false); got != "pulled\n" {
			t.Errorf("%s logs = %q", name, got)
		}
		if id := p.Status.ContainerStatuses[0].ImageID; !strings.Contains(id, "sha256:") {
			t.Errorf("%s imageID = %q", name, id)
		}
		// Always pulls for every container start, also when the image is
		// present.
		if ev := c.events(name); !strings.Contains(ev, "Pulling") || !strings.Contains(ev, "Successfully pulled") {
			t.Errorf("%s events:\n%s", name, ev)
		}
	}

	// A tag the mirror does not have fails the pull with upstream's reasons.
	ctr := corev1.Container{Name: "main", Image: host + "/capstan/mirrored:missing", ImagePullPolicy: corev1.PullAlways, Command: []string{"true"}}
	c.createPod(pod("mirror-missing", corev1.RestartPolicyNever, ctr))
	c.waitPod("mirror-missing", "ErrImagePull or ImagePullBackOff", 2*time.Minute, func(p *corev1.Pod) bool {
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && (w.Reason == "ErrImagePull" || w.Reason == "ImagePullBackOff") {
				return true
			}
		}
		return false
	})
}
