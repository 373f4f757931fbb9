package replicaset

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/scheme"
)

type fieldError struct {
	Type   field.ErrorType
	Field  string
	Detail string
}

func summarize(errs field.ErrorList) []fieldError {
	var out []fieldError
	for _, e := range errs {
		out = append(out, fieldError{e.Type, e.Field, e.Detail})
	}
	return out
}

func newReplicaSet(mutate func(*appsv1.ReplicaSet)) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-5d8f", Namespace: "default"},
		Spec: appsv1.ReplicaSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx"}}},
			},
		},
	}
	scheme.Scheme.Default(rs)
	if mutate != nil {
		mutate(rs)
	}
	return rs
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*appsv1.ReplicaSet)
		want   []fieldError
	}{
		{name: "valid"},
		{
			name: "bad selector operator",
			mutate: func(rs *appsv1.ReplicaSet) {
				rs.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "x", Operator: "Near"}}
			},
			want: []fieldError{
				{field.ErrorTypeInvalid, "spec.selector.matchExpressions[0].operator", "not a valid selector operator"},
				{field.ErrorTypeInvalid, "spec.selector", "invalid label selector"},
			},
		},
		{
			name: "negative replicas and minReadySeconds",
			mutate: func(rs *appsv1.ReplicaSet) {
				rs.Spec.Replicas = new(int32(-3))
				rs.Spec.MinReadySeconds = -1
			},
			want: []fieldError{
				{field.ErrorTypeInvalid, "spec.replicas", "must be greater than or equal to 0"},
				{field.ErrorTypeInvalid, "spec.minReadySeconds", "must be greater than or equal to 0"},
			},
		},
		{
			name:   "template without containers",
			mutate: func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec.Containers = nil },
			want:   []fieldError{{field.ErrorTypeRequired, "spec.template.spec.containers", ""}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := summarize(Resource.Validate(context.Background(), newReplicaSet(tc.mutate)))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateUpdateSelectorImmutable(t *testing.T) {
	old := newReplicaSet(nil)
	rs := newReplicaSet(func(rs *appsv1.ReplicaSet) {
		rs.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "v": "2"}}
		rs.Spec.Template.Labels["v"] = "2"
	})
	want := []fieldError{{field.ErrorTypeInvalid, "spec.selector", "field is immutable"}}
	if diff := cmp.Diff(want, summarize(Resource.ValidateUpdate(context.Background(), rs, old))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestRowAndFields(t *testing.T) {
	rs := newReplicaSet(func(rs *appsv1.ReplicaSet) {
		rs.Spec.Replicas = new(int32(3))
		rs.Status = appsv1.ReplicaSetStatus{Replicas: 2, ReadyReplicas: 1}
	})
	want := []any{"web-5d8f", int64(3), int64(2), int64(1), "<unknown>", "nginx", "nginx", "app=web"}
	if diff := cmp.Diff(want, Resource.Row(rs)); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("2", Resource.Fields["status.replicas"](rs)); diff != "" {
		t.Errorf("status.replicas (-want +got):\n%s", diff)
	}
}

func TestContainerCells(t *testing.T) {
	tests := []struct {
		name       string
		containers []corev1.Container
		want       [2]string
	}{
		{name: "none"},
		{name: "two", containers: []corev1.Container{{Name: "a", Image: "x"}, {Name: "b", Image: "y"}}, want: [2]string{"a,b", "x,y"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, i := ContainerCells(tc.containers)
			if diff := cmp.Diff(tc.want, [2]string{n, i}); diff != "" {
				t.Errorf("cells (-want +got):\n%s", diff)
			}
		})
	}
}
