package integration

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/capstan-dev/capstan/apiserver"
	"github.com/capstan-dev/capstan/apiserver/etcd"
	"github.com/capstan-dev/capstan/test/integration/framework"
)

// TestExternalEtcd runs the server on an etcd it did not start
// (--etcd-servers) and checks objects land under upstream's key layout.
func TestExternalEtcd(t *testing.T) {
	ctx := context.Background()
	member, err := etcd.Start(ctx, etcd.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer member.Stop()
	s := framework.StartWith(t, t.TempDir(), func(o *apiserver.Options) {
		o.EtcdServers = []string{member.Endpoint}
	})
	c := s.Client(t)
	if _, err := c.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "outside"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{member.Endpoint}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	for _, key := range []string{
		"/registry/configmaps/default/outside",
		"/registry/services/specs/default/kubernetes",
		"/registry/namespaces/kube-system",
	} {
		resp, err := cli.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Kvs) != 1 {
			t.Errorf("key %s not in the external etcd", key)
			continue
		}
		// Stored as protobuf with the Kubernetes envelope, as kube-apiserver stores it.
		if v := resp.Kvs[0].Value; len(v) < 4 || string(v[:4]) != "k8s\x00" {
			t.Errorf("key %s not protobuf-encoded: %q", key, v[:min(len(v), 16)])
		}
	}
	s.Stop()
}
