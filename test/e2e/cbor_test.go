package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer/cbor"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/capstan-dev/capstan/registry/scheme"
)

// TestCBOR creates and reads objects in CBOR, which kube-apiserver 1.37
// serves when its CBORServingAndStorage gate (alpha, off by default) is on.
func TestCBOR(t *testing.T) {
	s := startServer(t, t.TempDir(), freePort(t), "--feature-gates=CBORServingAndStorage=true")
	cfg, err := clientcmd.BuildConfigFromFlags("", s.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	codec := cbor.NewSerializer(scheme.Scheme, scheme.Scheme)
	var body bytes.Buffer
	cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: metav1.ObjectMeta{Name: "cbor"}, Data: map[string]string{"k": "v"}}
	if err := codec.Encode(cm, &body); err != nil {
		t.Fatal(err)
	}
	do := func(method, url string, body io.Reader) []byte {
		t.Helper()
		req, _ := http.NewRequestWithContext(context.Background(), method, cfg.Host+url, body)
		req.Header.Set("Content-Type", "application/cbor")
		req.Header.Set("Accept", "application/cbor")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %q", method, url, resp.StatusCode, out)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/cbor" {
			t.Errorf("%s %s answered %q, want application/cbor", method, url, ct)
		}
		return out
	}
	do(http.MethodPost, "/api/v1/namespaces/default/configmaps", &body)
	out := do(http.MethodGet, "/api/v1/namespaces/default/configmaps/cbor", nil)
	obj, _, err := codec.Decode(out, nil, &corev1.ConfigMap{})
	if err != nil {
		t.Fatal(err)
	}
	got := obj.(*corev1.ConfigMap)
	if got.Data["k"] != "v" || got.UID == "" {
		t.Errorf("read back %+v", got)
	}
	s.stop(t)
}
