// Package node tests the node agent against a real containerd it starts
// itself, with the real server in-process.
package node

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	remote "k8s.io/cri-client/pkg"
	"k8s.io/klog/v2/ktesting"

	"github.com/capstan-dev/capstan/apiserver"
	"github.com/capstan-dev/capstan/nodeagent"
	"github.com/capstan-dev/capstan/nodeagent/containerd"
	"github.com/capstan-dev/capstan/nodeagent/images"
	"github.com/capstan-dev/capstan/nodeagent/volumes"
	"github.com/capstan-dev/capstan/test/integration/framework"
)

// archives holds the pause and busybox image archives, built once.
var archives string

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("node tests need root (containers, mounts, network namespaces); run `make test` as root")
		os.Exit(1)
	}
	if !containerd.Available("") {
		fmt.Println("containerd and runc are not installed; `make test` installs them (hack/install-node-deps.sh)")
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "capstan-node-images-")
	if err != nil {
		panic(err)
	}
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		panic(err)
	}
	busybox, err := busyboxBinary()
	if err != nil {
		fmt.Println("busybox (Debian's busybox-static) is not installed; `make test` installs it")
		os.Exit(1)
	}
	if _, err := images.BuildNodeImages(dir, "go", strings.TrimSpace(string(root)), busybox); err != nil {
		panic(err)
	}
	archives = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// nodeSeq gives every node of this test binary its own bridge and subnet.
var nodeSeq atomic.Int32

// cluster is a server with one node agent on a private containerd.
type cluster struct {
	t      *testing.T
	server *framework.Server
	client kubernetes.Interface
	node   string
	rs     internalapi.RuntimeService
	ns     string
	// manifests is the agent's static pod directory.
	manifests string
	// registryHosts is containerd's registry hosts directory
	// (<registry>/hosts.toml), read at every pull.
	registryHosts string

	// node is shared by the copies with() makes for subtests.
	*nodeState
}

// nodeState is the node's agent and runtime processes.
type nodeState struct {
	agentCtx    context.Context
	agentOpts   *nodeagent.Options
	agentCancel context.CancelFunc
	agentDone   chan error
	runtimeCfg  containerd.Config
	runtime     *containerd.Process
}

// startAgent runs the node agent in this process.
func (c *cluster) startAgent() {
	ctx, cancel := context.WithCancel(c.agentCtx)
	c.agentCancel, c.agentDone = cancel, make(chan error, 1)
	done := c.agentDone
	go func() { done <- nodeagent.RunWithOptions(ctx, c.agentOpts) }()
}

// stopAgent stops the agent and waits for it; pods keep running.
func (c *cluster) stopAgent() {
	c.agentCancel()
	select {
	case err := <-c.agentDone:
		c.agentDone <- err
	case <-time.After(time.Minute):
		c.t.Error("agent did not stop within a minute")
	}
}

// restartRuntime stops containerd and starts it again on the same state.
func (c *cluster) restartRuntime() {
	c.runtime.Stop()
	rt, err := containerd.Start(context.WithoutCancel(c.agentCtx), c.runtimeCfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.runtime = rt
}

// newCluster starts a server and an agent; both stop, and every sandbox
// the agent made is removed, when the test ends.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	s := framework.Start(t)
	c := &cluster{t: t, server: s, client: s.Client(t), nodeState: &nodeState{}}
	n := nodeSeq.Add(1)
	c.node = fmt.Sprintf("node-%d", n)
	root := t.TempDir()
	port := freePort(t)
	creds, err := apiserver.WriteNodeCredentials(s.DataDir, c.node, net.ParseIP("127.0.0.1"), s.URL, filepath.Join(root, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	_, ctx := ktesting.NewTestContext(t)
	// The test owns containerd, so that it can clean up after the agent
	// has stopped: remove every sandbox (their shims, veths and iptables
	// rules go with them), stop containerd by its PID, drop the bridge.
	c.registryHosts = filepath.Join(root, "certs.d")
	c.runtimeCfg = containerd.Config{Dir: filepath.Join(root, "containerd"), SandboxImage: images.PauseImage, RegistryConfigDir: c.registryHosts}
	rt, err := containerd.Start(context.WithoutCancel(ctx), c.runtimeCfg)
	if err != nil {
		t.Fatal(err)
	}
	c.runtime = rt
	c.agentCtx = ctx
	o := nodeagent.NewOptions()
	o.Kubeconfig, o.TLSCertFile, o.TLSKeyFile, o.ClientCAFile = creds.Kubeconfig, creds.ServingCert, creds.ServingKey, creds.ClientCA
	o.NodeName, o.NodeIP, o.Address, o.Port = c.node, "127.0.0.1", "127.0.0.1", port
	o.RootDir, o.ImageArchiveDir = filepath.Join(root, "agent"), archives
	o.RuntimeEndpoint, o.CNIConfDir = rt.Endpoint(), rt.CNIConfD
	o.PodCIDR = fmt.Sprintf("10.%d.%d.0/24", 200+n/250, n%250)
	o.Bridge = fmt.Sprintf("capt%d", n)
	o.Version = apiserver.GitVersion()
	o.PodManifestPath = filepath.Join(root, "manifests")
	c.manifests = o.PodManifestPath
	if err := os.MkdirAll(c.manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	c.agentOpts = o
	c.startAgent()
	t.Cleanup(func() {
		c.stopAgent()
		if c.rs != nil {
			cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
			sbs, err := c.rs.ListPodSandbox(cctx, nil)
			if err != nil {
				t.Errorf("listing sandboxes: %v", err)
			}
			for _, sb := range sbs {
				if err := c.rs.StopPodSandbox(cctx, sb.Id); err != nil {
					t.Errorf("stopping sandbox: %v", err)
				}
				if err := c.rs.RemovePodSandbox(cctx, sb.Id); err != nil {
					t.Errorf("removing sandbox: %v", err)
				}
			}
			ccancel()
		}
		c.runtime.Stop()
		_ = exec.Command("ip", "link", "del", o.Bridge).Run()
		// Unmount the volumes (tmpfs, subPath binds) of pods that were
		// still on the node.
		podsDir := filepath.Join(o.RootDir, "pods")
		vols := volumes.NewManager(nil, podsDir, nil)
		entries, _ := os.ReadDir(podsDir)
		for _, e := range entries {
			if err := vols.Cleanup(types.UID(e.Name())); err != nil {
				t.Errorf("cleaning up volumes of pod %s: %v", e.Name(), err)
			}
		}
	})
	c.waitFor("node Ready", 2*time.Minute, func() (bool, error) {
		select {
		case err := <-c.agentDone:
			c.agentDone <- err
			return false, fmt.Errorf("agent exited: %v", err)
		default:
		}
		n, err := c.client.CoreV1().Nodes().Get(ctx, c.node, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				return cond.Status == corev1.ConditionTrue, nil
			}
		}
		return false, nil
	})
	rs, err := remote.NewRemoteRuntimeService(context.WithoutCancel(ctx), rt.Endpoint(), time.Minute, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	c.rs = rs
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "node-test-"}}
	ns, err = c.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.ns = ns.Name
	return c
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// with returns the cluster for use in subtest t.
func (c *cluster) with(t *testing.T) *cluster {
	cc := *c
	cc.t = t
	return &cc
}

// waitFor polls cond until it holds or the deadline passes; onFail runs
// before the test fails.
func (c *cluster) waitFor(what string, timeout time.Duration, cond func() (bool, error), onFail ...func()) {
	c.t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		ok, err := cond()
		if err != nil {
			last = err
		}
		return ok, nil
	})
	if err != nil {
		for _, f := range onFail {
			f()
		}
		c.t.Fatalf("waiting for %s: %v (last error: %v)", what, err, last)
	}
}

// createPod binds the pod to the node and creates it.
func (c *cluster) createPod(pod *corev1.Pod) *corev1.Pod {
	c.t.Helper()
	pod.Namespace = c.ns
	pod.Spec.NodeName = c.node
	if pod.Spec.TerminationGracePeriodSeconds == nil {
		g := int64(2)
		pod.Spec.TerminationGracePeriodSeconds = &g
	}
	p, err := c.client.CoreV1().Pods(c.ns).Create(context.Background(), pod, metav1.CreateOptions{})
	if err != nil {
		c.t.Fatalf("creating pod %s: %v", pod.Name, err)
	}
	return p
}

// waitPod waits until cond holds for the pod and returns it.
func (c *cluster) waitPod(name, what string, timeout time.Duration, cond func(*corev1.Pod) bool) *corev1.Pod {
	c.t.Helper()
	var pod *corev1.Pod
	c.waitFor(fmt.Sprintf("pod %s: %s", name, what), timeout, func() (bool, error) {
		p, err := c.client.CoreV1().Pods(c.ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		pod = p
		return cond(p), nil
	}, func() {
		if pod != nil {
			c.t.Logf("pod %s status: %s", name, dump(pod.Status))
			c.t.Logf("events:\n%s", c.events(name))
		}
	})
	return pod
}

func phaseIs(phase corev1.PodPhase) func(*corev1.Pod) bool {
	return func(p *corev1.Pod) bool { return p.Status.Phase == phase }
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// logs returns a container's log through the apiserver and the agent.
func (c *cluster) logs(pod, container string, previous bool) string {
	c.t.Helper()
	b, err := c.client.CoreV1().Pods(c.ns).GetLogs(pod, &corev1.PodLogOptions{Container: container, Previous: previous}).Do(context.Background()).Raw()
	if err != nil {
		c.t.Fatalf("logs of %s/%s: %v", pod, container, err)
	}
	return string(b)
}

func busybox(name string, cmd ...string) corev1.Container {
	return corev1.Container{Name: name, Image: images.BusyboxImage, Command: cmd, ImagePullPolicy: corev1.PullIfNotPresent}
}

// sandboxes counts the runtime's sandboxes of a pod.
func (c *cluster) containersOf(uid string) []*runtimeapi.Container {
	cs, err := c.rs.ListContainers(context.Background(), &runtimeapi.ContainerFilter{LabelSelector: map[string]string{"io.kubernetes.pod.uid": uid}})
	if err != nil {
		c.t.Fatal(err)
	}
	return cs
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// events lists the events of one object, one per line.
func (c *cluster) events(name string) string {
	evs, err := c.client.CoreV1().Events(c.ns).List(context.Background(), metav1.ListOptions{FieldSelector: "involvedObject.name=" + name})
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, e := range evs.Items {
		fmt.Fprintf(&b, "%s %s %s: %s\n", e.InvolvedObject.Name, e.Type, e.Reason, e.Message)
	}
	return b.String()
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
