package scheme

import "k8s.io/apimachinery/pkg/runtime"

// addGroupDefaults registers the defaulting of the kinds of the named API
// groups (everything but core/v1). Each group's functions live in its own
// defaults_<group>.go file; this function only wires them into the scheme.
//
// Groups whose kinds upstream does not default at all (policy/v1,
// coordination.k8s.io/v1, events.k8s.io/v1, node.k8s.io/v1) register nothing,
// as a scheme without a defaulter for a type leaves it untouched.
func addGroupDefaults(s *runtime.Scheme) {
	addAppsDefaults(s)
	addBatchDefaults(s)
	addAutoscalingDefaults(s)
	addNetworkingDefaults(s)
	addStorageDefaults(s)
	addSchedulingDefaults(s)
	addDiscoveryDefaults(s)
}

// addGroupDefaulter registers fn as the defaulter of T, a pointer to an API
// struct. The zero value of T (a typed nil pointer) is enough for the scheme,
// which keys defaulters by reflect.Type.
func addGroupDefaulter[T runtime.Object](s *runtime.Scheme, fn func(T)) {
	var zero T
	s.AddTypeDefaultingFunc(zero, func(obj interface{}) { fn(obj.(T)) })
}

// defaultEach applies fn to every element of a list's Items, in place.
func defaultEach[T any](items []T, fn func(*T)) {
	for i := range items {
		fn(&items[i])
	}
}
