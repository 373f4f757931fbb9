package registry

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/capstan-dev/capstan/registry/core/configmap"
	"github.com/capstan-dev/capstan/registry/core/endpoints"
	"github.com/capstan-dev/capstan/registry/core/limitrange"
	"github.com/capstan-dev/capstan/registry/core/namespace"
	"github.com/capstan-dev/capstan/registry/core/node"
	"github.com/capstan-dev/capstan/registry/core/persistentvolume"
	"github.com/capstan-dev/capstan/registry/core/persistentvolumeclaim"
	"github.com/capstan-dev/capstan/registry/core/resourcequota"
	"github.com/capstan-dev/capstan/registry/core/secret"
	"github.com/capstan-dev/capstan/registry/core/service"
	"github.com/capstan-dev/capstan/registry/core/serviceaccount"
	"github.com/capstan-dev/capstan/registry/networking/ipaddress"
	"github.com/capstan-dev/capstan/registry/store"
)

// addResource builds the generic storage of r and installs it, with its
// status subresource when it has one, in every listed version. Asked for a
// resource that is installed already, it returns the existing storage.
func addResource[T runtime.Object](b *builder, r *store.Resource[T], versions ...string) *store.Storage {
	if s, ok := b.stores[r.Resource]; ok {
		return s
	}
	s, err := store.New(r, b.cfg.RESTOptions)
	if err != nil {
		b.fail(err)
		return nil
	}
	b.stores[r.Resource] = s
	for _, v := range versions {
		gv := r.GVK(v).GroupVersion()
		b.add(gv, r.Resource.Resource, s.REST)
		if s.Status != nil {
			b.add(gv, r.Resource.Resource+"/status", s.Status)
		}
	}
	return s
}

func installCore(b *builder) {
	v1 := corev1.SchemeGroupVersion
	addResource(b, configmap.Resource, "v1")
	addResource(b, secret.Resource, "v1")
	addResource(b, serviceaccount.Resource, "v1")
	addResource(b, endpoints.Resource, "v1")
	addResource(b, limitrange.Resource, "v1")
	addResource(b, resourcequota.Resource, "v1")

	addResource(b, node.Resource, "v1")
	addResource(b, persistentvolume.Resource, "v1")
	addResource(b, persistentvolumeclaim.Resource, "v1")

	if ips := addResource(b, ipaddress.Resource, "v1"); ips != nil {
		svc, err := service.NewStorage(b.cfg.RESTOptions, b.cfg.ServiceCIDRs, b.cfg.NodePortRange, ips.REST)
		b.fail(err)
		if err == nil {
			b.add(v1, "services", svc.REST)
			b.add(v1, "services/status", svc.Status)
			b.stores[corev1.Resource("services")] = &store.Storage{REST: svc.REST.REST, Status: svc.Status}
		}
	}

	ns, err := namespace.NewStorage(b.cfg.RESTOptions)
	b.fail(err)
	if err == nil {
		b.add(v1, "namespaces", ns.REST)
		b.add(v1, "namespaces/status", ns.Status)
		b.add(v1, "namespaces/finalize", ns.Finalize)
	}
}
