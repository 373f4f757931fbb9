package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/capstan-dev/capstan/test/integration/framework"
)

// schedWait bounds every wait on the scheduler.
const schedWait = 60 * time.Second

// newPodNamespace creates a namespace and waits for its default
// ServiceAccount, without which admission turns pods away.
func newPodNamespace(t *testing.T, c kubernetes.Interface, name string) {
	t.Helper()
	newNamespace(t, c, name)
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, schedWait, true, func(ctx context.Context) (bool, error) {
		_, err := c.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("default ServiceAccount in %s: %v", name, err)
	}
}

// schedNode describes a node created directly through the API, as a node
// agent would register it.
type schedNode struct {
	name          string
	cpu, memory   string
	pods          int64
	labels        map[string]string
	taints        []corev1.Taint
	unschedulable bool
}

func createSchedNode(t *testing.T, c kubernetes.Interface, n schedNode) {
	t.Helper()
	ctx := context.Background()
	if n.pods == 0 {
		n.pods = 110
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.name, Labels: map[string]string{corev1.LabelHostname: n.name}},
		Spec:       corev1.NodeSpec{Taints: n.taints, Unschedulable: n.unschedulable},
	}
	for k, v := range n.labels {
		node.Labels[k] = v
	}
	node, err := c.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Status is the node agent's to write; create resets it.
	res := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(n.cpu),
		corev1.ResourceMemory: resource.MustParse(n.memory),
		corev1.ResourcePods:   *resource.NewQuantity(n.pods, resource.DecimalSI),
	}
	node.Status.Capacity = res
	node.Status.Allocatable = res
	node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now()}}
	if _, err := c.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// schedPod is a pod asking for cpu (and, when set, memory) in one container.
func schedPod(name, cpu string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}},
	}
	if cpu != "" {
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
	}
	return p
}

func createPod(t *testing.T, c kubernetes.Interface, ns string, p *corev1.Pod) {
	t.Helper()
	if _, err := c.CoreV1().Pods(ns).Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitPod polls the pod until done says so, failing the test at the deadline.
func waitPod(t *testing.T, c kubernetes.Interface, ns, name, what string, done func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var last *corev1.Pod
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, schedWait, true, func(ctx context.Context) (bool, error) {
		p, err := c.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last = p
		return done(p), nil
	})
	if err != nil {
		t.Fatalf("pod %s/%s: waiting for %s: %v; last seen: nodeName %q, conditions %+v", ns, name, what, err, last.Spec.NodeName, last.Status.Conditions)
	}
	return last
}

// waitScheduled waits for the pod to be bound and returns its node.
func waitScheduled(t *testing.T, c kubernetes.Interface, ns, name string) string {
	t.Helper()
	return waitPod(t, c, ns, name, "a node", func(p *corev1.Pod) bool { return p.Spec.NodeName != "" }).Spec.NodeName
}

func podScheduledCondition(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodScheduled {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// waitUnschedulable waits for PodScheduled=False/Unschedulable and returns its message.
func waitUnschedulable(t *testing.T, c kubernetes.Interface, ns, name string) string {
	t.Helper()
	p := waitPod(t, c, ns, name, "PodScheduled=False", func(p *corev1.Pod) bool {
		cond := podScheduledCondition(p)
		return cond != nil && cond.Status == corev1.ConditionFalse && cond.Reason == corev1.PodReasonUnschedulable
	})
	if p.Spec.NodeName != "" {
		t.Fatalf("pod %s/%s: unschedulable but bound to %q", ns, name, p.Spec.NodeName)
	}
	return podScheduledCondition(p).Message
}

// waitEvent waits for a core/v1 Event about the pod with reason and
// message. Earlier attempts may have left events with other messages.
func waitEvent(t *testing.T, c kubernetes.Interface, ns, pod, reason, message string) corev1.Event {
	t.Helper()
	selector := fields.Set{"involvedObject.kind": "Pod", "involvedObject.name": pod, "reason": reason}.AsSelector().String()
	var found corev1.Event
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, schedWait, true, func(ctx context.Context) (bool, error) {
		list, err := c.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: selector})
		if err != nil {
			return false, nil
		}
		for _, e := range list.Items {
			if e.Message == message {
				found = e
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no %s event %q for pod %s/%s: %v", reason, message, ns, pod, err)
	}
	return found
}

func deletePodNow(t *testing.T, c kubernetes.Interface, ns, name string) {
	t.Helper()
	// Without a node agent to confirm, only a zero grace period removes a bound pod.
	if err := c.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
}

// TestSchedulerPlacement checks where the scheduler puts pods: by resources
// (with init containers, sidecars and overhead counted as upstream does),
// by node selector and affinity, around taints and cordons, and around
// host ports in use. Each subtest keeps to its own nodes through a label.
func TestSchedulerPlacement(t *testing.T) {
	s := framework.Start(t)
	c := s.Client(t)
	ns := "placement"
	newPodNamespace(t, c, ns)
	inGroup := func(p *corev1.Pod, group string) *corev1.Pod {
		p.Spec.NodeSelector = map[string]string{"group": group}
		return p
	}

	t.Run("resources fit across nodes", func(t *testing.T) {
		createSchedNode(t, c, schedNode{name: "fit-small", cpu: "1", memory: "2Gi", labels: map[string]string{"group": "fit"}})
		createSchedNode(t, c, schedNode{name: "fit-big", cpu: "4", memory: "8Gi", labels: map[string]string{"group": "fit"}})

		createPod(t, c, ns, inGroup(schedPod("two-cores", "2"), "fit"))
		if got := waitScheduled(t, c, ns, "two-cores"); got != "fit-big" {
			t.Fatalf("two-cores on %q, want fit-big (the only node with 2 cores)", got)
		}
		// An init container needing 1.5 cores makes the pod's request 1.5,
		// though its container asks for 0.5: only fit-big has room (2 left).
		p := inGroup(schedPod("init", "500m"), "fit")
		p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1500m")}}}}
		createPod(t, c, ns, p)
		if got := waitScheduled(t, c, ns, "init"); got != "fit-big" {
			t.Fatalf("init on %q, want fit-big", got)
		}
		// A sidecar adds to the containers: 0.6 + 0.4 = 1 core, which only
		// fit-small still has (fit-big has 0.5 left).
		p = inGroup(schedPod("sidecar", "400m"), "fit")
		p.Spec.InitContainers = []corev1.Container{{Name: "sidecar", Image: "busybox", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways),
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("600m")}}}}
		createPod(t, c, ns, p)
		if got := waitScheduled(t, c, ns, "sidecar"); got != "fit-small" {
			t.Fatalf("sidecar on %q, want fit-small", got)
		}
		// Overhead counts too: 0.3 + 0.3 does not fit the 0.5 left on fit-big.
		// The pod gets it from its RuntimeClass at admission.
		rc := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: "sched-overhead"}, Handler: "runc",
			Overhead: &nodev1.Overhead{PodFixed: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("300m")}}}
		if _, err := c.NodeV1().RuntimeClasses().Create(context.Background(), rc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		p = inGroup(schedPod("overhead", "300m"), "fit")
		p.Spec.RuntimeClassName = ptr.To("sched-overhead")
		createPod(t, c, ns, p)
		msg := waitUnschedulable(t, c, ns, "overhead")
		if !strings.Contains(msg, "2 Insufficient cpu") {
			t.Errorf("overhead pod: message %q lacks %q", msg, "2 Insufficient cpu")
		}
	})

	t.Run("node selector and affinity", func(t *testing.T) {
		createSchedNode(t, c, schedNode{name: "aff-a", cpu: "4", memory: "8Gi", labels: map[string]string{"group": "aff", "zone": "a", "disk": "ssd"}})
		createSchedNode(t, c, schedNode{name: "aff-b", cpu: "4", memory: "8Gi", labels: map[string]string{"group": "aff", "zone": "b"}})

		p := schedPod("selector", "100m")
		p.Spec.NodeSelector = map[string]string{"disk": "ssd"}
		createPod(t, c, ns, p)
		if got := waitScheduled(t, c, ns, "selector"); got != "aff-a" {
			t.Errorf("selector on %q, want aff-a", got)
		}

		p = schedPod("required", "100m")
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"b"}}}}},
		}}}
		createPod(t, c, ns, p)
		if got := waitScheduled(t, c, ns, "required"); got != "aff-b" {
			t.Errorf("required on %q, want aff-b", got)
		}

		for i := range 3 {
			name := fmt.Sprintf("preferred-%d", i)
			p = inGroup(schedPod(name, "100m"), "aff")
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{
				Weight: 100, Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}}},
			}}}}
			createPod(t, c, ns, p)
			if got := waitScheduled(t, c, ns, name); got != "aff-a" {
				t.Errorf("%s on %q, want the preferred aff-a", name, got)
			}
		}

		p = schedPod("nowhere", "100m")
		p.Spec.NodeSelector = map[string]string{"zone": "c"}
		createPod(t, c, ns, p)
		if msg := waitUnschedulable(t, c, ns, "nowhere"); !strings.Contains(msg, "node(s) didn't match Pod's node affinity/selector") {
			t.Errorf("nowhere: message %q", msg)
		}
	})

	t.Run("taints and tolerations", func(t *testing.T) {
		createSchedNode(t, c, schedNode{name: "taint-dedicated", cpu: "4", memory: "8Gi", labels: map[string]string{"group": "taint"},
			taints: []corev1.Taint{{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}}})
		createSchedNode(t, c, schedNode{name: "taint-cordoned", cpu: "4", memory: "8Gi", labels: map[string]string{"group": "taint"}, unschedulable: true})

		createPod(t, c, ns, inGroup(schedPod("intolerant", "100m"), "taint"))
		msg := waitUnschedulable(t, c, ns, "intolerant")
		for _, want := range []string{"1 node(s) had untolerated taint(s)", "1 node(s) were unschedulable"} {
			if !strings.Contains(msg, want) {
				t.Errorf("intolerant: message %q lacks %q", msg, want)
			}
		}

		p := inGroup(schedPod("tolerant", "100m"), "taint")
		p.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "db", Effect: corev1.TaintEffectNoSchedule}}
		createPod(t, c, ns, p)
		if got := waitScheduled(t, c, ns, "tolerant"); got != "taint-dedicated" {
			t.Errorf("tolerant on %q, want taint-dedicated", got)
		}

		// Uncordoning the node is an event that requeues the intolerant pod.
		node, err := c.CoreV1().Nodes().Get(context.Background(), "taint-cordoned", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		node.Spec.Unschedulable = false
		if _, err := c.CoreV1().Nodes().Update(context.Background(), node, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := waitScheduled(t, c, ns, "intolerant"); got != "taint-cordoned" {
			t.Errorf("intolerant on %q after uncordon, want taint-cordoned", got)
		}
	})

	t.Run("pod affinity and anti-affinity", func(t *testing.T) {
		createSchedNode(t, c, schedNode{name: "anti-1", cpu: "4", memory: "8Gi", labels: map[string]string{"group": "anti"}})
		createSchedNode(t, c, schedNode{name: "anti-2", cpu: "4", memory: "8Gi", labels: map[string]string{"group": "anti"}})
		web := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
		oneWebPerNode := func(name string) *corev1.Pod {
			p := inGroup(schedPod(name, "100m"), "anti")
			p.Labels = map[string]string{"app": "web"}
			p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
				{LabelSelector: web, TopologyKey: corev1.LabelHostname},
			}}}
			return p
		}
		createPod(t, c, ns, oneWebPerNode("web-1"))
		first := waitScheduled(t, c, ns, "web-1")
		createPod(t, c, ns, oneWebPerNode("web-2"))
		if second := waitScheduled(t, c, ns, "web-2"); second == first {
			t.Errorf("web-1 and web-2 both on %q despite anti-affinity", first)
		}
		createPod(t, c, ns, oneWebPerNode("web-3"))
		if msg := waitUnschedulable(t, c, ns, "web-3"); !strings.Contains(msg, "2 node(s) didn't match pod anti-affinity rules") {
			t.Errorf("web-3: message %q", msg)
		}

		// A pod without anti-affinity of its own is still kept off nodes
		// whose pods' anti-affinity matches it.
		p := inGroup(schedPod("web-plain", "100m"), "anti")
		p.Labels = map[string]string{"app": "web"}
		createPod(t, c, ns, p)
		if msg := waitUnschedulable(t, c, ns, "web-plain"); !strings.Contains(msg, "2 node(s) didn't satisfy existing pods anti-affinity rules") {
			t.Errorf("web-plain: message %q", msg)
		}

		// Required affinity follows web-1 to its node.
		p = inGroup(schedPod("cache", "100m"), "anti")
		p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
			{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, TopologyKey: corev1.LabelHostname},
		}}}
		createPod(t, c, ns, p)
		waitScheduled(t, c, ns, "cache")

		// Deleting web-1 makes room for web-3 (once web-plain, which would
		// compete for the room, is gone).
		deletePodNow(t, c, ns, "web-plain")
		deletePodNow(t, c, ns, "web-1")
		if got := waitScheduled(t, c, ns, "web-3"); got != first {
			t.Errorf("web-3 on %q, want %q freed by web-1", got, first)
		}
	})

	t.Run("topology spread", func(t *testing.T) {
		for _, n := range []string{"spread-a1", "spread-a2", "spread-b1"} {
			createSchedNode(t, c, schedNode{name: n, cpu: "4", memory: "8Gi", labels: map[string]string{"group": "spread", "rack": n[len("spread-") : len("spread-")+1]}})
		}
		perRack := map[string]int{}
		for i := range 4 {
			name := fmt.Sprintf("spread-%d", i)
			p := inGroup(schedPod(name, "100m"), "spread")
			p.Labels = map[string]string{"app": "spread"}
			p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
				MaxSkew: 1, TopologyKey: "rack", WhenUnsatisfiable: corev1.DoNotSchedule,
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "spread"}},
			}}
			createPod(t, c, ns, p)
			node := waitScheduled(t, c, ns, name)
			perRack[node[len("spread-"):len("spread-")+1]]++
		}
		if perRack["a"] != 2 || perRack["b"] != 2 {
			t.Errorf("pods per rack %v, want 2 and 2 (maxSkew 1)", perRack)
		}
	})

	t.Run("host port conflict", func(t *testing.T) {
		createSchedNode(t, c, schedNode{name: "ports", cpu: "4", memory: "8Gi", labels: map[string]string{"group": "ports"}})
		withPort := func(name string) *corev1.Pod {
			p := inGroup(schedPod(name, "100m"), "ports")
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080, Protocol: corev1.ProtocolTCP}}
			return p
		}
		createPod(t, c, ns, withPort("port-1"))
		if got := waitScheduled(t, c, ns, "port-1"); got != "ports" {
			t.Fatalf("port-1 on %q", got)
		}
		createPod(t, c, ns, withPort("port-2"))
		msg := waitUnschedulable(t, c, ns, "port-2")
		if !strings.Contains(msg, "1 node(s) didn't have free ports for the requested pod ports") {
			t.Errorf("port-2: message %q", msg)
		}
		// Deleting the pod holding the port frees it.
		deletePodNow(t, c, ns, "port-1")
		if got := waitScheduled(t, c, ns, "port-2"); got != "ports" {
			t.Errorf("port-2 on %q after port-1 left", got)
		}
	})
}

// TestSchedulerUnschedulable checks what a pod that fits no node gets (the
// condition and event upstream writes, word for word) and that adding a
// node it fits schedules it; and that a gated pod waits for its gates.
func TestSchedulerUnschedulable(t *testing.T) {
	s := framework.Start(t)
	c := s.Client(t)
	ctx := context.Background()
	ns := "unsched"
	newPodNamespace(t, c, ns)
	createSchedNode(t, c, schedNode{name: "small", cpu: "1", memory: "2Gi", labels: map[string]string{"pool": "compute"}})
	createSchedNode(t, c, schedNode{name: "other-1", cpu: "8", memory: "16Gi"})
	createSchedNode(t, c, schedNode{name: "other-2", cpu: "8", memory: "16Gi"})

	p := schedPod("big", "2")
	p.Spec.NodeSelector = map[string]string{"pool": "compute"}
	createPod(t, c, ns, p)
	const want = "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. " +
		"preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
	if msg := waitUnschedulable(t, c, ns, "big"); msg != want {
		t.Errorf("condition message\n got %q\nwant %q", msg, want)
	}
	ev := waitEvent(t, c, ns, "big", "FailedScheduling", want)
	if ev.Type != corev1.EventTypeWarning || ev.Source.Component != "default-scheduler" {
		t.Errorf("FailedScheduling event: type %q, source %q", ev.Type, ev.Source.Component)
	}

	createSchedNode(t, c, schedNode{name: "large", cpu: "4", memory: "8Gi", labels: map[string]string{"pool": "compute"}})
	if got := waitScheduled(t, c, ns, "big"); got != "large" {
		t.Fatalf("big on %q, want large", got)
	}
	ev = waitEvent(t, c, ns, "big", "Scheduled", "Successfully assigned unsched/big to large")
	if ev.Type != corev1.EventTypeNormal || ev.Source.Component != "default-scheduler" {
		t.Errorf("Scheduled event: type %q, source %q", ev.Type, ev.Source.Component)
	}
	pod, err := c.CoreV1().Pods(ns).Get(ctx, "big", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cond := podScheduledCondition(pod); cond == nil || cond.Status != corev1.ConditionTrue {
		t.Errorf("PodScheduled after binding: %+v", cond)
	}

	t.Run("scheduling gates", func(t *testing.T) {
		p := schedPod("gated", "100m")
		p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/wait"}}
		createPod(t, c, ns, p)
		// The gated pod is left alone while an ungated one created after it is placed.
		createPod(t, c, ns, schedPod("after-gated", "100m"))
		waitScheduled(t, c, ns, "after-gated")
		gated, err := c.CoreV1().Pods(ns).Get(ctx, "gated", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if gated.Spec.NodeName != "" {
			t.Fatalf("gated pod was bound to %q", gated.Spec.NodeName)
		}
		if cond := podScheduledCondition(gated); cond == nil || cond.Reason != corev1.PodReasonSchedulingGated {
			t.Errorf("gated pod condition %+v, want reason SchedulingGated", cond)
		}
		gated.Spec.SchedulingGates = nil
		if _, err := c.CoreV1().Pods(ns).Update(ctx, gated, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitScheduled(t, c, ns, "gated")
	})
}

// TestSchedulerBatch creates 50 pods at once on 10 nodes with room for
// exactly 5 each: all must be placed, none may overcommit a node (the
// cache counts pods the scheduler has bound before the informer reports
// them), and a 51st pod must find no room.
func TestSchedulerBatch(t *testing.T) {
	s := framework.Start(t)
	c := s.Client(t)
	ctx := context.Background()
	ns := "batch"
	newPodNamespace(t, c, ns)
	const nodes, perNode = 10, 5
	for i := range nodes {
		createSchedNode(t, c, schedNode{name: fmt.Sprintf("batch-%02d", i), cpu: "2", memory: "4Gi"})
	}
	for i := range nodes * perNode {
		createPod(t, c, ns, schedPod(fmt.Sprintf("pod-%02d", i), "400m"))
	}
	var list *corev1.PodList
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, schedWait, true, func(ctx context.Context) (bool, error) {
		var err error
		list, err = c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		for _, p := range list.Items {
			if p.Spec.NodeName == "" {
				return false, nil
			}
		}
		return len(list.Items) == nodes*perNode, nil
	})
	if err != nil {
		t.Fatalf("not all pods scheduled: %v", err)
	}
	perNodeCount := map[string]int{}
	for _, p := range list.Items {
		perNodeCount[p.Spec.NodeName]++
	}
	for name, n := range perNodeCount {
		if n != perNode {
			t.Errorf("node %s has %d pods, want %d (2 cores / 400m)", name, n, perNode)
		}
	}
	if len(perNodeCount) != nodes {
		t.Errorf("pods on %d nodes, want %d: %v", len(perNodeCount), nodes, perNodeCount)
	}

	createPod(t, c, ns, schedPod("one-too-many", "400m"))
	const want = "0/10 nodes are available: 10 Insufficient cpu. " +
		"preemption: 0/10 nodes are available: 10 No preemption victims found for incoming pod."
	if msg := waitUnschedulable(t, c, ns, "one-too-many"); msg != want {
		t.Errorf("one-too-many: message\n got %q\nwant %q", msg, want)
	}

	// Only the leader schedules; it holds upstream's Lease.
	lease, err := c.CoordinationV1().Leases("kube-system").Get(ctx, "kube-scheduler", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("scheduler lease: %v", err)
	}
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		t.Errorf("scheduler lease has no holder: %+v", lease.Spec)
	}
}
