// Package framework is the scheduler's plugin framework: the extension
// points a plugin implements (PreEnqueue, PreFilter, Filter, PostFilter,
// PreScore, Score), the statuses through which plugins report outcomes,
// the per-cycle state they share, the node and pod views they read
// (NodeInfo, PodInfo), the cluster events that make a rejected pod worth
// retrying, and the Framework that runs a profile's plugins in order.
//
// It follows the shape of k8s.io/kube-scheduler/framework, trimmed to what
// Capstan's scheduler uses.
package framework
