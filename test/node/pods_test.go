package node

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/utils/ptr"

	"github.com/capstan-dev/capstan/nodeagent/images"
)

func pod(name string, policy corev1.RestartPolicy, containers ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
		Spec:       corev1.PodSpec{RestartPolicy: policy, Containers: containers},
	}
}

func TestNodeAgent(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()

	t.Run("node", func(t *testing.T) {
		c := c.with(t)
		n, err := c.client.CoreV1().Nodes().Get(ctx, c.node, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if v := n.Status.NodeInfo.KubeletVersion; !strings.HasPrefix(v, "v1.37.") {
			t.Errorf("kubeletVersion = %q, want v1.37.x", v)
		}
		if v := n.Status.NodeInfo.ContainerRuntimeVersion; !strings.HasPrefix(v, "containerd://") {
			t.Errorf("containerRuntimeVersion = %q", v)
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourcePods, corev1.ResourceEphemeralStorage} {
			if q, ok := n.Status.Allocatable[r]; !ok || q.IsZero() {
				t.Errorf("allocatable %s = %v", r, q)
			}
		}
		conds := map[corev1.NodeConditionType]corev1.ConditionStatus{}
		for _, cond := range n.Status.Conditions {
			conds[cond.Type] = cond.Status
		}
		want := map[corev1.NodeConditionType]corev1.ConditionStatus{corev1.NodeReady: "True", corev1.NodeMemoryPressure: "False", corev1.NodeDiskPressure: "False", corev1.NodePIDPressure: "False"}
		for k, v := range want {
			if conds[k] != v {
				t.Errorf("condition %s = %q, want %q", k, conds[k], v)
			}
		}
		if n.Status.DaemonEndpoints.KubeletEndpoint.Port == 0 {
			t.Error("no kubelet endpoint port")
		}
		// The agent's metrics, through the apiserver's nodes/proxy.
		metrics, err := c.client.CoreV1().RESTClient().Get().Resource("nodes").Name(c.node).SubResource("proxy").Suffix("metrics").DoRaw(ctx)
		if err != nil || !strings.Contains(string(metrics), "kubelet_running_pods ") {
			t.Errorf("nodes/proxy/metrics: %v\n%s", err, metrics)
		}
		lease, err := c.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, c.node, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("node lease: %v", err)
		}
		if lease.Spec.RenewTime == nil || time.Since(lease.Spec.RenewTime.Time) > time.Minute {
			t.Errorf("lease renewTime %v", lease.Spec.RenewTime)
		}
	})

	t.Run("run to completion with logs", func(t *testing.T) {
		c := c.with(t)
		c.createPod(pod("hello", corev1.RestartPolicyNever, busybox("main", "sh", "-c", "echo hello from capstan; echo to-stderr >&2")))
		p := c.waitPod("hello", "Succeeded", time.Minute, phaseIs(corev1.PodSucceeded))
		cs := p.Status.ContainerStatuses[0]
		if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 || cs.State.Terminated.Reason != "Completed" {
			t.Errorf("state = %+v", cs.State)
		}
		if cs.ImageID == "" || !strings.HasPrefix(cs.ContainerID, "containerd://") {
			t.Errorf("imageID %q containerID %q", cs.ImageID, cs.ContainerID)
		}
		if ip := net.ParseIP(p.Status.PodIP); ip == nil || p.Status.HostIP != "127.0.0.1" {
			t.Errorf("podIP %q hostIP %q", p.Status.PodIP, p.Status.HostIP)
		}
		// stdout and stderr share the log; their relative order is the
		// order the runtime read them in.
		if got := c.logs("hello", "main", false); got != "hello from capstan\nto-stderr\n" && got != "to-stderr\nhello from capstan\n" {
			t.Errorf("logs = %q", got)
		}
	})

	t.Run("init containers run in order before app containers", func(t *testing.T) {
		c := c.with(t)
		p := pod("init", corev1.RestartPolicyNever, busybox("main", "sh", "-c", "cat /work/log"))
		p.Spec.InitContainers = []corev1.Container{
			busybox("first", "sh", "-c", "echo first >> /work/log"),
			busybox("second", "sh", "-c", "echo second >> /work/log"),
		}
		for i := range p.Spec.InitContainers {
			p.Spec.InitContainers[i].VolumeMounts = []corev1.VolumeMount{{Name: "work", MountPath: "/work"}}
		}
		p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "work", MountPath: "/work"}}
		p.Spec.Volumes = []corev1.Volume{{Name: "work", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
		c.createPod(p)
		got := c.waitPod("init", "Succeeded", time.Minute, phaseIs(corev1.PodSucceeded))
		if l := c.logs("init", "main", false); l != "first\nsecond\n" {
			t.Errorf("main saw %q", l)
		}
		for _, s := range got.Status.InitContainerStatuses {
			if s.State.Terminated == nil || s.State.Terminated.ExitCode != 0 {
				t.Errorf("init %s: %+v", s.Name, s.State)
			}
		}
	})

	t.Run("failing init container fails a Never pod", func(t *testing.T) {
		c := c.with(t)
		p := pod("init-fail", corev1.RestartPolicyNever, busybox("main", "true"))
		p.Spec.InitContainers = []corev1.Container{busybox("bad", "sh", "-c", "exit 3")}
		c.createPod(p)
		got := c.waitPod("init-fail", "Failed", time.Minute, phaseIs(corev1.PodFailed))
		if s := got.Status.ContainerStatuses[0]; s.State.Waiting == nil || s.State.Waiting.Reason != "PodInitializing" {
			t.Errorf("app container %+v, want waiting PodInitializing", s.State)
		}
	})

	t.Run("restart policy OnFailure backs off", func(t *testing.T) {
		c := c.with(t)
		c.createPod(pod("crash", corev1.RestartPolicyOnFailure, busybox("main", "sh", "-c", "echo attempt; exit 1")))
		got := c.waitPod("crash", "CrashLoopBackOff after a restart", 2*time.Minute, func(p *corev1.Pod) bool {
			if len(p.Status.ContainerStatuses) == 0 {
				return false
			}
			s := p.Status.ContainerStatuses[0]
			return s.RestartCount >= 1 && s.State.Waiting != nil && s.State.Waiting.Reason == "CrashLoopBackOff"
		})
		s := got.Status.ContainerStatuses[0]
		if s.LastTerminationState.Terminated == nil || s.LastTerminationState.Terminated.ExitCode != 1 {
			t.Errorf("lastState = %+v", s.LastTerminationState)
		}
		if got.Status.Phase != corev1.PodRunning {
			t.Errorf("phase %s, want Running while restarting", got.Status.Phase)
		}
		if l := c.logs("crash", "main", true); l != "attempt\n" {
			t.Errorf("previous logs %q", l)
		}
	})

	t.Run("restart policy Never fails", func(t *testing.T) {
		c := c.with(t)
		c.createPod(pod("fail", corev1.RestartPolicyNever, busybox("main", "sh", "-c", "echo bye > /dev/termination-log; exit 7")))
		got := c.waitPod("fail", "Failed", time.Minute, phaseIs(corev1.PodFailed))
		term := got.Status.ContainerStatuses[0].State.Terminated
		if term == nil || term.ExitCode != 7 || term.Reason != "Error" || term.Message != "bye\n" {
			t.Errorf("terminated = %+v", term)
		}
	})

	t.Run("activeDeadlineSeconds fails the pod", func(t *testing.T) {
		c := c.with(t)
		p := pod("deadline", corev1.RestartPolicyAlways, busybox("main", "sleep", "3600"))
		p.Spec.ActiveDeadlineSeconds = ptr.To(int64(2))
		c.createPod(p)
		got := c.waitPod("deadline", "Failed", time.Minute, phaseIs(corev1.PodFailed))
		if got.Status.Reason != "DeadlineExceeded" {
			t.Errorf("reason %q message %q", got.Status.Reason, got.Status.Message)
		}
	})

	t.Run("restart policy Always restarts a completed container", func(t *testing.T) {
		c := c.with(t)
		c.createPod(pod("always", corev1.RestartPolicyAlways, busybox("main", "sh", "-c", "exit 0")))
		c.waitPod("always", "restarted", time.Minute, func(p *corev1.Pod) bool {
			return len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].RestartCount >= 1
		})
	})

	t.Run("probes", func(t *testing.T) {
		c := c.with(t)
		// httpGet readiness against busybox httpd, tcpSocket liveness, exec
		// startup probe.
		web := busybox("web", "sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www")
		web.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/index.html", Port: intstr.FromInt32(8080)}}, PeriodSeconds: 1}
		web.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}}, PeriodSeconds: 1}
		web.StartupProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/index.html"}}}, PeriodSeconds: 1, FailureThreshold: 30}
		c.createPod(pod("probed", corev1.RestartPolicyAlways, web))
		got := c.waitPod("probed", "Ready", time.Minute, podReady)
		if s := got.Status.ContainerStatuses[0]; !s.Ready || s.Started == nil || !*s.Started || s.RestartCount != 0 {
			t.Errorf("status %+v; events:\n%s", s, c.events("probed"))
		}

		// A failing liveness probe restarts the container.
		bad := busybox("main", "sleep", "3600")
		bad.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(9999)}}, PeriodSeconds: 1, FailureThreshold: 1}
		c.createPod(pod("liveness", corev1.RestartPolicyAlways, bad))
		c.waitPod("liveness", "restarted by liveness", 2*time.Minute, func(p *corev1.Pod) bool {
			return len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].RestartCount >= 1
		})

		// A failing readiness probe keeps the pod unready.
		unready := busybox("main", "sleep", "3600")
		unready.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"false"}}}, PeriodSeconds: 1}
		c.createPod(pod("unready", corev1.RestartPolicyAlways, unready))
		got = c.waitPod("unready", "Running", time.Minute, phaseIs(corev1.PodRunning))
		if podReady(got) {
			t.Error("pod with failing readiness probe is Ready")
		}

		// gRPC: a host-network pod probes a health server of this test on
		// the node's address.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		gs := grpc.NewServer()
		hs := health.NewServer()
		healthpb.RegisterHealthServer(gs, hs)
		go gs.Serve(l)
		defer gs.Stop()
		g := busybox("main", "sleep", "3600")
		g.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: int32(l.Addr().(*net.TCPAddr).Port)}}, PeriodSeconds: 1}
		gp := pod("grpc", corev1.RestartPolicyAlways, g)
		gp.Spec.HostNetwork = true
		c.createPod(gp)
		c.waitPod("grpc", "Ready through the gRPC probe", time.Minute, podReady)
		hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
		c.waitPod("grpc", "unready after NOT_SERVING", time.Minute, func(p *corev1.Pod) bool { return !podReady(p) })
	})

	t.Run("volumes and environment", func(t *testing.T) {
		c := c.with(t)
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg"}, Data: map[string]string{"greeting": "hi", "other": "x"}}
		if _, err := c.client.CoreV1().ConfigMaps(c.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sec"}, Data: map[string][]byte{"password": []byte("s3cret")}}
		if _, err := c.client.CoreV1().Secrets(c.ns).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		hostDir := t.TempDir()
		if err := os.WriteFile(filepath.Join(hostDir, "from-host"), []byte("host file"), 0o644); err != nil {
			t.Fatal(err)
		}
		script := strings.Join([]string{
			"echo $(cat /cfg/greeting)", "echo $(cat /sec/password)", "echo $(cat /items/renamed)", "echo $(cat /dapi/name)", "echo $(cat /dapi/labels)",
			"echo $(cat /proj/greeting)", "echo $(cat /proj/podname)", "test -s /proj/token && echo token",
			"echo $(cat /host/from-host)", "echo mem > /mem/f && grep -q ' /mem tmpfs' /proc/mounts && echo tmpfs",
			"echo $(cat /sub/greeting)", "echo $MY_NAME $MY_IP $MY_MEM $GREETING $PASSWORD $EXPANDED",
			"sleep 3600",
		}, "; ")
		main := busybox("main", "sh", "-c", script)
		main.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}
		main.Env = []corev1.EnvVar{
			{Name: "MY_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "MY_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: "MY_MEM", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}},
			{Name: "GREETING", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "greeting"}}},
			{Name: "PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Key: "password"}}},
			{Name: "EXPANDED", Value: "$(GREETING)-there"},
		}
		main.VolumeMounts = []corev1.VolumeMount{
			{Name: "cfg", MountPath: "/cfg"}, {Name: "sec", MountPath: "/sec"}, {Name: "items", MountPath: "/items"},
			{Name: "dapi", MountPath: "/dapi"}, {Name: "proj", MountPath: "/proj"}, {Name: "host", MountPath: "/host"},
			{Name: "mem", MountPath: "/mem"}, {Name: "cfg", MountPath: "/sub/greeting", SubPath: "greeting"},
		}
		p := pod("vols", corev1.RestartPolicyAlways, main)
		p.Spec.Volumes = []corev1.Volume{
			{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
			{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "sec"}}},
			{Name: "items", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Items: []corev1.KeyToPath{{Key: "greeting", Path: "renamed"}}}}},
			{Name: "dapi", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
				{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
			}}}},
			{Name: "proj", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Items: []corev1.KeyToPath{{Key: "greeting", Path: "greeting"}}}},
				{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "podname", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}},
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To(int64(3600))}},
			}}}},
			{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostDir}}},
			{Name: "mem", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}},
		}
		p.Spec.ServiceAccountName = "default"
		c.waitFor("default service account", time.Minute, func() (bool, error) {
			_, err := c.client.CoreV1().ServiceAccounts(c.ns).Get(ctx, "default", metav1.GetOptions{})
			return err == nil, nil
		})
		c.createPod(p)
		got := c.waitPod("vols", "Running", time.Minute, phaseIs(corev1.PodRunning))
		var logs string
		c.waitFor("volume output", 30*time.Second, func() (bool, error) {
			logs = c.logs("vols", "main", false)
			return strings.Count(logs, "\n") >= 12, nil
		}, func() { t.Logf("vols logs: %q", logs) })
		t.Logf("vols logs: %q", logs)
		want := fmt.Sprintf("hi\ns3cret\nhi\nvols\napp=\"vols\"\nhi\nvols\ntoken\nhost file\ntmpfs\nhi\nvols %s 64 hi s3cret hi-there\n", got.Status.PodIP)
		if logs != want {
			t.Errorf("container saw\n%s\nwant\n%s", logs, want)
		}

		// A configMap volume follows updates of its ConfigMap; exec through
		// the apiserver and the agent reads it.
		cm.Data["greeting"] = "hello again"
		if _, err := c.client.CoreV1().ConfigMaps(c.ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		c.waitFor("updated configMap volume", 2*time.Minute, func() (bool, error) {
			out, _, err := c.exec("vols", "main", "cat", "/cfg/greeting")
			return out == "hello again", err
		})
	})

	t.Run("ephemeral container and observed generation", func(t *testing.T) {
		c := c.with(t)
		p, err := c.client.CoreV1().Pods(c.ns).Get(ctx, "vols", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Status.ObservedGeneration != p.Generation {
			t.Errorf("observedGeneration %d, generation %d", p.Status.ObservedGeneration, p.Generation)
		}
		ec := corev1.EphemeralContainer{TargetContainerName: "main", EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Name: "debugger", Image: images.BusyboxImage, ImagePullPolicy: corev1.PullIfNotPresent, Command: []string{"sh", "-c", "echo debugging; sleep 3600"},
			TerminationMessagePolicy: corev1.TerminationMessageReadFile, TerminationMessagePath: "/dev/termination-log"}}
		p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, ec)
		if _, err := c.client.CoreV1().Pods(c.ns).UpdateEphemeralContainers(ctx, "vols", p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		c.waitPod("vols", "ephemeral container running", time.Minute, func(p *corev1.Pod) bool {
			return len(p.Status.EphemeralContainerStatuses) == 1 && p.Status.EphemeralContainerStatuses[0].State.Running != nil
		})
		// It shares the target's process namespace: it sees main's sleep.
		out, _, err := c.exec("vols", "debugger", "sh", "-c", "ps")
		if err != nil || !strings.Contains(out, "sleep 3600") {
			t.Errorf("ps in the ephemeral container: %v\n%s", err, out)
		}
	})

	t.Run("environment variable names that are not shell identifiers", func(t *testing.T) {
		c := c.with(t)
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "names"}, Data: map[string]string{"data-1": "value-1"}}
		if _, err := c.client.CoreV1().ConfigMaps(c.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		main := busybox("main", "sh", "-c", "env")
		main.EnvFrom = []corev1.EnvFromSource{{Prefix: "1-", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "names"}}}}
		c.createPod(pod("env-names", corev1.RestartPolicyNever, main))
		c.waitPod("env-names", "Succeeded", time.Minute, phaseIs(corev1.PodSucceeded))
		if out := c.logs("env-names", "main", false); !strings.Contains(out, "1-data-1=value-1") {
			t.Errorf("the busybox shell lost 1-data-1:\n%s", out)
		}
	})

	t.Run("exec", func(t *testing.T) {
		c := c.with(t)
		out, errOut, err := c.exec("vols", "main", "sh", "-c", "echo out; echo err >&2")
		if err != nil || out != "out\n" || errOut != "err\n" {
			t.Errorf("exec: out %q err %q: %v", out, errOut, err)
		}
		if _, _, err := c.exec("vols", "main", "sh", "-c", "exit 3"); err == nil || !strings.Contains(err.Error(), "exit code 3") {
			t.Errorf("exec of a failing command: %v", err)
		}
	})

	t.Run("graceful termination runs preStop and removes the pod", func(t *testing.T) {
		c := c.with(t)
		hostDir := t.TempDir()
		main := busybox("main", "sh", "-c", "trap 'echo term > /host/term; exit 0' TERM; while true; do sleep 0.1; done")
		main.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"sh", "-c", "echo prestop > /host/prestop"}}}}
		main.VolumeMounts = []corev1.VolumeMount{{Name: "host", MountPath: "/host"}}
		p := pod("graceful", corev1.RestartPolicyAlways, main)
		p.Spec.TerminationGracePeriodSeconds = ptr.To(int64(20))
		p.Spec.Volumes = []corev1.Volume{{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostDir}}}}
		created := c.createPod(p)
		c.waitPod("graceful", "Running", time.Minute, phaseIs(corev1.PodRunning))
		start := time.Now()
		if err := c.client.CoreV1().Pods(c.ns).Delete(ctx, "graceful", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		c.waitFor("pod removed", time.Minute, func() (bool, error) {
			_, err := c.client.CoreV1().Pods(c.ns).Get(ctx, "graceful", metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("a container that exits on SIGTERM took %s to stop", d)
		}
		for _, f := range []string{"prestop", "term"} {
			if b, err := os.ReadFile(filepath.Join(hostDir, f)); err != nil || strings.TrimSpace(string(b)) != f {
				t.Errorf("%s: %q %v", f, b, err)
			}
		}
		c.waitFor("containers removed", time.Minute, func() (bool, error) {
			return len(c.containersOf(string(created.UID))) == 0, nil
		})
	})

	t.Run("static pods are mirrored into the API", func(t *testing.T) {
		c := c.with(t)
		manifest := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: static-web
  namespace: %s
spec:
  containers:
  - name: main
    image: %s
    command: ["sh", "-c", "echo static; sleep 3600"]
`, c.ns, images.BusyboxImage)
		path := filepath.Join(c.manifests, "web.yaml")
		if err := os.WriteFile(path, []byte(manifest), 0o644); err != nil {
			t.Fatal(err)
		}
		name := "static-web-" + c.node
		mirror := c.waitPod(name, "mirror pod Running", time.Minute, phaseIs(corev1.PodRunning))
		if mirror.Annotations["kubernetes.io/config.mirror"] == "" || mirror.Annotations["kubernetes.io/config.source"] != "file" {
			t.Errorf("mirror annotations %v", mirror.Annotations)
		}
		if len(mirror.OwnerReferences) != 1 || mirror.OwnerReferences[0].Kind != "Node" || mirror.OwnerReferences[0].Name != c.node {
			t.Errorf("mirror owner %v", mirror.OwnerReferences)
		}
		c.waitFor("static pod logs", 30*time.Second, func() (bool, error) {
			return c.logs(name, "main", false) == "static\n", nil
		})
		// Deleting the mirror pod does not stop the static pod: the agent
		// shows it again.
		if err := c.client.CoreV1().Pods(c.ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		c.waitPod(name, "mirror pod recreated", time.Minute, func(p *corev1.Pod) bool { return p.UID != mirror.UID && p.Status.Phase == corev1.PodRunning })
		// Removing the manifest stops it and removes the mirror.
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		c.waitFor("mirror pod removed", time.Minute, func() (bool, error) {
			_, err := c.client.CoreV1().Pods(c.ns).Get(ctx, name, metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
		c.waitFor("static pod containers removed", time.Minute, func() (bool, error) {
			return len(c.containersOf(mirror.Annotations["kubernetes.io/config.mirror"])) == 0, nil
		})
	})

	t.Run("runtime class handler and overhead", func(t *testing.T) {
		c := c.with(t)
		rc := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"}, Handler: "test-handler",
			Overhead: &nodev1.Overhead{PodFixed: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m")}}}
		rc, err := c.client.NodeV1().RuntimeClasses().Create(ctx, rc, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.client.NodeV1().RuntimeClasses().Delete(ctx, rc.Name, metav1.DeleteOptions{})
		p := pod("rc", corev1.RestartPolicyNever, busybox("main", "true"))
		p.Spec.RuntimeClassName = &rc.Name
		created := c.createPod(p)
		if q := created.Spec.Overhead[corev1.ResourceCPU]; q.String() != "10m" {
			t.Errorf("overhead %v, want the RuntimeClass's 10m", created.Spec.Overhead)
		}
		c.waitPod("rc", "Succeeded on the test-handler runtime", time.Minute, phaseIs(corev1.PodSucceeded))
		missing := pod("rc-missing", corev1.RestartPolicyNever, busybox("main", "true"))
		missing.Spec.RuntimeClassName = ptr.To("absent")
		missing.Namespace, missing.Spec.NodeName = c.ns, c.node
		if _, err := c.client.CoreV1().Pods(c.ns).Create(ctx, missing, metav1.CreateOptions{}); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `RuntimeClass "absent" not found`) {
			t.Errorf("pod with a missing RuntimeClass: %v", err)
		}
	})

	t.Run("pull policy Always pulls through a registry mirror", func(t *testing.T) {
		testRegistryMirror(t, c.with(t))
	})

	t.Run("pods survive restarts of the agent and of containerd", func(t *testing.T) {
		c := c.with(t)
		c.createPod(pod("survivor", corev1.RestartPolicyAlways, busybox("main", "sleep", "3600")))
		before := c.waitPod("survivor", "Running", time.Minute, phaseIs(corev1.PodRunning)).Status.ContainerStatuses[0]

		c.stopAgent()
		c.startAgent()
		c.restartRuntime()
		// The agent keeps working on the restarted runtime: a new pod runs.
		c.createPod(pod("after-restart", corev1.RestartPolicyNever, busybox("main", "echo", "ok")))
		c.waitPod("after-restart", "Succeeded", 2*time.Minute, phaseIs(corev1.PodSucceeded))

		after := c.waitPod("survivor", "Running", time.Minute, phaseIs(corev1.PodRunning)).Status.ContainerStatuses[0]
		if after.ContainerID != before.ContainerID || after.RestartCount != 0 || after.State.Running == nil {
			t.Errorf("container changed across restarts: before %s, after %s (restarts %d)", before.ContainerID, after.ContainerID, after.RestartCount)
		}
	})

	t.Run("broken pods report reasons and others keep running", func(t *testing.T) {
		c := c.with(t)
		good := c.createPod(pod("good", corev1.RestartPolicyAlways, busybox("main", "sleep", "3600")))
		c.waitPod("good", "Running", time.Minute, phaseIs(corev1.PodRunning))

		noImage := busybox("main", "true")
		noImage.Image = "registry.invalid/nothing:1"
		c.createPod(pod("no-image", corev1.RestartPolicyAlways, noImage))
		c.waitPod("no-image", "ErrImagePull or ImagePullBackOff", time.Minute, waitingReason("ErrImagePull", "ImagePullBackOff"))

		c.createPod(pod("bad-command", corev1.RestartPolicyAlways, busybox("main", "/no/such/binary")))
		c.waitPod("bad-command", "RunContainerError or CrashLoopBackOff", time.Minute, func(p *corev1.Pod) bool {
			if len(p.Status.ContainerStatuses) == 0 {
				return false
			}
			s := p.Status.ContainerStatuses[0]
			return (s.State.Waiting != nil && (s.State.Waiting.Reason == "RunContainerError" || s.State.Waiting.Reason == "CrashLoopBackOff")) ||
				(s.LastTerminationState.Terminated != nil && s.LastTerminationState.Terminated.ExitCode == 128)
		})

		missingEnv := busybox("main", "sleep", "3600")
		missingEnv.Env = []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Key: "k"}}}}
		c.createPod(pod("missing-env", corev1.RestartPolicyAlways, missingEnv))
		got := c.waitPod("missing-env", "CreateContainerConfigError", time.Minute, waitingReason("CreateContainerConfigError"))
		if m := got.Status.ContainerStatuses[0].State.Waiting.Message; m != `configmap "absent" not found` {
			t.Errorf("message %q", m)
		}

		missingVol := pod("missing-volume", corev1.RestartPolicyAlways, busybox("main", "sleep", "3600"))
		missingVol.Spec.Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "absent"}}}}
		missingVol.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "v", MountPath: "/v"}}
		c.createPod(missingVol)
		c.waitFor("FailedMount event", time.Minute, func() (bool, error) {
			evs, err := c.client.CoreV1().Events(c.ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=missing-volume,reason=FailedMount"})
			return err == nil && len(evs.Items) > 0, err
		})
		got = c.waitPod("missing-volume", "ContainerCreating", time.Minute, waitingReason("ContainerCreating"))
		if got.Status.Phase != corev1.PodPending {
			t.Errorf("phase %s", got.Status.Phase)
		}

		p, err := c.client.CoreV1().Pods(c.ns).Get(ctx, "good", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if s := p.Status.ContainerStatuses[0]; p.Status.Phase != corev1.PodRunning || s.RestartCount != 0 || p.UID != good.UID {
			t.Errorf("good pod disturbed: phase %s restarts %d", p.Status.Phase, s.RestartCount)
		}
	})
}

func waitingReason(reasons ...string) func(*corev1.Pod) bool {
	return func(p *corev1.Pod) bool {
		if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].State.Waiting == nil {
			return false
		}
		for _, r := range reasons {
			if p.Status.ContainerStatuses[0].State.Waiting.Reason == r {
				return true
			}
		}
		return false
	}
}

// exec runs a command in a container through the apiserver (SPDY).
func (c *cluster) exec(pod, container string, cmd ...string) (string, string, error) {
	req := c.client.CoreV1().RESTClient().Post().Resource("pods").Namespace(c.ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: cmd, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	ex, err := remotecommand.NewSPDYExecutor(c.server.Config, http.MethodPost, req.URL())
	if err != nil {
		return "", "", err
	}
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &out, Stderr: &errOut})
	return out.String(), errOut.String(), err
}
