package deployment

import (
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// rs is a ReplicaSet of the given size with available pods, created
// (name-ordered) a minute apart so that creation order is well defined.
func rs(name string, size, available int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name), Generation: 1, Labels: map[string]string{"app": "web"},
			CreationTimestamp: metav1.NewTime(now.Add(-time.Hour + time.Duration(name[len(name)-1])*time.Minute)),
			Annotations:       map[string]string{}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To(size), Template: *template("image-" + name),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
		Status: appsv1.ReplicaSetStatus{Replicas: size, ReadyReplicas: available, AvailableReplicas: available, ObservedGeneration: 1},
	}
}

func withRevision(r *appsv1.ReplicaSet, rev int) *appsv1.ReplicaSet {
	r.Annotations[RevisionAnnotation] = strconv.Itoa(rev)
	return r
}

func withSizedFor(r *appsv1.ReplicaSet, desired, maximum int32) *appsv1.ReplicaSet {
	setReplicaAnnotations(r, desired, maximum)
	return r
}

func ownedBy(r *appsv1.ReplicaSet, d *appsv1.Deployment) *appsv1.ReplicaSet {
	r.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(d, controllerKind)}
	return r
}

// deployment is a rolling Deployment of image with the given size and upstream's default strategy.
func deployment(image string, replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "uid-web", Generation: 1, Annotations: map[string]string{}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: *template(image),
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: ptr.To(intstr.FromString("25%")), MaxUnavailable: ptr.To(intstr.FromString("25%"))}},
			RevisionHistoryLimit:    ptr.To[int32](10),
			ProgressDeadlineSeconds: ptr.To[int32](600),
		},
	}
}
