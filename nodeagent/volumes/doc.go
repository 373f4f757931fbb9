// Package volumes materializes a pod's volumes on the node, under
// <podsDir>/<podUID>/volumes/<kind>/<name>, as the kubelet's volume manager
// does for emptyDir, hostPath, configMap, secret, downwardAPI and projected
// volumes (including live updates of their contents), and turns a
// container's volumeMounts into CRI mounts, subPaths included.
package volumes
