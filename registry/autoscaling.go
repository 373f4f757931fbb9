package registry

import "github.com/capstan-dev/capstan/registry/autoscaling/horizontalpodautoscaler"

func installAutoscaling(b *builder) {
	// Stored as v2; v1 clients get the same objects converted.
	addResource(b, horizontalpodautoscaler.Resource, "v2", "v1")
}
