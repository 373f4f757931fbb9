// Package fieldpath resolves downward API references (fieldRef and
// resourceFieldRef) against a pod running on this node. The container
// environment (podenv) and the downwardAPI and projected volumes (volumes)
// both resolve through it, so the two always agree on values and messages.
package fieldpath
