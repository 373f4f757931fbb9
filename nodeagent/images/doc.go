// Package images builds OCI image archives from local files, so a node can
// run pods without a container registry: the archive is imported into the
// node's containerd under an upstream image name.
package images
