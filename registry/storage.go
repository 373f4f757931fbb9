package registry

import (
	storagev1 "k8s.io/api/storage/v1"

	"github.com/capstan-dev/capstan/registry/storage/csidriver"
	"github.com/capstan-dev/capstan/registry/storage/csinode"
	"github.com/capstan-dev/capstan/registry/storage/csistoragecapacity"
	"github.com/capstan-dev/capstan/registry/storage/storageclass"
	"github.com/capstan-dev/capstan/registry/storage/volumeattachment"
	"github.com/capstan-dev/capstan/registry/storage/volumeattributesclass"
)

func installStorage(b *builder) {
	sc, err := storageclass.NewStorage(b.cfg.RESTOptions)
	b.fail(err)
	if err == nil {
		b.add(storagev1.SchemeGroupVersion, "storageclasses", sc.REST)
	}
	addResource(b, csidriver.Resource, "v1")
	addResource(b, csinode.Resource, "v1")
	addResource(b, csistoragecapacity.Resource, "v1")
	addResource(b, volumeattachment.Resource, "v1")
	addResource(b, volumeattributesclass.Resource, "v1")
}
