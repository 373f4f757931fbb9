// Package podenv owns a container's environment as the kubelet builds it:
// service link variables, envFrom, env with $(VAR) expansion and valueFrom
// sources, and the $(VAR) expansion of command, args and subPathExpr.
package podenv
