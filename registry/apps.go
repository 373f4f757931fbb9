package registry

import (
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/capstan-dev/capstan/registry/apps/controllerrevision"
	"github.com/capstan-dev/capstan/registry/apps/daemonset"
	"github.com/capstan-dev/capstan/registry/apps/deployment"
	"github.com/capstan-dev/capstan/registry/apps/replicaset"
	"github.com/capstan-dev/capstan/registry/apps/statefulset"
	"github.com/capstan-dev/capstan/registry/scale"
	"github.com/capstan-dev/capstan/registry/store"
)

func installApps(b *builder) {
	addResource(b, controllerrevision.Resource, "v1")
	addResource(b, daemonset.Resource, "v1")
	addScaled(b, deployment.Resource, deployment.Scale, "v1")
	addScaled(b, replicaset.Resource, replicaset.Scale, "v1")
	addScaled(b, statefulset.Resource, statefulset.Scale, "v1")
}

// addScaled installs a resource (with its status) and its scale subresource,
// an autoscaling/v1 Scale read and written through target.
func addScaled[T runtime.Object](b *builder, r *store.Resource[T], target scale.Target[T], version string) {
	s := addResource(b, r, version)
	if s == nil {
		return
	}
	b.add(r.GVK(version).GroupVersion(), r.Resource.Resource+"/scale", scale.New(s.REST.Store, target))
}
