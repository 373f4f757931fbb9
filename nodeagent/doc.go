// Package nodeagent assembles Capstan's node agent: it registers the Node,
// keeps its status and Lease, runs the pods bound to it through a CRI
// runtime, configures pod networking and serves the agent API on :10250.
package nodeagent
