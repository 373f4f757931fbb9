// Package podplugin is what Capstan's admission plugins for pods share: the
// client and the one informer they read, their initialization check, and
// picking the pod out of a request.
package podplugin

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Base is embedded by a plugin that acts on pod creation and reads one kind
// of object through a lister of type L.
type Base[L any] struct {
	*admission.Handler
	Client kubernetes.Interface
	Lister L

	name     string
	informer func(informers.SharedInformerFactory) (L, cache.SharedIndexInformer)
	hasInfo  bool
}

// New returns the base of the plugin name; informer picks its lister.
func New[L any](name string, informer func(informers.SharedInformerFactory) (L, cache.SharedIndexInformer)) Base[L] {
	return Base[L]{Handler: admission.NewHandler(admission.Create), name: name, informer: informer}
}

func (b *Base[L]) SetExternalKubeClientSet(c kubernetes.Interface) { b.Client = c }

func (b *Base[L]) SetExternalKubeInformerFactory(f informers.SharedInformerFactory) {
	lister, inf := b.informer(f)
	b.Lister, b.hasInfo = lister, true
	b.SetReadyFunc(inf.HasSynced)
}

func (b *Base[L]) ValidateInitialization() error {
	if b.Client == nil || !b.hasInfo {
		return fmt.Errorf("%s admission plugin needs a client and informers", b.name)
	}
	return nil
}

// Pod is the pod a request on the pods resource itself carries, or nil.
func Pod(a admission.Attributes) *corev1.Pod {
	if a.GetResource().GroupResource() != corev1.Resource("pods") || a.GetSubresource() != "" {
		return nil
	}
	p, _ := a.GetObject().(*corev1.Pod)
	return p
}
