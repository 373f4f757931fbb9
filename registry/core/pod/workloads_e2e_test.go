package pod_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/capstan-dev/capstan/test/integration/framework"
)

// TestWorkloadsThroughServer drives pods, their subresources, pod
// templates and replication controllers through a real server.
func TestWorkloadsThroughServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	s := framework.Start(t)
	c := s.Client(t)
	ctx := context.Background()
	ns := "default"
	pods := c.CoreV1().Pods(ns)

	newPod := func(name string, labels map[string]string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			// No scheduler serves this name: the test's pods stay as the
			// test writes them, unscheduled.
			Spec: corev1.PodSpec{SchedulerName: "unserved-scheduler", Containers: []corev1.Container{{
				Name: "app", Image: "nginx:1.27",
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
				},
			}}},
		}
	}

	t.Run("create, table, invalid", func(t *testing.T) {
		p, err := pods.Create(ctx, newPod("created", nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Status.Phase != corev1.PodPending || p.Status.QOSClass != corev1.PodQOSBurstable || p.Generation != 1 {
			t.Errorf("phase %q qos %q generation %d", p.Status.Phase, p.Status.QOSClass, p.Generation)
		}
		var table metav1.Table
		raw, err := c.CoreV1().RESTClient().Get().Namespace(ns).Resource("pods").Name("created").
			SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &table); err != nil {
			t.Fatal(err)
		}
		var cols []string
		for _, col := range table.ColumnDefinitions {
			cols = append(cols, col.Name)
		}
		if diff := cmp.Diff([]string{"Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"}, cols); diff != "" {
			t.Errorf("columns (-want +got):\n%s", diff)
		}
		bad := newPod("bad", nil)
		bad.Spec.Containers[0].Name = "Bad"
		_, err = pods.Create(ctx, bad, metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.containers[0].name") {
			t.Errorf("err = %v, want Invalid on spec.containers[0].name", err)
		}
		p.Spec.Containers[0].Args = []string{"x"}
		_, err = pods.Update(ctx, p, metav1.UpdateOptions{})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "pod updates may not change fields other than") {
			t.Errorf("update err = %v", err)
		}
	})

	t.Run("binding", func(t *testing.T) {
		if _, err := pods.Create(ctx, newPod("bindme", nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		b := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "bindme"}, Target: corev1.ObjectReference{Kind: "Node", Name: "node-1"}}
		if err := pods.Bind(ctx, b, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		p, err := pods.Get(ctx, "bindme", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Spec.NodeName != "node-1" || len(p.Status.Conditions) != 1 || p.Status.Conditions[0].Type != corev1.PodScheduled || p.Status.Conditions[0].Status != corev1.ConditionTrue {
			t.Errorf("node %q conditions %v", p.Spec.NodeName, p.Status.Conditions)
		}
		if err := pods.Bind(ctx, b, metav1.CreateOptions{}); !apierrors.IsConflict(err) {
			t.Errorf("second binding: err = %v, want Conflict", err)
		}
		list, err := pods.List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=node-1"})
		if err != nil || len(list.Items) != 1 || list.Items[0].Name != "bindme" {
			t.Errorf("field selector: %v %v", list, err)
		}
	})

	t.Run("ephemeral containers and resize", func(t *testing.T) {
		p, err := pods.Create(ctx, newPod("debugme", nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}
		p.Spec.Containers[0].Image = "ignored"
		p, err = pods.UpdateEphemeralContainers(ctx, "debugme", p, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Spec.EphemeralContainers) != 1 || p.Spec.Containers[0].Image != "nginx:1.27" || p.Generation != 2 {
			t.Errorf("ephemeral %v image %q generation %d", p.Spec.EphemeralContainers, p.Spec.Containers[0].Image, p.Generation)
		}
		p.Spec.EphemeralContainers = nil
		if _, err := pods.UpdateEphemeralContainers(ctx, "debugme", p, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
			t.Errorf("removing: err = %v, want Invalid", err)
		}

		p, err = pods.Get(ctx, "debugme", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU] = resource.MustParse("500m")
		p, err = pods.UpdateResize(ctx, "debugme", p, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU]; got.String() != "500m" {
			t.Errorf("cpu limit %s after resize", got.String())
		}
		p.Spec.Containers[0].Resources.Limits[corev1.ResourceMemory] = resource.MustParse("64Mi")
		if _, err := pods.UpdateResize(ctx, "debugme", p, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
			t.Errorf("memory decrease: err = %v, want Invalid", err)
		}
	})

	t.Run("eviction honours disruption budgets", func(t *testing.T) {
		labels := map[string]string{"app": "guarded"}
		if _, err := pods.Create(ctx, newPod("guarded", labels), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := pods.Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "guarded"}, Target: corev1.ObjectReference{Name: "node-1"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		p, err := pods.Get(ctx, "guarded", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue})
		if _, err := pods.UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		pdbs := c.PolicyV1().PodDisruptionBudgets(ns)
		one := intstr.FromInt32(1)
		pdb, err := pdbs.Create(ctx, &policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Name: "budget"},
			Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &one, Selector: &metav1.LabelSelector{MatchLabels: labels}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		setAllowed := func(n int32) {
			t.Helper()
			pdb.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: pdb.Generation, DisruptionsAllowed: n, CurrentHealthy: 1, DesiredHealthy: 1, ExpectedPods: 1}
			if pdb, err = pdbs.UpdateStatus(ctx, pdb, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		evict := func() error {
			return pods.EvictV1(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "guarded", Namespace: ns}})
		}
		setAllowed(0)
		err = evict()
		if !apierrors.IsTooManyRequests(err) || !strings.Contains(err.Error(), "Cannot evict pod as it would violate the pod's disruption budget.") {
			t.Fatalf("err = %v, want 429", err)
		}
		setAllowed(1)
		if err := evict(); err != nil {
			t.Fatal(err)
		}
		pdb, err = pdbs.Get(ctx, "budget", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := pdb.Status.DisruptedPods["guarded"]; !ok || pdb.Status.DisruptionsAllowed != 0 {
			t.Errorf("pdb status after eviction: %+v", pdb.Status)
		}
		p, err = pods.Get(ctx, "guarded", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		target := false
		for _, cond := range p.Status.Conditions {
			target = target || (cond.Type == corev1.DisruptionTarget && cond.Reason == "EvictionByEvictionAPI")
		}
		if p.DeletionTimestamp == nil || !target {
			t.Errorf("evicted pod: deletionTimestamp %v, conditions %v", p.DeletionTimestamp, p.Status.Conditions)
		}

		// A pending pod is evicted without consulting any budget.
		if _, err := pods.Create(ctx, newPod("pending", labels), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := pods.EvictV1(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "pending", Namespace: ns}}); err != nil {
			t.Fatal(err)
		}
		if _, err := pods.Get(ctx, "pending", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("pending pod after eviction: err = %v, want NotFound", err)
		}
	})

	t.Run("podtemplates and replicationcontrollers", func(t *testing.T) {
		tmpl := corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "rc"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
		}
		if _, err := c.CoreV1().PodTemplates(ns).Create(ctx, &corev1.PodTemplate{ObjectMeta: metav1.ObjectMeta{Name: "tpl"}, Template: tmpl}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		rcs := c.CoreV1().ReplicationControllers(ns)
		if _, err := rcs.Create(ctx, &corev1.ReplicationController{ObjectMeta: metav1.ObjectMeta{Name: "rc"}, Spec: corev1.ReplicationControllerSpec{Template: &tmpl}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		sc, err := rcs.GetScale(ctx, "rc", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if sc.Spec.Replicas != 1 || sc.Status.Selector != "app=rc" {
			t.Errorf("scale %+v", sc)
		}
		sc.Spec.Replicas = 4
		if _, err := rcs.UpdateScale(ctx, "rc", sc, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		rc, err := rcs.Get(ctx, "rc", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if *rc.Spec.Replicas != 4 || rc.Generation != 2 {
			t.Errorf("replicas %d generation %d", *rc.Spec.Replicas, rc.Generation)
		}
		checkDiscovery(t, c)
	})
}

func checkDiscovery(t *testing.T, c kubernetes.Interface) {
	t.Helper()
	list, err := c.Discovery().ServerResourcesForGroupVersion("v1")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"pods": "/v1/Pod", "pods/status": "/v1/Pod", "pods/binding": "/v1/Binding", "pods/eviction": "policy/v1/Eviction",
		"pods/ephemeralcontainers": "/v1/Pod", "pods/resize": "/v1/Pod", "podtemplates": "/v1/PodTemplate",
		"replicationcontrollers": "/v1/ReplicationController", "replicationcontrollers/scale": "autoscaling/v1/Scale",
	}
	got := map[string]string{}
	for _, r := range list.APIResources {
		if _, ok := want[r.Name]; ok {
			got[r.Name] = r.Group + "/" + r.Version + "/" + r.Kind
			if r.Version == "" {
				got[r.Name] = "/v1/" + r.Kind
			}
		}
		if r.Name == "pods" && (strings.Join(r.ShortNames, ",") != "po" || strings.Join(r.Categories, ",") != "all") {
			t.Errorf("pods: short names %v categories %v", r.ShortNames, r.Categories)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("discovery (-want +got):\n%s", diff)
	}
}
