package integration

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/capstan-dev/capstan/test/integration/framework"
)

// TestNamespaceDeletionPhases follows a namespace through upstream's
// two-phase deletion: Terminating while spec.finalizers remain, refusing new
// objects, the namespace controller removing its kubernetes finalizer, and
// gone once /finalize empties the rest. A second finalizer keeps the
// namespace Terminating for as long as the test needs.
func TestNamespaceDeletionPhases(t *testing.T) {
	const hold = corev1.FinalizerName("example.com/hold")
	s := framework.Start(t)
	c := s.Client(t)
	ctx := context.Background()
	ns, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "doomed"},
		Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{hold}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ns.Spec.Finalizers, []corev1.FinalizerName{hold, corev1.FinalizerKubernetes}) || ns.Labels[corev1.LabelMetadataName] != "doomed" || ns.Status.Phase != corev1.NamespaceActive {
		t.Errorf("new namespace: finalizers %v labels %v phase %q", ns.Spec.Finalizers, ns.Labels, ns.Status.Phase)
	}
	if err := c.CoreV1().Namespaces().Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	ns, err = c.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{})
	if err != nil || ns.DeletionTimestamp == nil || ns.Status.Phase != corev1.NamespaceTerminating {
		t.Fatalf("after delete: %v, phase %q", err, ns.Status.Phase)
	}
	_, err = c.CoreV1().ConfigMaps("doomed").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "late"}}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("create in a terminating namespace: err = %v, want 403", err)
	}
	if err := c.CoreV1().Namespaces().Delete(ctx, "doomed", metav1.DeleteOptions{}); !apierrors.IsConflict(err) {
		t.Errorf("second delete while finalizers remain: err = %v, want 409", err)
	}
	awaitCondition(t, "namespace controller to remove the kubernetes finalizer", lifecycleTimeout, func(ctx context.Context) (bool, error) {
		ns, err = c.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{})
		return err == nil && slices.Equal(ns.Spec.Finalizers, []corev1.FinalizerName{hold}), err
	})
	ns.Spec.Finalizers = nil
	if _, err := c.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace still there after finalize: %v", err)
	}
}
