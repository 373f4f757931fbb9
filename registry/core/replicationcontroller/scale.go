package replicationcontroller

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/capstan-dev/capstan/registry/scale"
)

// ScaleTarget reads and writes an RC through its Scale: spec.replicas,
// status.replicas and the equality selector as status.selector.
var ScaleTarget = scale.Target[*corev1.ReplicationController]{
	Resource:       Resource.Resource,
	Replicas:       replicas,
	SetReplicas:    func(rc *corev1.ReplicationController, n int32) { rc.Spec.Replicas = &n },
	StatusReplicas: func(rc *corev1.ReplicationController) int32 { return rc.Status.Replicas },
	Selector:       func(rc *corev1.ReplicationController) (string, error) { return scale.MapSelector(rc.Spec.Selector) },
}
