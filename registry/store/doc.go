// Package store turns a declarative description of one resource (its names,
// strategy functions, table columns and field selectors) into the generic
// registry store and the status subresource that k8s.io/apiserver serves.
package store
