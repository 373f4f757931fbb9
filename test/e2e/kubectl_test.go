package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// kubectlPath is the stock kubectl of these machines (a dispatcher of 1.27-1.33).
const kubectlPath = "/usr/bin/kubectl"

type kubectl struct {
	t          *testing.T
	kubeconfig string
}

func (k kubectl) run(args ...string) string {
	k.t.Helper()
	out, err := k.cmd(args...).CombinedOutput()
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (k kubectl) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(kubectlPath, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+k.kubeconfig)
	return cmd
}

func mustContain(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

const manifests = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 80
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  greeting: hello
`

func TestStockKubectl(t *testing.T) {
	if _, err := os.Stat(kubectlPath); err != nil {
		t.Fatalf("stock kubectl missing at %s: %v", kubectlPath, err)
	}
	s := startServer(t, t.TempDir(), freePort(t))
	k := kubectl{t: t, kubeconfig: s.kubeconfig}

	t.Run("version", func(t *testing.T) {
		mustContain(t, k.run("version"), "Server Version: v1.37.2+capstan")
	})
	t.Run("get ns", func(t *testing.T) {
		mustContain(t, k.run("get", "ns"), "default", "kube-system", "kube-public", "kube-node-lease", "Active")
	})
	t.Run("api-resources", func(t *testing.T) {
		mustContain(t, k.run("api-resources"), "deployments", "deploy", "apps/v1", "configmaps", "cm", "horizontalpodautoscalers")
	})
	t.Run("explain", func(t *testing.T) {
		mustContain(t, k.run("explain", "deployment.spec.strategy"), "rollingUpdate", "RollingUpdate")
	})

	file := filepath.Join(t.TempDir(), "app.yaml")
	if err := os.WriteFile(file, []byte(manifests), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("apply", func(t *testing.T) {
		mustContain(t, k.run("apply", "-f", file), "deployment.apps/web created", "service/web created", "configmap/web-config created")
		mustContain(t, k.run("apply", "-f", file), "deployment.apps/web unchanged")
	})
	t.Run("get -o wide", func(t *testing.T) {
		out := k.run("get", "deploy,svc,cm", "-o", "wide")
		mustContain(t, out,
			"READY", "UP-TO-DATE", "AVAILABLE", "CONTAINERS", "IMAGES", "SELECTOR", "nginx:1.27", "app=web",
			"TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "80/TCP", "ClusterIP",
			"DATA", "web-config")
	})
	t.Run("server-side apply", func(t *testing.T) {
		mustContain(t, k.run("apply", "--server-side", "--field-manager=e2e", "-f", file), "serverside-applied")
		out := k.run("get", "cm", "web-config", "-o", "jsonpath={.metadata.managedFields[*].manager}")
		mustContain(t, out, "e2e")
	})
	t.Run("patch", func(t *testing.T) {
		before := atoi(k.run("get", "deploy", "web", "-o", "jsonpath={.metadata.generation}"))
		k.run("patch", "cm", "web-config", "--type=merge", "-p", `{"data":{"merge":"yes"}}`)
		k.run("patch", "cm", "web-config", "--type=json", "-p", `[{"op":"add","path":"/data/json","value":"yes"}]`)
		k.run("patch", "deploy", "web", "--type=strategic", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.28"}]}}}}`)
		mustContain(t, k.run("get", "cm", "web-config", "-o", "jsonpath={.data}"), `"merge":"yes"`, `"json":"yes"`)
		// A template change is a spec change: the generation moves by one.
		mustContain(t, k.run("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image} {.metadata.generation}"),
			fmt.Sprintf("nginx:1.28 %d", before+1))
	})
	t.Run("watch", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		k.run("run", "watched", "--image=registry.k8s.io/pause:3.10", "--restart=Never")
		cmd := exec.CommandContext(ctx, kubectlPath, "get", "pods", "-w", "--output-watch-events")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+s.kubeconfig)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		lines := bufio.NewScanner(out)
		// The initial list arrives first; then a change made now must stream in.
		seen := make(chan string, 100)
		go func() {
			for lines.Scan() {
				seen <- lines.Text()
			}
			close(seen)
		}()
		waitLine(t, seen, "ADDED", "watched")
		k.run("label", "pod", "watched", "changed=yes")
		waitLine(t, seen, "MODIFIED", "watched")
		k.run("delete", "pod", "watched", "--wait=false")
		waitLine(t, seen, "DELETED", "watched")
	})
	t.Run("delete", func(t *testing.T) {
		mustContain(t, k.run("delete", "-f", file), `deployment.apps "web" deleted`, `service "web" deleted`)
		cmd := k.cmd("get", "cm", "web-config")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "NotFound") {
			t.Errorf("configmap still there after delete: %v %s", err, out)
		}
	})
	s.stop(t)
}

// waitLine reads watch output until a line contains every word of want.
func waitLine(t *testing.T, lines <-chan string, want ...string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("watch ended before a line with %q", want)
			}
			all := true
			for _, w := range want {
				all = all && strings.Contains(l, w)
			}
			if all {
				return
			}
		case <-timeout:
			t.Fatalf("no watch line with %q within 30s", want)
		}
	}
}
