package registry

import "github.com/capstan-dev/capstan/registry/policy/poddisruptionbudget"

func installPolicy(b *builder) {
	addResource(b, poddisruptionbudget.Resource, "v1")
}
