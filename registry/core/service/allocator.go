package service

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net"
	"sync"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apiserver/pkg/registry/rest"
)

// IPAddressStore is the part of the networking.k8s.io/v1 IPAddress storage
// the ClusterIP allocator uses: an address is taken when its IPAddress exists.
type IPAddressStore interface {
	rest.Creater
	rest.GracefulDeleter
	rest.Getter
}

// ipAllocator hands out ClusterIPs from the service CIDRs by creating
// IPAddress objects, as upstream's allocator does since ServiceCIDRs went GA.
type ipAllocator struct {
	cidrs []*net.IPNet
	store IPAddressStore
}

const ipAddressManagedBy = "ipallocator.k8s.io"

func (a *ipAllocator) cidrFor(family corev1.IPFamily) *net.IPNet {
	for _, c := range a.cidrs {
		if (c.IP.To4() != nil) == (family == corev1.IPv4Protocol) {
			return c
		}
	}
	return nil
}

// allocate reserves ip (or, when empty, a free address of family) for svc.
func (a *ipAllocator) allocate(ctx context.Context, svc *corev1.Service, family corev1.IPFamily, ip string, dryRun bool) (string, error) {
	cidr := a.cidrFor(family)
	if cidr == nil {
		return "", fmt.Errorf("no service CIDR of family %s", family)
	}
	if ip != "" {
		parsed := net.ParseIP(ip)
		if !cidr.Contains(parsed) {
			return "", errInvalidIP(svc.Name, ip, fmt.Sprintf("failed to allocate IP %s: the provided IP (%s) is not in the valid range. The range of valid IPs is %s", ip, ip, cidr))
		}
		if err := a.reserve(ctx, svc, parsed.String(), dryRun); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return "", errInvalidIP(svc.Name, ip, fmt.Sprintf("failed to allocate IP %s: provided IP is already allocated", ip))
			}
			return "", err
		}
		return parsed.String(), nil
	}
	size := rangeSize(cidr)
	if size < 3 {
		return "", apierrors.NewInternalError(fmt.Errorf("service CIDR %s too small", cidr))
	}
	// Random probes first, then a scan, so that a nearly full range still succeeds.
	tries := 0
	next := func() (int64, bool) {
		tries++
		if tries <= 32 {
			return 1 + rand.Int64N(size-2), true
		}
		i := int64(tries - 32)
		return i, i < size-1
	}
	for {
		off, ok := next()
		if !ok {
			return "", apierrors.NewInternalError(fmt.Errorf("range is full"))
		}
		candidate := addOffset(cidr.IP, off)
		err := a.reserve(ctx, svc, candidate.String(), dryRun)
		if err == nil {
			return candidate.String(), nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return "", err
		}
	}
}

func (a *ipAllocator) reserve(ctx context.Context, svc *corev1.Service, ip string, dryRun bool) error {
	if dryRun {
		_, err := a.store.Get(ctx, ip, &metav1.GetOptions{})
		if err == nil {
			return apierrors.NewAlreadyExists(networkingv1.Resource("ipaddresses"), ip)
		}
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	obj := &networkingv1.IPAddress{
		ObjectMeta: metav1.ObjectMeta{Name: ip, Labels: map[string]string{
			networkingv1.LabelIPAddressFamily: string(familyOf(ip)),
			networkingv1.LabelManagedBy:       ipAddressManagedBy,
		}},
		Spec: networkingv1.IPAddressSpec{ParentRef: &networkingv1.ParentReference{
			Group: "", Resource: "services", Namespace: svc.Namespace, Name: svc.Name,
		}},
	}
	_, err := a.store.Create(ctx, obj, nil, &metav1.CreateOptions{})
	return err
}

func (a *ipAllocator) release(ctx context.Context, ips []string) {
	for _, ip := range ips {
		if net.ParseIP(ip) == nil {
			continue
		}
		// A failed release leaves a dangling IPAddress, which upstream's repair loop cleans; nothing else to do here.
		_, _, _ = a.store.Delete(ctx, ip, rest.ValidateAllObjectFunc, &metav1.DeleteOptions{})
	}
}

func familyOf(ip string) corev1.IPFamily {
	if p := net.ParseIP(ip); p != nil && p.To4() == nil {
		return corev1.IPv6Protocol
	}
	return corev1.IPv4Protocol
}

func rangeSize(n *net.IPNet) int64 {
	ones, bits := n.Mask.Size()
	if bits-ones >= 62 {
		return 1 << 62
	}
	return 1 << (bits - ones)
}

func addOffset(base net.IP, off int64) net.IP {
	b := base.To16()
	if v4 := base.To4(); v4 != nil {
		b = v4
	}
	n := new(big.Int).SetBytes(b)
	n.Add(n, big.NewInt(off))
	out := n.Bytes()
	ip := make(net.IP, len(b))
	copy(ip[len(ip)-len(out):], out)
	return ip
}

func errInvalidIP(name, ip, msg string) error {
	return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Service").GroupKind(), name, fieldErrs("spec.clusterIPs", ip, msg))
}

// portAllocator hands out node ports. It scans existing Services under a lock;
// one apiserver per cluster is what this supports until ranges live in etcd.
type portAllocator struct {
	mu       sync.Mutex
	rng      utilnet.PortRange
	services rest.Lister
}

func (p *portAllocator) used(ctx context.Context) (map[int32]bool, error) {
	obj, err := p.services.List(ctx, nil)
	if err != nil {
		return nil, err
	}
	used := map[int32]bool{}
	for _, s := range obj.(*corev1.ServiceList).Items {
		for _, port := range s.Spec.Ports {
			if port.NodePort != 0 {
				used[port.NodePort] = true
			}
		}
		if s.Spec.HealthCheckNodePort != 0 {
			used[s.Spec.HealthCheckNodePort] = true
		}
	}
	return used, nil
}

// assign fills every missing node port of svc, and checks the requested ones,
// skipping ports that old (the stored service, on update) already holds.
func (p *portAllocator) assign(ctx context.Context, svc, old *corev1.Service) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	used, err := p.used(ctx)
	if err != nil {
		return err
	}
	mine := map[int32]bool{}
	if old != nil {
		for _, port := range old.Spec.Ports {
			mine[port.NodePort] = true
		}
		mine[old.Spec.HealthCheckNodePort] = true
	}
	taken := func(n int32) bool { return used[n] && !mine[n] }
	for i := range svc.Spec.Ports {
		port := &svc.Spec.Ports[i]
		if port.NodePort != 0 {
			if !p.rng.Contains(int(port.NodePort)) {
				return errInvalidPort(svc.Name, i, port.NodePort, fmt.Sprintf("provided port is not in the valid range. The range of valid ports is %s", p.rng.String()))
			}
			if taken(port.NodePort) {
				return errInvalidPort(svc.Name, i, port.NodePort, "provided port is already allocated")
			}
			used[port.NodePort] = true
			continue
		}
		n, err := p.free(used)
		if err != nil {
			return err
		}
		port.NodePort = n
		used[n] = true
	}
	if needsHealthCheck(svc) && svc.Spec.HealthCheckNodePort == 0 {
		n, err := p.free(used)
		if err != nil {
			return err
		}
		svc.Spec.HealthCheckNodePort = n
	}
	return nil
}

func (p *portAllocator) free(used map[int32]bool) (int32, error) {
	start := p.rng.Base + rand.IntN(p.rng.Size)
	for i := 0; i < p.rng.Size; i++ {
		n := int32(p.rng.Base + (start-p.rng.Base+i)%p.rng.Size)
		if !used[n] {
			return n, nil
		}
	}
	return 0, apierrors.NewInternalError(fmt.Errorf("range is full"))
}

func errInvalidPort(name string, i int, port int32, msg string) error {
	return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Service").GroupKind(), name, fieldErrs(fmt.Sprintf("spec.ports[%d].nodePort", i), port, msg))
}

var _ runtime.Object = &corev1.Service{}
