package integration

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/capstan-dev/capstan/test/integration/framework"
)

// TestProtobufClient drives the API the way e2e.test's clients do: protobuf
// bodies for create, get, list and watch.
func TestProtobufClient(t *testing.T) {
	s := framework.Start(t)
	cfg := rest.CopyConfig(s.Config)
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	newNamespace(t, c, "proto")
	w, err := c.CoreV1().Pods("proto").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{"a": "b"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}},
	}
	created, err := c.CoreV1().Pods("proto").Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if created.Spec.RestartPolicy != corev1.RestartPolicyAlways || created.Status.Phase != corev1.PodPending || created.Status.QOSClass != corev1.PodQOSBestEffort {
		t.Errorf("created pod not defaulted: restartPolicy %q phase %q qos %q", created.Spec.RestartPolicy, created.Status.Phase, created.Status.QOSClass)
	}
	got, err := c.CoreV1().Pods("proto").Get(ctx, "p", metav1.GetOptions{})
	if err != nil || got.UID != created.UID {
		t.Fatalf("get over protobuf: %v, %v", got, err)
	}
	list, err := c.CoreV1().Pods("proto").List(ctx, metav1.ListOptions{LabelSelector: "a=b"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list over protobuf: %d items, %v", len(list.Items), err)
	}
	select {
	case e := <-w.ResultChan():
		if p, ok := e.Object.(*corev1.Pod); !ok || p.Name != "p" {
			t.Errorf("watch event over protobuf: %v %T", e.Type, e.Object)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no watch event over protobuf")
	}
}

// TestYAMLBodies creates from YAML and reads YAML back.
func TestYAMLBodies(t *testing.T) {
	s := framework.Start(t)
	client, err := rest.HTTPClientFor(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	body := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: v\n"
	req, _ := http.NewRequest(http.MethodPost, s.Config.Host+"/api/v1/namespaces/default/configmaps", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/yaml")
	req.Header.Set("Accept", "application/yaml")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d: %s", resp.StatusCode, out)
	}
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal(out, &cm); err != nil {
		t.Fatalf("answer is not YAML: %v\n%s", err, out)
	}
	if cm.Name != "from-yaml" || cm.Data["k"] != "v" || cm.UID == "" {
		t.Errorf("created object = %+v", cm)
	}
}
