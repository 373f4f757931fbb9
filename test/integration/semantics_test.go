package integration

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/capstan-dev/capstan/test/integration/framework"
)

// warningRecorder collects the Warning headers the server sends.
type warningRecorder struct{ warnings []string }

func (w *warningRecorder) HandleWarningHeader(_ int, _ string, text string) {
	w.warnings = append(w.warnings, text)
}

func TestRequestSemantics(t *testing.T) {
	s := framework.Start(t)
	c := s.Client(t)
	ctx := context.Background()
	newNamespace(t, c, "sem")
	cms := c.CoreV1().ConfigMaps("sem")

	t.Run("dryRun persists nothing", func(t *testing.T) {
		out, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "dry"}}, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil || out.Name != "dry" {
			t.Fatalf("dry-run create: %v %v", out, err)
		}
		if _, err := cms.Get(ctx, "dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("dry-run create was stored: %v", err)
		}
	})

	t.Run("fieldValidation Warn and Ignore", func(t *testing.T) {
		body := []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"NAME"},"unknownField":1}`)
		for _, mode := range []string{"Warn", "Ignore"} {
			rec := &warningRecorder{}
			cfg := rest.CopyConfig(s.Config)
			cfg.WarningHandler = rec
			cl, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			name := strings.ToLower(mode)
			err = cl.CoreV1().RESTClient().Post().Namespace("sem").Resource("configmaps").
				Param("fieldValidation", mode).SetHeader("Content-Type", "application/json").
				Body([]byte(strings.Replace(string(body), "NAME", name, 1))).Do(ctx).Error()
			if err != nil {
				t.Fatalf("%s: %v", mode, err)
			}
			warned := false
			for _, w := range rec.warnings {
				warned = warned || strings.Contains(w, `unknown field "unknownField"`)
			}
			if (mode == "Warn") != warned {
				t.Errorf("fieldValidation=%s: warnings %q", mode, rec.warnings)
			}
		}
	})

	t.Run("delete preconditions", func(t *testing.T) {
		cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "pre"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wrong := types.UID("00000000-0000-0000-0000-000000000000")
		if err := cms.Delete(ctx, "pre", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &wrong}}); !apierrors.IsConflict(err) {
			t.Errorf("wrong UID precondition: err = %v, want 409", err)
		}
		stale := "1"
		if err := cms.Delete(ctx, "pre", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &stale}}); !apierrors.IsConflict(err) {
			t.Errorf("stale resourceVersion precondition: err = %v, want 409", err)
		}
		if err := cms.Delete(ctx, "pre", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &cm.UID, ResourceVersion: &cm.ResourceVersion}}); err != nil {
			t.Errorf("matching preconditions: %v", err)
		}
	})

	t.Run("finalizers hold an object until removed", func(t *testing.T) {
		cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "fin", Finalizers: []string{"example.com/hold"}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := cms.Delete(ctx, "fin", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		cm, err = cms.Get(ctx, "fin", metav1.GetOptions{})
		if err != nil || cm.DeletionTimestamp == nil {
			t.Fatalf("object with a finalizer: %v, deletionTimestamp %v", err, cm.DeletionTimestamp)
		}
		cm.Finalizers = nil
		if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cms.Get(ctx, "fin", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("object still there after its last finalizer went: %v", err)
		}
	})

	t.Run("propagationPolicy Orphan and Foreground add their finalizers", func(t *testing.T) {
		for policy, finalizer := range map[metav1.DeletionPropagation]string{
			metav1.DeletePropagationOrphan:     metav1.FinalizerOrphanDependents,
			metav1.DeletePropagationForeground: metav1.FinalizerDeleteDependents,
		} {
			name := strings.ToLower(string(policy))
			if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			// The garbage collector removes the finalizer as soon as it sees
			// it, so look at the object the DELETE returns.
			var cm corev1.ConfigMap
			err := c.CoreV1().RESTClient().Delete().Namespace("sem").Resource("configmaps").Name(name).
				Body(&metav1.DeleteOptions{PropagationPolicy: &policy}).Do(ctx).Into(&cm)
			if err != nil || cm.DeletionTimestamp == nil || len(cm.Finalizers) != 1 || cm.Finalizers[0] != finalizer {
				t.Errorf("%s: %v finalizers %v", policy, err, cm.Finalizers)
			}
		}
	})

	t.Run("deletecollection with a label selector", func(t *testing.T) {
		for _, n := range []string{"dc1", "dc2", "keep"} {
			labels := map[string]string{"batch": "x"}
			if n == "keep" {
				labels = nil
			}
			if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: n, Labels: labels}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := cms.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "batch=x"}); err != nil {
			t.Fatal(err)
		}
		list, err := cms.List(ctx, metav1.ListOptions{LabelSelector: "batch=x"})
		if err != nil || len(list.Items) != 0 {
			t.Errorf("after deletecollection: %d left, %v", len(list.Items), err)
		}
		if _, err := cms.Get(ctx, "keep", metav1.GetOptions{}); err != nil {
			t.Errorf("deletecollection removed an unselected object: %v", err)
		}
	})

	t.Run("bound pods are deleted gracefully", func(t *testing.T) {
		pods := c.CoreV1().Pods("sem")
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "bound"},
			Spec:       corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "c", Image: "img"}}},
		}
		if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := pods.Delete(ctx, "bound", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := pods.Get(ctx, "bound", metav1.GetOptions{})
		if err != nil || got.DeletionTimestamp == nil || got.DeletionGracePeriodSeconds == nil || *got.DeletionGracePeriodSeconds != 30 {
			t.Fatalf("bound pod after delete: %v, grace %v", err, got.DeletionGracePeriodSeconds)
		}
		// The node agent confirms with a zero-grace delete.
		if err := pods.Delete(ctx, "bound", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
			t.Fatal(err)
		}
		if _, err := pods.Get(ctx, "bound", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("pod still there after a zero-grace delete: %v", err)
		}
	})

	t.Run("binding", func(t *testing.T) {
		pods := c.CoreV1().Pods("sem")
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "tobind"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img"}}}}
		if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		b := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "tobind"}, Target: corev1.ObjectReference{Kind: "Node", Name: "node-1"}}
		if err := pods.Bind(ctx, b, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := pods.Get(ctx, "tobind", metav1.GetOptions{})
		if err != nil || got.Spec.NodeName != "node-1" {
			t.Fatalf("after binding: %v nodeName %q", err, got.Spec.NodeName)
		}
		if err := pods.Bind(ctx, b, metav1.CreateOptions{}); !apierrors.IsConflict(err) {
			t.Errorf("second binding: err = %v, want 409", err)
		}
	})
}
