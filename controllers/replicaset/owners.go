package replicaset

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/tools/cache"
)

// Owners is how the controller reads and writes the objects that keep a
// number of pod replicas. The controller sees every such object as a
// ReplicaSet; an implementation for another kind converts both ways.
// ReplicaSets returned from the cache are shared: never modify them.
type Owners interface {
	// Kind is the owners' kind, for ownerReferences and events.
	Kind() schema.GroupVersionKind
	// Informer is the owners' shared informer.
	Informer() cache.SharedIndexInformer
	// FromInformer returns an object the informer delivered as a ReplicaSet, or nil.
	FromInformer(obj any) *appsv1.ReplicaSet
	// Get reads an owner from the cache.
	Get(namespace, name string) (*appsv1.ReplicaSet, error)
	// List reads the owners of a namespace from the cache.
	List(namespace string) ([]*appsv1.ReplicaSet, error)
	// Fetch reads an owner from the apiserver, bypassing the cache.
	Fetch(ctx context.Context, namespace, name string) (*appsv1.ReplicaSet, error)
	// UpdateStatus writes rs.Status through the status subresource.
	UpdateStatus(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error)
	// CountsTerminating tells whether the owner's status has terminatingReplicas.
	CountsTerminating() bool
}

// ReplicaSets are the Owners of the replicaset controller.
func ReplicaSets(client kubernetes.Interface, informer appsinformers.ReplicaSetInformer) Owners {
	return replicaSets{client: client, informer: informer.Informer(), lister: informer.Lister()}
}

type replicaSets struct {
	client   kubernetes.Interface
	informer cache.SharedIndexInformer
	lister   appslisters.ReplicaSetLister
}

func (r replicaSets) Kind() schema.GroupVersionKind {
	return appsv1.SchemeGroupVersion.WithKind("ReplicaSet")
}
func (r replicaSets) Informer() cache.SharedIndexInformer { return r.informer }
func (r replicaSets) FromInformer(obj any) *appsv1.ReplicaSet {
	rs, _ := obj.(*appsv1.ReplicaSet)
	return rs
}
func (r replicaSets) Get(namespace, name string) (*appsv1.ReplicaSet, error) {
	return r.lister.ReplicaSets(namespace).Get(name)
}
func (r replicaSets) List(namespace string) ([]*appsv1.ReplicaSet, error) {
	return r.lister.ReplicaSets(namespace).List(labels.Everything())
}
func (r replicaSets) Fetch(ctx context.Context, namespace, name string) (*appsv1.ReplicaSet, error) {
	return r.client.AppsV1().ReplicaSets(namespace).Get(ctx, name, metav1.GetOptions{})
}
func (r replicaSets) UpdateStatus(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	return r.client.AppsV1().ReplicaSets(rs.Namespace).UpdateStatus(ctx, rs, metav1.UpdateOptions{})
}
func (r replicaSets) CountsTerminating() bool { return true }
