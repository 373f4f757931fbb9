package scheme

import "k8s.io/apimachinery/pkg/runtime"

// addGroupDefaults registers the defaulting of the kinds of the named API groups.
func addGroupDefaults(s *runtime.Scheme) {}
