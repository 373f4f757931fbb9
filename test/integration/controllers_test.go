package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/capstan-dev/capstan/test/integration/framework"
)

// TestNamespaceBootstrapControllers checks what every new namespace must
// get (e2e.test waits for both): the default ServiceAccount and the
// kube-root-ca.crt ConfigMap holding the cluster CA; both come back when deleted.
func TestNamespaceBootstrapControllers(t *testing.T) {
	s := framework.Start(t)
	c := s.Client(t)
	ctx := context.Background()
	ca, err := os.ReadFile(filepath.Join(s.DataDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	newNamespace(t, c, "fresh")
	ensure := func(what string, check func(context.Context) (bool, error)) {
		t.Helper()
		if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 60*time.Second, true, check); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	saPresent := func(ctx context.Context) (bool, error) {
		_, err := c.CoreV1().ServiceAccounts("fresh").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	}
	caPresent := func(ctx context.Context) (bool, error) {
		cm, err := c.CoreV1().ConfigMaps("fresh").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		return err == nil && cm.Data["ca.crt"] == string(ca), nil
	}
	ensure("default ServiceAccount", saPresent)
	ensure("kube-root-ca.crt", caPresent)

	if err := c.CoreV1().ServiceAccounts("fresh").Delete(ctx, "default", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.CoreV1().ConfigMaps("fresh").Delete(ctx, "kube-root-ca.crt", metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	ensure("default ServiceAccount recreated", saPresent)
	ensure("kube-root-ca.crt recreated", caPresent)

	cm, err := c.CoreV1().ConfigMaps("fresh").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["ca.crt"] = "tampered"
	if _, err := c.CoreV1().ConfigMaps("fresh").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ensure("kube-root-ca.crt restored", caPresent)
}
