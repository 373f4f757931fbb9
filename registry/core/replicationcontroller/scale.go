package replicationcontroller

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiserver/pkg/registry/generic"

	"github.com/capstan-dev/capstan/registry/scale"
	"github.com/capstan-dev/capstan/registry/store"
)

// Storage holds the replicationcontroller endpoints.
type Storage struct {
	REST   *store.REST
	Status *store.StatusREST
	// Scale serves replicationcontrollers/scale as an autoscaling/v1 Scale.
	Scale *scale.REST[*corev1.ReplicationController]
}

// ScaleTarget reads and writes an RC through its Scale: spec.replicas,
// status.replicas and the equality selector as status.selector.
var ScaleTarget = scale.Target[*corev1.ReplicationController]{
	Resource:       Resource.Resource,
	Replicas:       replicas,
	SetReplicas:    func(rc *corev1.ReplicationController, n int32) { rc.Spec.Replicas = &n },
	StatusReplicas: func(rc *corev1.ReplicationController) int32 { return rc.Status.Replicas },
	Selector:       func(rc *corev1.ReplicationController) (string, error) { return scale.MapSelector(rc.Spec.Selector) },
}

// NewStorage builds the replicationcontroller storage.
func NewStorage(opts generic.RESTOptionsGetter) (*Storage, error) {
	s, err := store.New(Resource, opts)
	if err != nil {
		return nil, err
	}
	return &Storage{REST: s.REST, Status: s.Status, Scale: scale.New(s.REST.Store, ScaleTarget)}, nil
}
