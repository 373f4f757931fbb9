package registry

import "github.com/capstan-dev/capstan/registry/discovery/endpointslice"

func installDiscovery(b *builder) {
	addResource(b, endpointslice.Resource, "v1")
}
