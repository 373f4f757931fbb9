package replicationcontroller

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestRoundTrip(t *testing.T) {
	now := metav1.Now()
	tests := []struct {
		name string
		rc   *corev1.ReplicationController
	}{
		{"full", &corev1.ReplicationController{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "u", Generation: 3, ResourceVersion: "7", Labels: map[string]string{"a": "b"}},
			Spec: corev1.ReplicationControllerSpec{
				Replicas: ptr.To[int32](2), MinReadySeconds: 5, Selector: map[string]string{"app": "web"},
				Template: &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}},
			},
			Status: corev1.ReplicationControllerStatus{
				Replicas: 2, FullyLabeledReplicas: 2, ReadyReplicas: 1, AvailableReplicas: 1, ObservedGeneration: 2,
				Conditions: []corev1.ReplicationControllerCondition{{Type: corev1.ReplicationControllerReplicaFailure,
					Status: corev1.ConditionTrue, LastTransitionTime: now, Reason: "FailedCreate", Message: "quota"}},
			},
		}},
		{"no template", &corev1.ReplicationController{
			ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "ns"},
			Spec:       corev1.ReplicationControllerSpec{Selector: map[string]string{"app": "web"}, Template: &corev1.PodTemplateSpec{}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := ToReplicaSet(tt.rc)
			if rs.Spec.Selector.MatchLabels["app"] != "web" {
				t.Errorf("selector %v", rs.Spec.Selector)
			}
			if diff := cmp.Diff(tt.rc, FromReplicaSet(rs)); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}
