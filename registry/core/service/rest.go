package service

import (
	"context"
	"net"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"

	utilnet "k8s.io/apimachinery/pkg/util/net"

	"github.com/capstan-dev/capstan/registry/store"
)

// Storage holds the service endpoints.
type Storage struct {
	REST   *REST
	Status *store.StatusREST
}

// NewStorage builds service storage that allocates ClusterIPs from cidrs
// (recorded as IPAddress objects in ips) and node ports from ports.
func NewStorage(opts generic.RESTOptionsGetter, cidrs []*net.IPNet, ports utilnet.PortRange, ips IPAddressStore) (*Storage, error) {
	s, err := store.New(Resource, opts)
	if err != nil {
		return nil, err
	}
	r := &REST{REST: s.REST, ips: &ipAllocator{cidrs: cidrs, store: ips}}
	r.ports = &portAllocator{rng: ports, services: s.REST.Store}
	// Addresses are released however the service goes away: DELETE,
	// deletecollection, or the last finalizer being removed.
	s.REST.Store.AfterDelete = func(obj runtime.Object, options *metav1.DeleteOptions) {
		if svc, ok := obj.(*corev1.Service); ok && !dryRun(options.DryRun) {
			r.ips.release(context.Background(), svc.Spec.ClusterIPs)
		}
	}
	return &Storage{REST: r, Status: s.Status}, nil
}

// REST allocates addresses and ports around the generic store's writes.
type REST struct {
	*store.REST
	ips   *ipAllocator
	ports *portAllocator
}

func (r *REST) families(svc *corev1.Service) []corev1.IPFamily {
	if len(svc.Spec.IPFamilies) > 0 {
		return svc.Spec.IPFamilies
	}
	var out []corev1.IPFamily
	for _, c := range r.ips.cidrs {
		if c.IP.To4() != nil {
			out = append(out, corev1.IPv4Protocol)
		} else {
			out = append(out, corev1.IPv6Protocol)
		}
	}
	policy := corev1.IPFamilyPolicySingleStack
	if svc.Spec.IPFamilyPolicy != nil {
		policy = *svc.Spec.IPFamilyPolicy
	}
	if policy == corev1.IPFamilyPolicySingleStack && len(out) > 1 {
		out = out[:1]
	}
	return out
}

// allocateIPs fills clusterIP(s), ipFamilies and ipFamilyPolicy of a new
// non-ExternalName service; it returns the addresses it reserved.
func (r *REST) allocateIPs(ctx context.Context, svc *corev1.Service, dryRun bool) ([]string, error) {
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		svc.Spec.ClusterIP, svc.Spec.ClusterIPs, svc.Spec.IPFamilies, svc.Spec.IPFamilyPolicy = "", nil, nil, nil
		return nil, nil
	}
	if svc.Spec.IPFamilyPolicy == nil {
		single := corev1.IPFamilyPolicySingleStack
		svc.Spec.IPFamilyPolicy = &single
	}
	if len(svc.Spec.ClusterIPs) == 0 && svc.Spec.ClusterIP != "" {
		svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
	}
	if len(svc.Spec.IPFamilies) == 0 && len(svc.Spec.ClusterIPs) > 0 && svc.Spec.ClusterIPs[0] != corev1.ClusterIPNone {
		svc.Spec.IPFamilies = []corev1.IPFamily{familyOf(svc.Spec.ClusterIPs[0])}
	}
	families := r.families(svc)
	svc.Spec.IPFamilies = families
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		svc.Spec.ClusterIPs = []string{corev1.ClusterIPNone}
		return nil, nil
	}
	var reserved []string
	ips := make([]string, 0, len(families))
	for i, fam := range families {
		want := ""
		if i < len(svc.Spec.ClusterIPs) {
			want = svc.Spec.ClusterIPs[i]
		}
		ip, err := r.ips.allocate(ctx, svc, fam, want, dryRun)
		if err != nil {
			if !dryRun {
				r.ips.release(ctx, reserved)
			}
			return nil, err
		}
		reserved = append(reserved, ip)
		ips = append(ips, ip)
	}
	svc.Spec.ClusterIPs = ips
	svc.Spec.ClusterIP = ips[0]
	return reserved, nil
}

func dryRun(opts []string) bool { return len(opts) > 0 }

func (r *REST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	svc := obj.(*corev1.Service)
	// Run the strategy's validation (metadata and spec) first, so that an
	// invalid service reserves nothing; the store validates again after allocation.
	if errs := r.Store.CreateStrategy.Validate(ctx, svc); len(errs) > 0 {
		return nil, invalid(svc.Name, errs)
	}
	reserved, err := r.allocateIPs(ctx, svc, dryRun(options.DryRun))
	if err != nil {
		return nil, err
	}
	if needsNodePorts(svc) || needsHealthCheck(svc) {
		if err := r.ports.assign(ctx, svc, nil); err != nil {
			r.releaseIfReal(ctx, reserved, options.DryRun)
			return nil, err
		}
	}
	out, err := r.REST.Create(ctx, svc, createValidation, options)
	if err != nil {
		r.releaseIfReal(ctx, reserved, options.DryRun)
	}
	return out, err
}

func (r *REST) releaseIfReal(ctx context.Context, ips []string, dry []string) {
	if !dryRun(dry) {
		r.ips.release(ctx, ips)
	}
}

func (r *REST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	var reserved []string
	dry := dryRun(options.DryRun)
	wrapped := rest.DefaultUpdatedObjectInfo(nil, func(ctx context.Context, newObj, oldObj runtime.Object) (runtime.Object, error) {
		obj, err := objInfo.UpdatedObject(ctx, oldObj)
		if err != nil {
			return nil, err
		}
		svc, old := obj.(*corev1.Service), oldObj.(*corev1.Service)
		Resource.PrepareForUpdate(ctx, svc, old)
		if old.Spec.Type == corev1.ServiceTypeExternalName && svc.Spec.Type != corev1.ServiceTypeExternalName && svc.Spec.ClusterIP != corev1.ClusterIPNone {
			ips, err := r.allocateIPs(ctx, svc, dry)
			if err != nil {
				return nil, err
			}
			reserved = ips
		}
		if needsNodePorts(svc) || needsHealthCheck(svc) {
			if err := r.ports.assign(ctx, svc, old); err != nil {
				return nil, err
			}
		} else {
			for i := range svc.Spec.Ports {
				if svc.Spec.Type == corev1.ServiceTypeClusterIP || svc.Spec.Type == corev1.ServiceTypeExternalName {
					svc.Spec.Ports[i].NodePort = 0
				}
			}
		}
		return svc, nil
	})
	out, created, err := r.REST.Update(ctx, name, updatedInfo{objInfo, wrapped}, createValidation, updateValidation, forceAllowCreate, options)
	if err != nil && !dry {
		r.ips.release(ctx, reserved)
	}
	return out, created, err
}

// updatedInfo keeps the client's preconditions while adding allocation.
type updatedInfo struct {
	orig    rest.UpdatedObjectInfo
	wrapped rest.UpdatedObjectInfo
}

func (u updatedInfo) Preconditions() *metav1.Preconditions { return u.orig.Preconditions() }
func (u updatedInfo) UpdatedObject(ctx context.Context, old runtime.Object) (runtime.Object, error) {
	return u.wrapped.UpdatedObject(ctx, old)
}

func invalid(name string, errs field.ErrorList) error {
	return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Service").GroupKind(), name, errs)
}

func fieldErrs(path string, value any, msg string) field.ErrorList {
	return field.ErrorList{field.Invalid(field.NewPath(path), value, msg)}
}
