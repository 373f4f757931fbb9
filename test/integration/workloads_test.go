package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/capstan-dev/capstan/test/integration/framework"
)

// unreadyImage marks pods the fake kubelet leaves Pending: a rollout to it stalls.
const unreadyImage = "registry.k8s.io/unready:1"

// fakeKubelet stands in for node agents, which these tests do not run: it
// marks every pod of a namespace Running and Ready, except pods whose first
// container runs unreadyImage.
func fakeKubelet(t *testing.T, c kubernetes.Interface, namespace string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactoryWithOptions(c, 0, informers.WithNamespace(namespace))
	pods := factory.Core().V1().Pods().Informer()
	markReady := func(obj any) {
		pod, ok := obj.(*corev1.Pod)
		if !ok || pod.DeletionTimestamp != nil || podReady(pod) || len(pod.Spec.Containers) == 0 ||
			pod.Spec.Containers[0].Image == unreadyImage {
			return
		}
		pod = pod.DeepCopy()
		now := metav1.Now()
		pod.Status.Phase = corev1.PodRunning
		pod.Status.StartTime = &now
		pod.Status.Conditions = []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		}
		// A conflict or a deleted pod is fine: the next event brings the pod back.
		_, _ = c.CoreV1().Pods(namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
	}
	_, _ = pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    markReady,
		UpdateFunc: func(_, obj any) { markReady(obj) },
	})
	factory.Start(ctx.Done())
	t.Cleanup(func() {
		cancel()
		factory.Shutdown()
	})
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// eventually polls check until it holds, failing the test after a minute.
func eventually(t *testing.T, what string, check func(ctx context.Context) (bool, error)) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		ok, err := check(ctx)
		if err != nil {
			last = err
			return false, nil
		}
		return ok, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v (last error: %v)", what, err, last)
	}
}

// activePods lists the pods of a namespace that are not being deleted.
func activePods(ctx context.Context, c kubernetes.Interface, namespace, selector string) ([]corev1.Pod, error) {
	list, err := c.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

func workloadTemplate(app, image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
	}
}

func newDeployment(name string, replicas int32, image string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: workloadTemplate(name, image),
		},
	}
}

// rolledOut waits until a Deployment's rollout of its current generation
// is complete, as kubectl rollout status judges it, and returns it.
func rolledOut(t *testing.T, c kubernetes.Interface, namespace, name string) *appsv1.Deployment {
	t.Helper()
	var d *appsv1.Deployment
	eventually(t, "deployment "+name+" rolled out", func(ctx context.Context) (bool, error) {
		var err error
		d, err = c.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		want := *d.Spec.Replicas
		st := d.Status
		progressing := deploymentCondition(d, appsv1.DeploymentProgressing)
		return st.ObservedGeneration >= d.Generation && st.UpdatedReplicas == want && st.Replicas == want &&
			st.AvailableReplicas == want && st.ReadyReplicas == want && st.UnavailableReplicas == 0 &&
			progressing != nil && progressing.Reason == "NewReplicaSetAvailable", nil
	})
	return d
}

func deploymentCondition(d *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == t {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

// replicaSetsOf returns the ReplicaSets a Deployment controls, by revision.
func replicaSetsOf(ctx context.Context, c kubernetes.Interface, d *appsv1.Deployment) (map[string]*appsv1.ReplicaSet, error) {
	list, err := c.AppsV1().ReplicaSets(d.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := map[string]*appsv1.ReplicaSet{}
	for i := range list.Items {
		rs := &list.Items[i]
		if metav1.IsControlledBy(rs, d) {
			out[rs.Annotations["deployment.kubernetes.io/revision"]] = rs
		}
	}
	return out, nil
}

func setImage(t *testing.T, c kubernetes.Interface, namespace, name, image string) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":%q}]}}}}`, image)
	if _, err := c.AppsV1().Deployments(namespace).Patch(context.Background(), name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

func scaleDeployment(t *testing.T, c kubernetes.Interface, namespace, name string, replicas int32) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)
	if _, err := c.AppsV1().Deployments(namespace).Patch(context.Background(), name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

func hasEvent(ctx context.Context, c kubernetes.Interface, namespace, object, reason, messagePrefix string) (bool, error) {
	list, err := c.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, err
	}
	for _, e := range list.Items {
		if e.InvolvedObject.Name == object && e.Reason == reason && strings.HasPrefix(e.Message, messagePrefix) {
			return true, nil
		}
	}
	return false, nil
}

// TestWorkloadControllers drives the ReplicaSet, ReplicationController and
// Deployment controllers of a real server, with a fake kubelet making pods ready.
func TestWorkloadControllers(t *testing.T) {
	s := framework.Start(t)
	c := s.Client(t)

	t.Run("ReplicaSet", func(t *testing.T) { testReplicaSet(t, c) })
	t.Run("ReplicationController", func(t *testing.T) { testReplicationController(t, c) })
	t.Run("DeploymentRollingUpdate", func(t *testing.T) { testDeploymentRollingUpdate(t, c) })
	t.Run("DeploymentPaused", func(t *testing.T) { testDeploymentPaused(t, c) })
	t.Run("DeploymentRecreate", func(t *testing.T) { testDeploymentRecreate(t, c) })
	t.Run("DeploymentHistoryLimit", func(t *testing.T) { testDeploymentHistoryLimit(t, c) })
	t.Run("DeploymentProgressDeadline", func(t *testing.T) { testDeploymentProgressDeadline(t, c) })
	t.Run("DeploymentProportionalScaling", func(t *testing.T) { testDeploymentProportionalScaling(t, c) })
	t.Run("DeploymentKubectlRollout", func(t *testing.T) { testDeploymentKubectl(t, c, s.Kubeconfig) })
}

func testReplicaSet(t *testing.T, c kubernetes.Interface) {
	ctx := context.Background()
	ns := "workload-rs"
	newNamespace(t, c, ns)
	fakeKubelet(t, c, ns)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: workloadTemplate("web", "registry.k8s.io/pause:3.10"),
		},
	}
	rs, err := c.AppsV1().ReplicaSets(ns).Create(ctx, rs, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ready := func(n int32) func(ctx context.Context) (bool, error) {
		return func(ctx context.Context) (bool, error) {
			got, err := c.AppsV1().ReplicaSets(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			st := got.Status
			pods, err := activePods(ctx, c, ns, "app=web")
			if err != nil {
				return false, err
			}
			return st.ObservedGeneration == got.Generation && st.Replicas == n && st.FullyLabeledReplicas == n &&
				st.ReadyReplicas == n && st.AvailableReplicas == n && len(pods) == int(n), nil
		}
	}
	eventually(t, "3 ready replicas", ready(3))

	pods, err := activePods(ctx, c, ns, "app=web")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		ref := metav1.GetControllerOf(&p)
		if ref == nil || ref.UID != rs.UID || ref.Kind != "ReplicaSet" || ref.APIVersion != "apps/v1" ||
			!ptr.Deref(ref.BlockOwnerDeletion, false) || !strings.HasPrefix(p.Name, "web-") {
			t.Errorf("pod %s: controller reference %+v", p.Name, ref)
		}
	}
	got, err := c.AppsV1().ReplicaSets(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.TerminatingReplicas == nil || *got.Status.TerminatingReplicas != 0 {
		t.Errorf("terminatingReplicas = %v, want 0", got.Status.TerminatingReplicas)
	}

	t.Run("scale down", func(t *testing.T) {
		if _, err := c.AppsV1().ReplicaSets(ns).Patch(ctx, "web", types.MergePatchType, []byte(`{"spec":{"replicas":1}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "1 ready replica", ready(1))
		eventually(t, "SuccessfulDelete event", func(ctx context.Context) (bool, error) {
			return hasEvent(ctx, c, ns, "web", "SuccessfulDelete", "Deleted pod: web-")
		})
		ok, err := hasEvent(ctx, c, ns, "web", "SuccessfulCreate", "Created pod: web-")
		if err != nil || !ok {
			t.Errorf("no SuccessfulCreate event (%v)", err)
		}
	})

	t.Run("adopts a matching orphan", func(t *testing.T) {
		orphan := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "orphan", Labels: map[string]string{"app": "web"}},
			Spec:       workloadTemplate("web", "registry.k8s.io/pause:3.10").Spec,
		}
		if _, err := c.CoreV1().Pods(ns).Create(ctx, orphan, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// Adopted, the ReplicaSet has one pod too many and deletes one.
		eventually(t, "orphan adopted and one pod deleted", func(ctx context.Context) (bool, error) {
			pods, err := activePods(ctx, c, ns, "app=web")
			if err != nil || len(pods) != 1 {
				return false, err
			}
			return metav1.IsControlledBy(&pods[0], rs), nil
		})
		eventually(t, "1 ready replica", ready(1))
	})

	t.Run("releases a pod that stops matching", func(t *testing.T) {
		pods, err := activePods(ctx, c, ns, "app=web")
		if err != nil || len(pods) != 1 {
			t.Fatalf("pods: %v %v", len(pods), err)
		}
		name := pods[0].Name
		if _, err := c.CoreV1().Pods(ns).Patch(ctx, name, types.MergePatchType, []byte(`{"metadata":{"labels":{"app":"other"}}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "pod released", func(ctx context.Context) (bool, error) {
			p, err := c.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return metav1.GetControllerOf(p) == nil, nil
		})
		eventually(t, "replacement ready", ready(1))
	})
}

func testReplicationController(t *testing.T, c kubernetes.Interface) {
	ctx := context.Background()
	ns := "workload-rc"
	newNamespace(t, c, ns)
	fakeKubelet(t, c, ns)
	tmpl := workloadTemplate("legacy", "registry.k8s.io/pause:3.10")
	rc := &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy"},
		Spec: corev1.ReplicationControllerSpec{
			Replicas: ptr.To[int32](2),
			Selector: map[string]string{"app": "legacy"},
			Template: &tmpl,
		},
	}
	rc, err := c.CoreV1().ReplicationControllers(ns).Create(ctx, rc, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ready := func(n int32) func(ctx context.Context) (bool, error) {
		return func(ctx context.Context) (bool, error) {
			got, err := c.CoreV1().ReplicationControllers(ns).Get(ctx, "legacy", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			pods, err := activePods(ctx, c, ns, "app=legacy")
			if err != nil {
				return false, err
			}
			st := got.Status
			return st.ObservedGeneration == got.Generation && st.Replicas == n && st.ReadyReplicas == n &&
				st.AvailableReplicas == n && st.FullyLabeledReplicas == n && len(pods) == int(n), nil
		}
	}
	eventually(t, "2 ready replicas", ready(2))
	pods, err := activePods(ctx, c, ns, "app=legacy")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		ref := metav1.GetControllerOf(&p)
		if ref == nil || ref.UID != rc.UID || ref.Kind != "ReplicationController" || ref.APIVersion != "v1" {
			t.Errorf("pod %s: controller reference %+v", p.Name, ref)
		}
	}
	eventually(t, "SuccessfulCreate event on the ReplicationController", func(ctx context.Context) (bool, error) {
		list, err := c.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, e := range list.Items {
			if e.InvolvedObject.Kind == "ReplicationController" && e.InvolvedObject.Name == "legacy" && e.Reason == "SuccessfulCreate" &&
				e.Source.Component == "replication-controller" {
				return true, nil
			}
		}
		return false, nil
	})
	if _, err := c.CoreV1().ReplicationControllers(ns).Patch(ctx, "legacy", types.MergePatchType, []byte(`{"spec":{"replicas":4}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "4 ready replicas", ready(4))
	if _, err := c.CoreV1().ReplicationControllers(ns).Patch(ctx, "legacy", types.MergePatchType, []byte(`{"spec":{"replicas":0}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "no replicas", ready(0))
}

func testDeploymentRollingUpdate(t *testing.T, c kubernetes.Interface) {
	ctx := context.Background()
	ns := "workload-rolling"
	newNamespace(t, c, ns)
	fakeKubelet(t, c, ns)
	if _, err := c.AppsV1().Deployments(ns).Create(ctx, newDeployment("web", 3, "registry.k8s.io/pause:3.10"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	d := rolledOut(t, c, ns, "web")
	if avail := deploymentCondition(d, appsv1.DeploymentAvailable); avail == nil || avail.Status != corev1.ConditionTrue || avail.Reason != "MinimumReplicasAvailable" {
		t.Errorf("Available condition = %+v", avail)
	}
	if d.Annotations["deployment.kubernetes.io/revision"] != "1" {
		t.Errorf("deployment revision = %q, want 1", d.Annotations["deployment.kubernetes.io/revision"])
	}
	if d.Status.TerminatingReplicas == nil || *d.Status.TerminatingReplicas != 0 {
		t.Errorf("terminatingReplicas = %v, want 0", d.Status.TerminatingReplicas)
	}
	rss, err := replicaSetsOf(ctx, c, d)
	if err != nil {
		t.Fatal(err)
	}
	first := rss["1"]
	if len(rss) != 1 || first == nil {
		t.Fatalf("replica sets by revision: %v", rss)
	}
	hash := first.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
	if hash == "" || first.Name != "web-"+hash || first.Spec.Selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] != hash ||
		first.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash {
		t.Errorf("replica set %s: labels %v selector %v", first.Name, first.Labels, first.Spec.Selector)
	}
	if first.Annotations["deployment.kubernetes.io/desired-replicas"] != "3" || first.Annotations["deployment.kubernetes.io/max-replicas"] != "4" {
		t.Errorf("replica set annotations %v, want desired-replicas 3 and max-replicas 4 (25%% surge of 3 rounds up)", first.Annotations)
	}
	eventually(t, "ScalingReplicaSet event", func(ctx context.Context) (bool, error) {
		return hasEvent(ctx, c, ns, "web", "ScalingReplicaSet", "Scaled up replica set "+first.Name+" from 0 to 3")
	})

	t.Run("scale", func(t *testing.T) {
		scaleDeployment(t, c, ns, "web", 5)
		rolledOut(t, c, ns, "web")
		eventually(t, "replica set scaled to 5", func(ctx context.Context) (bool, error) {
			rs, err := c.AppsV1().ReplicaSets(ns).Get(ctx, first.Name, metav1.GetOptions{})
			return err == nil && *rs.Spec.Replicas == 5 && rs.Annotations["deployment.kubernetes.io/desired-replicas"] == "5", err
		})
	})

	t.Run("set image", func(t *testing.T) {
		setImage(t, c, ns, "web", "registry.k8s.io/pause:3.9")
		d := rolledOut(t, c, ns, "web")
		if d.Annotations["deployment.kubernetes.io/revision"] != "2" {
			t.Errorf("deployment revision = %q, want 2", d.Annotations["deployment.kubernetes.io/revision"])
		}
		rss, err := replicaSetsOf(ctx, c, d)
		if err != nil {
			t.Fatal(err)
		}
		if len(rss) != 2 || *rss["1"].Spec.Replicas != 0 || *rss["2"].Spec.Replicas != 5 || rss["2"].Spec.Template.Spec.Containers[0].Image != "registry.k8s.io/pause:3.9" {
			t.Fatalf("replica sets after set image: %v", rss)
		}
		pods, err := activePods(ctx, c, ns, "app=web")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods {
			if p.Spec.Containers[0].Image != "registry.k8s.io/pause:3.9" {
				t.Errorf("pod %s still runs %s", p.Name, p.Spec.Containers[0].Image)
			}
		}
	})

	t.Run("rollback by patching the template back", func(t *testing.T) {
		d, err := c.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rss, err := replicaSetsOf(ctx, c, d)
		if err != nil {
			t.Fatal(err)
		}
		// What kubectl rollout undo does: revision 1's template, without its hash label.
		template := rss["1"].Spec.Template.DeepCopy()
		delete(template.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
		patch, err := json.Marshal([]any{map[string]any{"op": "replace", "path": "/spec/template", "value": template}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.AppsV1().Deployments(ns).Patch(ctx, "web", types.JSONPatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		d = rolledOut(t, c, ns, "web")
		eventually(t, "revision 3 on the first replica set", func(ctx context.Context) (bool, error) {
			d, err := c.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			rss, err := replicaSetsOf(ctx, c, d)
			if err != nil {
				return false, err
			}
			rs := rss["3"]
			return d.Annotations["deployment.kubernetes.io/revision"] == "3" && len(rss) == 2 && rs != nil &&
				rs.Name == first.Name && rs.Annotations["deployment.kubernetes.io/revision-history"] == "1" &&
				*rs.Spec.Replicas == 5 && *rss["2"].Spec.Replicas == 0, nil
		})
	})
}

func testDeploymentPaused(t *testing.T, c kubernetes.Interface) {
	ctx := context.Background()
	ns := "workload-paused"
	newNamespace(t, c, ns)
	fakeKubelet(t, c, ns)
	if _, err := c.AppsV1().Deployments(ns).Create(ctx, newDeployment("web", 2, "registry.k8s.io/pause:3.10"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	d := rolledOut(t, c, ns, "web")
	if _, err := c.AppsV1().Deployments(ns).Patch(ctx, "web", types.MergePatchType, []byte(`{"spec":{"paused":true}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	setImage(t, c, ns, "web", "registry.k8s.io/pause:3.9")
	scaleDeployment(t, c, ns, "web", 4)
	eventually(t, "paused deployment scaled, not rolled out", func(ctx context.Context) (bool, error) {
		d, err := c.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		progressing := deploymentCondition(d, appsv1.DeploymentProgressing)
		return d.Status.ObservedGeneration == d.Generation && d.Status.Replicas == 4 && d.Status.AvailableReplicas == 4 &&
			d.Status.UpdatedReplicas == 0 && progressing != nil && progressing.Reason == "DeploymentPaused" &&
			progressing.Status == corev1.ConditionUnknown, nil
	})
	rss, err := replicaSetsOf(ctx, c, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(rss) != 1 {
		t.Errorf("a paused deployment created a replica set: %v", rss)
	}
	if _, err := c.AppsV1().Deployments(ns).Patch(ctx, "web", types.MergePatchType, []byte(`{"spec":{"paused":false}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	d = rolledOut(t, c, ns, "web")
	if d.Annotations["deployment.kubernetes.io/revision"] != "2" || d.Status.UpdatedReplicas != 4 {
		t.Errorf("after resume: revision %q, updated %d", d.Annotations["deployment.kubernetes.io/revision"], d.Status.UpdatedReplicas)
	}
}

func testDeploymentRecreate(t *testing.T, c kubernetes.Interface) {
	ctx := context.Background()
	ns := "workload-recreate"
	newNamespace(t, c, ns)
	fakeKubelet(t, c, ns)

	// Record, from a watch, whether pods of two templates ever ran side by side.
	var mu sync.Mutex
	alive := map[string]string{} // pod name -> pod-template-hash
	overlap := ""
	factory := informers.NewSharedInformerFactoryWithOptions(c, 0, informers.WithNamespace(ns))
	track := func(obj any) {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if pod.DeletionTimestamp != nil {
			delete(alive, pod.Name)
			return
		}
		alive[pod.Name] = pod.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		for _, h := range alive {
			if h != alive[pod.Name] {
				overlap = fmt.Sprintf("%v", alive)
			}
		}
	}
	_, _ = factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    track,
		UpdateFunc: func(_, obj any) { track(obj) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if pod, ok := obj.(*corev1.Pod); ok {
				mu.Lock()
				delete(alive, pod.Name)
				mu.Unlock()
			}
		},
	})
	stop := make(chan struct{})
	factory.Start(stop)
	defer func() {
		close(stop)
		factory.Shutdown()
	}()

	d := newDeployment("web", 3, "registry.k8s.io/pause:3.10")
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	if _, err := c.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rolledOut(t, c, ns, "web")
	setImage(t, c, ns, "web", "registry.k8s.io/pause:3.9")
	d = rolledOut(t, c, ns, "web")
	rss, err := replicaSetsOf(ctx, c, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(rss) != 2 || *rss["1"].Spec.Replicas != 0 || *rss["2"].Spec.Replicas != 3 {
		t.Errorf("replica sets after recreate: %v", rss)
	}
	mu.Lock()
	defer mu.Unlock()
	if overlap != "" {
		t.Errorf("old and new pods ran together: %s", overlap)
	}
}

func testDeploymentHistoryLimit(t *testing.T, c kubernetes.Interface) {
	ctx := context.Background()
	ns := "workload-history"
	newNamespace(t, c, ns)
	fakeKubelet(t, c, ns)
	d := newDeployment("web", 1, "registry.k8s.io/pause:3.10")
	d.Spec.RevisionHistoryLimit = ptr.To[int32](1)
	if _, err := c.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rolledOut(t, c, ns, "web")
	for _, image := range []string{"registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.8", "registry.k8s.io/pause:3.7"} {
		setImage(t, c, ns, "web", image)
		rolledOut(t, c, ns, "web")
	}
	eventually(t, "only the new and one old replica set left", func(ctx context.Context) (bool, error) {
		d, err := c.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		rss, err := replicaSetsOf(ctx, c, d)
		if err != nil {
			return false, err
		}
		return len(rss) == 2 && rss["4"] != nil && rss["3"] != nil, nil
	})
}

func testDeploymentProgressDeadline(t *testing.T, c kubernetes.Interface) {
	ctx := context.Background()
	ns := "workload-deadline"
	newNamespace(t, c, ns)
	fakeKubelet(t, c, ns)
	d := newDeployment("web", 2, "registry.k8s.io/pause:3.10")
	d.Spec.ProgressDeadlineSeconds = ptr.To[int32](3)
	if _, err := c.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rolledOut(t, c, ns, "web")
	setImage(t, c, ns, "web", unreadyImage)
	eventually(t, "ProgressDeadlineExceeded", func(ctx context.Context) (bool, error) {
		d, err := c.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		p := deploymentCondition(d, appsv1.DeploymentProgressing)
		return p != nil && p.Status == corev1.ConditionFalse && p.Reason == "ProgressDeadlineExceeded" &&
			strings.HasSuffix(p.Message, "has timed out progressing."), nil
	})
	// Old pods stay up: 25% of 2 rounds down to 0 unavailable.
	d, err := c.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status.AvailableReplicas != 2 || d.Status.UpdatedReplicas != 1 || d.Status.UnavailableReplicas != 1 {
		t.Errorf("stalled rollout status = %+v", d.Status)
	}
	setImage(t, c, ns, "web", "registry.k8s.io/pause:3.9")
	rolledOut(t, c, ns, "web")
}

func testDeploymentProportionalScaling(t *testing.T, c kubernetes.Interface) {
	ctx := context.Background()
	ns := "workload-proportional"
	newNamespace(t, c, ns)
	fakeKubelet(t, c, ns)
	d := newDeployment("web", 10, "registry.k8s.io/pause:3.10")
	d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{
		MaxSurge: ptr.To(intstr.FromInt32(3)), MaxUnavailable: ptr.To(intstr.FromInt32(2)),
	}
	if _, err := c.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	d = rolledOut(t, c, ns, "web")
	// A stuck rollout: the new pods never become ready, so it stops at
	// 8 old (10 - maxUnavailable) and 5 new (13 - 8) pods.
	setImage(t, c, ns, "web", unreadyImage)
	sizes := func(want map[string]int32) func(ctx context.Context) (bool, error) {
		return func(ctx context.Context) (bool, error) {
			rss, err := replicaSetsOf(ctx, c, d)
			if err != nil || len(rss) != len(want) {
				return false, err
			}
			for rev, n := range want {
				if rss[rev] == nil || *rss[rev].Spec.Replicas != n || rss[rev].Status.Replicas != n {
					return false, nil
				}
			}
			return true, nil
		}
	}
	eventually(t, "rollout stuck at 8 old and 5 new", sizes(map[string]int32{"1": 8, "2": 5}))
	// 20 replicas allow 23 pods: the 10 more are shared 8:5 (8*23/13 = 14, 5*23/13 = 9).
	scaleDeployment(t, c, ns, "web", 20)
	eventually(t, "scaled proportionally to 14 old and 9 new", sizes(map[string]int32{"1": 14, "2": 9}))
}

// testDeploymentKubectl checks that stock kubectl sees rollouts as on a stock cluster.
func testDeploymentKubectl(t *testing.T, c kubernetes.Interface, kubeconfig string) {
	ctx := context.Background()
	ns := "workload-kubectl"
	newNamespace(t, c, ns)
	fakeKubelet(t, c, ns)
	kubectl := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "kubectl", append([]string{"-n", ns}, args...)...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("no kubectl on PATH")
	}
	if _, err := c.AppsV1().Deployments(ns).Create(ctx, newDeployment("web", 2, "registry.k8s.io/pause:3.10"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if out := kubectl("rollout", "status", "deployment/web", "--timeout=60s"); !strings.Contains(out, `deployment "web" successfully rolled out`) {
		t.Errorf("rollout status:\n%s", out)
	}
	kubectl("set", "image", "deployment/web", "app=registry.k8s.io/pause:3.9")
	if out := kubectl("rollout", "status", "deployment/web", "--timeout=60s"); !strings.Contains(out, `deployment "web" successfully rolled out`) {
		t.Errorf("rollout status after set image:\n%s", out)
	}
	out := kubectl("rollout", "history", "deployment/web")
	if !strings.Contains(out, "REVISION") || !hasLineStarting(out, "1 ") || !hasLineStarting(out, "2 ") {
		t.Errorf("rollout history:\n%s", out)
	}
	if out := kubectl("rollout", "history", "deployment/web", "--revision=1"); !strings.Contains(out, "registry.k8s.io/pause:3.10") {
		t.Errorf("rollout history --revision=1:\n%s", out)
	}
	if out := kubectl("rollout", "undo", "deployment/web"); !strings.Contains(out, "rolled back") {
		t.Errorf("rollout undo:\n%s", out)
	}
	if out := kubectl("rollout", "status", "deployment/web", "--timeout=60s"); !strings.Contains(out, `deployment "web" successfully rolled out`) {
		t.Errorf("rollout status after undo:\n%s", out)
	}
	d, err := c.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "registry.k8s.io/pause:3.10" || d.Annotations["deployment.kubernetes.io/revision"] != "3" {
		t.Errorf("after undo: image %s, revision %q", img, d.Annotations["deployment.kubernetes.io/revision"])
	}
	out = kubectl("rollout", "history", "deployment/web")
	if hasLineStarting(out, "1 ") || !hasLineStarting(out, "2 ") || !hasLineStarting(out, "3 ") {
		t.Errorf("rollout history after undo (revision 1 became 3):\n%s", out)
	}
	// Every pod now runs the old image again.
	eventually(t, "pods back on the first image", func(ctx context.Context) (bool, error) {
		pods, err := activePods(ctx, c, ns, labels.Set{"app": "web"}.String())
		if err != nil || len(pods) != 2 {
			return false, err
		}
		for _, p := range pods {
			if p.Spec.Containers[0].Image != "registry.k8s.io/pause:3.10" {
				return false, nil
			}
		}
		return true, nil
	})
}

func hasLineStarting(out, prefix string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}
