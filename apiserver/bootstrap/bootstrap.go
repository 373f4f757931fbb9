// Package bootstrap creates the objects every cluster starts with, as
// upstream's kube-apiserver does: the system namespaces, the kubernetes
// Service with its endpoints, the default ServiceCIDR and the system
// PriorityClasses. It runs as a post-start hook and keeps them present.
package bootstrap

import (
	"context"
	"fmt"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// Config is what the bootstrap objects are derived from.
type Config struct {
	ServiceCIDRs     []*net.IPNet
	AdvertiseAddress net.IP
	SecurePort       int
}

// SystemNamespaces are created on start and recreated when deleted.
var SystemNamespaces = []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease}

// Run creates every bootstrap object, retrying until it succeeds or ctx ends.
func Run(ctx context.Context, cfg *rest.Config, c Config) error {
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "capstan-bootstrap"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	logger := klog.FromContext(ctx)
	var last error
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		if last = ensure(ctx, client, c); last != nil {
			logger.V(2).Info("Bootstrap objects not ready yet", "err", last)
			return false, nil
		}
		return true, nil
	})
	if err != nil && ctx.Err() != nil {
		// Shutting down before bootstrap finished is not a failure of the hook.
		return nil
	}
	if err != nil {
		return fmt.Errorf("bootstrap objects: %w (last error: %v)", err, last)
	}
	return nil
}

func ensure(ctx context.Context, client kubernetes.Interface, c Config) error {
	for _, ns := range SystemNamespaces {
		if err := create(ctx, client.CoreV1().Namespaces().Create, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return fmt.Errorf("namespace %s: %w", ns, err)
		}
	}
	for _, pc := range priorityClasses() {
		if err := create(ctx, client.SchedulingV1().PriorityClasses().Create, pc); err != nil {
			return fmt.Errorf("priorityclass %s: %w", pc.Name, err)
		}
	}
	if err := ensureServiceCIDR(ctx, client, c); err != nil {
		return err
	}
	return ensureKubernetesService(ctx, client, c)
}

// create creates obj unless an object of that name exists already.
func create[T any](ctx context.Context, fn func(context.Context, T, metav1.CreateOptions) (T, error), obj T) error {
	if _, err := fn(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

func priorityClasses() []*schedulingv1.PriorityClass {
	return []*schedulingv1.PriorityClass{
		{
			ObjectMeta:  metav1.ObjectMeta{Name: "system-node-critical"},
			Value:       2000001000,
			Description: "Used for system critical pods that must not be moved from their current node.",
		},
		{
			ObjectMeta:  metav1.ObjectMeta{Name: "system-cluster-critical"},
			Value:       2000000000,
			Description: "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
		},
	}
}

// DefaultServiceCIDRName is the ServiceCIDR created from --service-cluster-ip-range.
const DefaultServiceCIDRName = "kubernetes"

func ensureServiceCIDR(ctx context.Context, client kubernetes.Interface, c Config) error {
	var cidrs []string
	for _, n := range c.ServiceCIDRs {
		cidrs = append(cidrs, n.String())
	}
	sc := &networkingv1.ServiceCIDR{
		ObjectMeta: metav1.ObjectMeta{Name: DefaultServiceCIDRName},
		Spec:       networkingv1.ServiceCIDRSpec{CIDRs: cidrs},
	}
	if err := create(ctx, client.NetworkingV1().ServiceCIDRs().Create, sc); err != nil {
		return fmt.Errorf("servicecidr: %w", err)
	}
	cur, err := client.NetworkingV1().ServiceCIDRs().Get(ctx, DefaultServiceCIDRName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	for _, cond := range cur.Status.Conditions {
		if cond.Type == networkingv1.ServiceCIDRConditionReady && cond.Status == metav1.ConditionTrue {
			return nil
		}
	}
	cur = cur.DeepCopy()
	cur.Status.Conditions = []metav1.Condition{{
		Type: networkingv1.ServiceCIDRConditionReady, Status: metav1.ConditionTrue,
		Reason: "", Message: "Kubernetes default Service CIDR is ready", LastTransitionTime: metav1.Now(),
	}}
	_, err = client.NetworkingV1().ServiceCIDRs().UpdateStatus(ctx, cur, metav1.UpdateOptions{})
	return err
}

// ensureKubernetesService keeps default/kubernetes and its endpoints pointing at this server.
func ensureKubernetesService(ctx context.Context, client kubernetes.Interface, c Config) error {
	port := int32(c.SecurePort)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: corev1.ServiceSpec{
			Type:            corev1.ServiceTypeClusterIP,
			SessionAffinity: corev1.ServiceAffinityNone,
			Ports: []corev1.ServicePort{{Name: "https", Protocol: corev1.ProtocolTCP, Port: 443,
				TargetPort: intstr.FromInt32(port)}},
			ClusterIP: firstIP(c.ServiceCIDRs[0]).String(),
		},
	}
	// Get first: a create of an existing service would fail on its ClusterIP
	// (already allocated) before it could report AlreadyExists.
	if _, err := client.CoreV1().Services(metav1.NamespaceDefault).Get(ctx, svc.Name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		if err := create(ctx, client.CoreV1().Services(metav1.NamespaceDefault).Create, svc); err != nil {
			return fmt.Errorf("service kubernetes: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("service kubernetes: %w", err)
	}
	ep := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{discoveryv1.LabelSkipMirror: "true"}},
		Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: c.AdvertiseAddress.String()}},
			Ports:     []corev1.EndpointPort{{Name: "https", Port: port, Protocol: corev1.ProtocolTCP}},
		}},
	}
	if err := upsert(ctx, client.CoreV1().Endpoints(metav1.NamespaceDefault), ep); err != nil {
		return fmt.Errorf("endpoints kubernetes: %w", err)
	}
	family := discoveryv1.AddressTypeIPv4
	if c.AdvertiseAddress.To4() == nil {
		family = discoveryv1.AddressTypeIPv6
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes", discoveryv1.LabelManagedBy: "kube-apiserver"}},
		AddressType: family,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{c.AdvertiseAddress.String()},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To(port), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	if err := upsertSlice(ctx, client, slice); err != nil {
		return fmt.Errorf("endpointslice kubernetes: %w", err)
	}
	return nil
}

type endpointsClient interface {
	Get(context.Context, string, metav1.GetOptions) (*corev1.Endpoints, error)
	Create(context.Context, *corev1.Endpoints, metav1.CreateOptions) (*corev1.Endpoints, error)
	Update(context.Context, *corev1.Endpoints, metav1.UpdateOptions) (*corev1.Endpoints, error)
}

func upsert(ctx context.Context, c endpointsClient, want *corev1.Endpoints) error {
	cur, err := c.Get(ctx, want.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = c.Create(ctx, want, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	cur = cur.DeepCopy()
	cur.Subsets = want.Subsets
	cur.Labels = want.Labels
	_, err = c.Update(ctx, cur, metav1.UpdateOptions{})
	return err
}

func upsertSlice(ctx context.Context, client kubernetes.Interface, want *discoveryv1.EndpointSlice) error {
	c := client.DiscoveryV1().EndpointSlices(want.Namespace)
	cur, err := c.Get(ctx, want.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = c.Create(ctx, want, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	cur = cur.DeepCopy()
	cur.Endpoints, cur.Ports, cur.AddressType, cur.Labels = want.Endpoints, want.Ports, want.AddressType, want.Labels
	_, err = c.Update(ctx, cur, metav1.UpdateOptions{})
	return err
}

// firstIP is the first usable address of a CIDR, the kubernetes Service's ClusterIP.
func firstIP(n *net.IPNet) net.IP {
	ip := make(net.IP, len(n.IP))
	copy(ip, n.IP)
	for i := len(ip) - 1; i >= 0; i-- {
		ip[i]++
		if ip[i] != 0 {
			break
		}
	}
	return ip
}

// FirstIP is exported for the serving certificate's SANs.
func FirstIP(n *net.IPNet) net.IP { return firstIP(n) }
