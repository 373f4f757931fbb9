// Package replicationcontroller keeps the pods of ReplicationControllers.
// The work is the replicaset controller's; this package only shows it
// ReplicationControllers as ReplicaSets and writes their status back.
package replicationcontroller

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/capstan-dev/capstan/controllers/replicaset"
)

// Name is the controller's name in the manager and in its user agent.
const Name = "replicationcontroller"

// New returns the ReplicationController controller; nothing runs until Run.
func New(client kubernetes.Interface, recorder record.EventRecorder, rcs coreinformers.ReplicationControllerInformer, pods coreinformers.PodInformer) (*replicaset.Controller, error) {
	return replicaset.NewFor(Name, Owners(client, rcs), client, recorder, pods)
}

// Owners shows ReplicationControllers to the replicaset controller.
func Owners(client kubernetes.Interface, informer coreinformers.ReplicationControllerInformer) replicaset.Owners {
	return owners{client: client, informer: informer.Informer(), lister: informer.Lister()}
}

type owners struct {
	client   kubernetes.Interface
	informer cache.SharedIndexInformer
	lister   corelisters.ReplicationControllerLister
}

func (o owners) Kind() schema.GroupVersionKind {
	return corev1.SchemeGroupVersion.WithKind("ReplicationController")
}
func (o owners) Informer() cache.SharedIndexInformer { return o.informer }
func (o owners) CountsTerminating() bool             { return false }

func (o owners) FromInformer(obj any) *appsv1.ReplicaSet {
	rc, ok := obj.(*corev1.ReplicationController)
	if !ok {
		return nil
	}
	return ToReplicaSet(rc)
}

func (o owners) Get(namespace, name string) (*appsv1.ReplicaSet, error) {
	rc, err := o.lister.ReplicationControllers(namespace).Get(name)
	if err != nil {
		return nil, err
	}
	return ToReplicaSet(rc), nil
}

func (o owners) List(namespace string) ([]*appsv1.ReplicaSet, error) {
	rcs, err := o.lister.ReplicationControllers(namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	out := make([]*appsv1.ReplicaSet, len(rcs))
	for i, rc := range rcs {
		out[i] = ToReplicaSet(rc)
	}
	return out, nil
}

func (o owners) Fetch(ctx context.Context, namespace, name string) (*appsv1.ReplicaSet, error) {
	rc, err := o.client.CoreV1().ReplicationControllers(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return ToReplicaSet(rc), nil
}

func (o owners) UpdateStatus(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	rc, err := o.client.CoreV1().ReplicationControllers(rs.Namespace).UpdateStatus(ctx, FromReplicaSet(rs), metav1.UpdateOptions{})
	if err != nil {
		return nil, err
	}
	return ToReplicaSet(rc), nil
}

// ToReplicaSet shows rc as a ReplicaSet. The result shares maps with rc:
// treat it as read-only, as anything from a cache.
func ToReplicaSet(rc *corev1.ReplicationController) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{
		ObjectMeta: rc.ObjectMeta,
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        rc.Spec.Replicas,
			MinReadySeconds: rc.Spec.MinReadySeconds,
			Selector:        &metav1.LabelSelector{MatchLabels: rc.Spec.Selector},
		},
		Status: appsv1.ReplicaSetStatus{
			Replicas:             rc.Status.Replicas,
			FullyLabeledReplicas: rc.Status.FullyLabeledReplicas,
			ReadyReplicas:        rc.Status.ReadyReplicas,
			AvailableReplicas:    rc.Status.AvailableReplicas,
			ObservedGeneration:   rc.Status.ObservedGeneration,
		},
	}
	if rc.Spec.Template != nil {
		rs.Spec.Template = *rc.Spec.Template
	}
	for _, c := range rc.Status.Conditions {
		rs.Status.Conditions = append(rs.Status.Conditions, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetConditionType(c.Type), Status: c.Status,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
		})
	}
	return rs
}

// FromReplicaSet is the ReplicationController that ToReplicaSet showed as rs.
func FromReplicaSet(rs *appsv1.ReplicaSet) *corev1.ReplicationController {
	rc := &corev1.ReplicationController{
		ObjectMeta: rs.ObjectMeta,
		Spec: corev1.ReplicationControllerSpec{
			Replicas:        rs.Spec.Replicas,
			MinReadySeconds: rs.Spec.MinReadySeconds,
			Template:        &rs.Spec.Template,
		},
		Status: corev1.ReplicationControllerStatus{
			Replicas:             rs.Status.Replicas,
			FullyLabeledReplicas: rs.Status.FullyLabeledReplicas,
			ReadyReplicas:        rs.Status.ReadyReplicas,
			AvailableReplicas:    rs.Status.AvailableReplicas,
			ObservedGeneration:   rs.Status.ObservedGeneration,
		},
	}
	if rs.Spec.Selector != nil {
		rc.Spec.Selector = rs.Spec.Selector.MatchLabels
	}
	for _, c := range rs.Status.Conditions {
		rc.Status.Conditions = append(rc.Status.Conditions, corev1.ReplicationControllerCondition{
			Type: corev1.ReplicationControllerConditionType(c.Type), Status: c.Status,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
		})
	}
	return rc
}
