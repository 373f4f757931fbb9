package event

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"

	"github.com/capstan-dev/capstan/registry/store"
)

// V1Prefix is where events.k8s.io Events live in etcd. Upstream keeps them
// under core's "events" prefix, as core/v1 Events; Capstan stores the two
// kinds apart, so they must not share keys.
const V1Prefix = "events.k8s.io/events"

// V1REST is the events.k8s.io events endpoint.
type V1REST struct{ *store.REST }

// StorageVersion reports the storage version upstream discovery shows for
// events.k8s.io events (core/v1 Event, which upstream stores them as), so
// that the storageVersionHash matches kube-apiserver's. Objects are in fact
// encoded as events.k8s.io/v1 under V1Prefix.
func (r *V1REST) StorageVersion() runtime.GroupVersioner { return coreEventVersioner{} }

type coreEventVersioner struct{}

func (coreEventVersioner) KindForGroupVersionKinds([]schema.GroupVersionKind) (schema.GroupVersionKind, bool) {
	return corev1.SchemeGroupVersion.WithKind("Event"), true
}

func (coreEventVersioner) Identifier() string { return "capstan-events-core-v1-event" }

// NewV1Storage builds the events.k8s.io events storage under V1Prefix.
func NewV1Storage(opts generic.RESTOptionsGetter) (*V1REST, error) {
	s, err := store.New(Resource, prefixedOptions{opts, V1Prefix})
	if err != nil {
		return nil, err
	}
	return &V1REST{s.REST}, nil
}

// prefixedOptions overrides the etcd key prefix of the resources it serves.
type prefixedOptions struct {
	generic.RESTOptionsGetter
	prefix string
}

func (p prefixedOptions) GetRESTOptions(gr schema.GroupResource, example runtime.Object) (generic.RESTOptions, error) {
	opts, err := p.RESTOptionsGetter.GetRESTOptions(gr, example)
	opts.ResourcePrefix = p.prefix
	return opts, err
}
