// Package pki creates and reloads the cluster's certificate authority, the
// apiserver's serving certificate, client certificates, and the admin kubeconfig.
package pki
