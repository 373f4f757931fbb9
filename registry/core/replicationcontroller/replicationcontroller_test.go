package replicationcontroller

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"

	"github.com/capstan-dev/capstan/registry/scale"
	"github.com/capstan-dev/capstan/registry/scheme"
)

func summary(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%s %s: %s", string(e.Type), e.Field, e.Detail))
	}
	return out
}

func validRC() *corev1.ReplicationController {
	n := int32(2)
	rc := &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "u1", ResourceVersion: "7"},
		Spec: corev1.ReplicationControllerSpec{
			Replicas: &n,
			Selector: map[string]string{"app": "web"},
			Template: &corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
			},
		},
	}
	scheme.Scheme.Default(rc)
	return rc
}

func TestValidateSpec(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(*corev1.ReplicationController)
		want  []string
	}{
		{name: "valid"},
		{
			name:  "selector required",
			tweak: func(rc *corev1.ReplicationController) { rc.Spec.Selector = nil },
			want:  []string{"FieldValueRequired spec.selector: "},
		},
		{
			name:  "selector must match template",
			tweak: func(rc *corev1.ReplicationController) { rc.Spec.Selector = map[string]string{"app": "other"} },
			want:  []string{"FieldValueInvalid spec.template.metadata.labels: `selector` does not match template `labels`"},
		},
		{
			name:  "negative replicas",
			tweak: func(rc *corev1.ReplicationController) { n := int32(-1); rc.Spec.Replicas = &n },
			want:  []string{"FieldValueInvalid spec.replicas: must be greater than or equal to 0"},
		},
		{
			name:  "template required",
			tweak: func(rc *corev1.ReplicationController) { rc.Spec.Template = nil },
			want:  []string{"FieldValueRequired spec.template: "},
		},
		{
			name: "template restart policy and deadline",
			tweak: func(rc *corev1.ReplicationController) {
				rc.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
				d := int64(5)
				rc.Spec.Template.Spec.ActiveDeadlineSeconds = &d
			},
			want: []string{
				`FieldValueNotSupported spec.template.spec.restartPolicy: supported values: "Always"`,
				"FieldValueForbidden spec.template.spec.activeDeadlineSeconds: activeDeadlineSeconds in ReplicationController is not Supported",
			},
		},
		{
			name:  "template pod spec",
			tweak: func(rc *corev1.ReplicationController) { rc.Spec.Template.Spec.Containers[0].Image = "" },
			want:  []string{"FieldValueRequired spec.template.spec.containers[0].image: "},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := validRC()
			if tc.tweak != nil {
				tc.tweak(rc)
			}
			if diff := cmp.Diff(tc.want, summary(ValidateSpec(&rc.Spec, field.NewPath("spec")))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateStatus(t *testing.T) {
	st := &corev1.ReplicationControllerStatus{Replicas: 2, ReadyReplicas: 3, AvailableReplicas: 4, ObservedGeneration: -1}
	want := []string{
		"FieldValueInvalid status.observedGeneration: must be greater than or equal to 0",
		"FieldValueInvalid status.readyReplicas: cannot be greater than status.replicas",
		"FieldValueInvalid status.availableReplicas: cannot be greater than status.replicas",
		"FieldValueInvalid status.availableReplicas: cannot be greater than readyReplicas",
	}
	if diff := cmp.Diff(want, summary(ValidateStatus(st, field.NewPath("status")))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestRow(t *testing.T) {
	rc := validRC()
	rc.Spec.Template.Spec.Containers = append(rc.Spec.Template.Spec.Containers, corev1.Container{Name: "side", Image: "envoy"})
	rc.Status = corev1.ReplicationControllerStatus{Replicas: 2, ReadyReplicas: 1}
	want := []any{"web", int64(2), int64(2), int64(1), "<unknown>", "app,side", "nginx,envoy", "app=web"}
	if diff := cmp.Diff(want, Resource.Row(rc)); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	if got := len(Resource.Columns); got != len(want) {
		t.Errorf("%d columns for %d cells", got, len(want))
	}
}

func TestScale(t *testing.T) {
	rc := validRC()
	rc.Spec.Selector = map[string]string{"app": "web", "tier": "front"}
	rc.Status.Replicas = 1
	want := &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "u1", ResourceVersion: "7"},
		Spec:       autoscalingv1.ScaleSpec{Replicas: 2},
		Status:     autoscalingv1.ScaleStatus{Replicas: 1, Selector: "app=web,tier=front"},
	}
	got, err := scale.New(&genericregistry.Store{}, ScaleTarget).ScaleOf(rc)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scale (-want +got):\n%s", diff)
	}
	ScaleTarget.SetReplicas(rc, 5)
	if *rc.Spec.Replicas != 5 {
		t.Errorf("replicas %d after SetReplicas(5)", *rc.Spec.Replicas)
	}
}
