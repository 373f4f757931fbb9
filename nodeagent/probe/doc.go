// Package probe owns the liveness, readiness and startup probes of running
// containers: one worker per probe that runs exec, httpGet, tcpSocket or grpc
// checks with the kubelet's timing, thresholds and messages, and the current
// results the node agent reads when it computes status and decides restarts.
package probe
