package integration

import (
	"context"
	"net"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/capstan-dev/capstan/test/integration/framework"
)

func svc(name string, typ corev1.ServiceType, nodePort int32) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{
			Type:     typ,
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080), NodePort: nodePort}},
		},
	}
}

func TestServiceAllocation(t *testing.T) {
	s := framework.Start(t)
	c := s.Client(t)
	ctx := context.Background()
	newNamespace(t, c, "svc")
	services := c.CoreV1().Services("svc")
	_, serviceCIDR, _ := net.ParseCIDR("10.96.0.0/12")

	created, err := services.Create(ctx, svc("a", corev1.ServiceTypeNodePort, 0), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ip := net.ParseIP(created.Spec.ClusterIP)
	if ip == nil || !serviceCIDR.Contains(ip) || len(created.Spec.ClusterIPs) != 1 || created.Spec.ClusterIPs[0] != created.Spec.ClusterIP {
		t.Fatalf("clusterIP %q / %v not allocated from 10.96.0.0/12", created.Spec.ClusterIP, created.Spec.ClusterIPs)
	}
	if created.Spec.IPFamilyPolicy == nil || *created.Spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack || len(created.Spec.IPFamilies) != 1 || created.Spec.IPFamilies[0] != corev1.IPv4Protocol {
		t.Errorf("ip families: policy %v families %v", created.Spec.IPFamilyPolicy, created.Spec.IPFamilies)
	}
	np := created.Spec.Ports[0].NodePort
	if np < 30000 || np > 32767 {
		t.Errorf("nodePort %d outside 30000-32767", np)
	}
	addr, err := c.NetworkingV1().IPAddresses().Get(ctx, created.Spec.ClusterIP, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("no IPAddress for the allocated ClusterIP: %v", err)
	}
	if ref := addr.Spec.ParentRef; ref == nil || ref.Resource != "services" || ref.Namespace != "svc" || ref.Name != "a" {
		t.Errorf("IPAddress parentRef = %+v", addr.Spec.ParentRef)
	}

	// The same IP or node port again is a 422 naming the field.
	dup := svc("b", corev1.ServiceTypeNodePort, np)
	if _, err := services.Create(ctx, dup, metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
		t.Errorf("duplicate nodePort: err = %v, want 422", err)
	}
	dup = svc("b", corev1.ServiceTypeClusterIP, 0)
	dup.Spec.ClusterIP = created.Spec.ClusterIP
	if _, err := services.Create(ctx, dup, metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
		t.Errorf("duplicate clusterIP: err = %v, want 422", err)
	}
	dup.Spec.ClusterIP = "192.168.0.1"
	if _, err := services.Create(ctx, dup, metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
		t.Errorf("clusterIP outside the range: err = %v, want 422", err)
	}
	// None of the failed creates may leave an address behind.
	if _, err := c.NetworkingV1().IPAddresses().Get(ctx, "192.168.0.1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("failed create left IPAddress 192.168.0.1: %v", err)
	}

	// Headless services get no address; ExternalName ones no ClusterIP at all.
	headless := svc("headless", corev1.ServiceTypeClusterIP, 0)
	headless.Spec.ClusterIP = corev1.ClusterIPNone
	h, err := services.Create(ctx, headless, metav1.CreateOptions{})
	if err != nil || h.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("headless: %v, clusterIP %q", err, h.Spec.ClusterIP)
	}

	// An update that omits the allocated values keeps them.
	cur, err := services.Get(ctx, "a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Spec.ClusterIP, cur.Spec.ClusterIPs, cur.Spec.Ports[0].NodePort = "", nil, 0
	cur.Labels = map[string]string{"updated": "yes"}
	upd, err := services.Update(ctx, cur, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Spec.ClusterIP != created.Spec.ClusterIP || upd.Spec.Ports[0].NodePort != np {
		t.Errorf("update lost allocations: clusterIP %q nodePort %d", upd.Spec.ClusterIP, upd.Spec.Ports[0].NodePort)
	}

	// Deleting the service releases its address.
	if err := services.Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := c.NetworkingV1().IPAddresses().Get(ctx, created.Spec.ClusterIP, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Errorf("IPAddress %s not released after the service was deleted", created.Spec.ClusterIP)
	}
}
