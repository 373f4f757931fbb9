package registry

import "github.com/capstan-dev/capstan/registry/coordination/lease"

func installCoordination(b *builder) {
	addResource(b, lease.Resource, "v1")
}
