// Package scheme owns the runtime.Scheme every Capstan server component decodes
// with: the k8s.io/api versioned types, registered a second time as their
// group's internal version so that conversion is an identity, plus the
// defaulting functions and field-label conversions of every served kind.
package scheme
