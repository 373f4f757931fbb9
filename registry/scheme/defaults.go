package scheme

import "k8s.io/apimachinery/pkg/runtime"

// addDefaultingFuncs registers, for every served kind, the defaulting
// upstream applies when decoding a request body.
func addDefaultingFuncs(s *runtime.Scheme) {
	addCoreDefaults(s)
	addGroupDefaults(s)
}
