// Package registry lists every built-in resource Capstan serves, grouped by
// API group and version, as the storage the built-in apiserver installs.
package registry
