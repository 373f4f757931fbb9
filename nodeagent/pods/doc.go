// Package pods runs the pods bound to this node through the CRI: one worker
// per pod computes what must change (volumes, sandbox, init, sidecar and app
// containers, termination) from the pod spec and the runtime's state, does
// it, and writes the pod's status back to the API.
package pods
