package integration

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/capstan-dev/capstan/apiserver/pki"
	"github.com/capstan-dev/capstan/test/integration/framework"
)

// fakeAgent stands in for a node agent's HTTPS server, with a serving
// certificate from the cluster CA; it records what the apiserver asked.
func fakeAgent(t *testing.T, dataDir string) (*httptest.Server, chan string) {
	t.Helper()
	layout := pki.Layout{Dir: dataDir}
	ca, err := pki.LoadOrCreateCA(layout.CA(), "unused")
	if err != nil {
		t.Fatal(err)
	}
	files := pki.Files{Cert: filepath.Join(t.TempDir(), "agent.crt"), Key: filepath.Join(t.TempDir(), "agent.key")}
	if err := ca.EnsureLeaf(files, pki.Leaf{CommonName: "node-1", Server: true, IPs: []net.IP{net.ParseIP("127.0.0.1")}}); err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	requests := make(chan string, 10)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client := ""
		if len(r.TLS.PeerCertificates) > 0 {
			client = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		requests <- r.URL.RequestURI() + " by " + client
		fmt.Fprintf(w, "hello from %s\n", r.URL.Path)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, requests
}

// TestNodeConnections sends pods/log, nodes/proxy and pods/proxy through the
// apiserver to a node agent stand-in and checks what reaches it, and how.
func TestNodeConnections(t *testing.T) {
	s := framework.Start(t)
	c := s.Client(t)
	ctx := context.Background()
	agent, requests := fakeAgent(t, s.DataDir)
	_, portStr, _ := net.SplitHostPort(agent.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)

	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}
	node, err := c.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
	node.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(port)
	if _, err := c.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	newNamespace(t, c, "conn")
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "app", Image: "img"}}}}
	if _, err := c.CoreV1().Pods("conn").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("pods/log", func(t *testing.T) {
		tail := int64(5)
		out, err := c.CoreV1().Pods("conn").GetLogs("p", &corev1.PodLogOptions{TailLines: &tail, Timestamps: true}).Stream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(out)
		out.Close()
		if string(body) != "hello from /containerLogs/conn/p/app\n" {
			t.Errorf("log body %q", body)
		}
		got := <-requests
		if got != "/containerLogs/conn/p/app?tailLines=5&timestamps=true by capstan-apiserver-node-client" {
			t.Errorf("agent saw %q", got)
		}
	})

	t.Run("pods/log of a missing container is 400", func(t *testing.T) {
		err := c.CoreV1().Pods("conn").GetLogs("p", &corev1.PodLogOptions{Container: "nope"}).Do(ctx).Error()
		if err == nil || !isStatus(err, 400) {
			t.Errorf("err = %v, want 400", err)
		}
	})

	t.Run("nodes/proxy", func(t *testing.T) {
		body, err := c.CoreV1().RESTClient().Get().Resource("nodes").Name("node-1").SubResource("proxy").Suffix("healthz").DoRaw(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(body) != "hello from /healthz\n" {
			t.Errorf("proxy body %q", body)
		}
		if got := <-requests; got != "/healthz by capstan-apiserver-node-client" {
			t.Errorf("agent saw %q", got)
		}
	})

	t.Run("exec without a command is 400", func(t *testing.T) {
		err := c.CoreV1().RESTClient().Post().Namespace("conn").Resource("pods").Name("p").SubResource("exec").Param("stdout", "true").Do(ctx).Error()
		if !isStatus(err, 400) {
			t.Errorf("err = %v, want 400", err)
		}
	})
}

func isStatus(err error, code int32) bool {
	type apiStatus interface{ Status() metav1.Status }
	s, ok := err.(apiStatus)
	return ok && s.Status().Code == code
}
