package registry

import "github.com/capstan-dev/capstan/registry/node/runtimeclass"

func installNode(b *builder) {
	addResource(b, runtimeclass.Resource, "v1")
}
