package registry

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/capstan-dev/capstan/registry/apps/controllerrevision"
	"github.com/capstan-dev/capstan/registry/apps/daemonset"
	"github.com/capstan-dev/capstan/registry/apps/deployment"
	"github.com/capstan-dev/capstan/registry/apps/replicaset"
	"github.com/capstan-dev/capstan/registry/apps/statefulset"
	"github.com/capstan-dev/capstan/registry/store"
)

func installApps(b *builder) {
	addResource(b, controllerrevision.Resource, "v1")
	addResource(b, daemonset.Resource, "v1")

	if s, err := deployment.NewStorage(b.cfg.RESTOptions); err != nil {
		b.fail(err)
	} else {
		addAppsScaled(b, "deployments", s.Storage, s.Scale)
	}
	if s, err := replicaset.NewStorage(b.cfg.RESTOptions); err != nil {
		b.fail(err)
	} else {
		addAppsScaled(b, "replicasets", s.Storage, s.Scale)
	}
	if s, err := statefulset.NewStorage(b.cfg.RESTOptions); err != nil {
		b.fail(err)
	} else {
		addAppsScaled(b, "statefulsets", s.Storage, s.Scale)
	}
}

// addAppsScaled installs an apps/v1 resource with its status and scale subresources.
func addAppsScaled(b *builder, resource string, s *store.Storage, scale rest.Storage) {
	v1 := appsv1.SchemeGroupVersion
	b.add(v1, resource, s.REST)
	b.add(v1, resource+"/status", s.Status)
	b.add(v1, resource+"/scale", scale)
}
