package deployment

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
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

func newDeployment(mutate func(*appsv1.Deployment)) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx:1.27"}}},
			},
		},
	}
	scheme.Scheme.Default(d)
	if mutate != nil {
		mutate(d)
	}
	return d
}

func intOrString(v intstr.IntOrString) *intstr.IntOrString { return &v }

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*appsv1.Deployment)
		want   []fieldError
	}{
		{name: "valid"},
		{
			name:   "selector missing",
			mutate: func(d *appsv1.Deployment) { d.Spec.Selector = nil },
			want: []fieldError{
				{field.ErrorTypeRequired, "spec.selector", ""},
				{field.ErrorTypeInvalid, "spec.template.metadata.labels", "`selector` does not match template `labels`"},
			},
		},
		{
			name:   "selector empty",
			mutate: func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.selector", "empty selector is invalid for deployment"}},
		},
		{
			name:   "selector does not match template",
			mutate: func(d *appsv1.Deployment) { d.Spec.Template.Labels = map[string]string{"app": "db"} },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.template.metadata.labels", "`selector` does not match template `labels`"}},
		},
		{
			name:   "negative replicas",
			mutate: func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(-1)) },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.replicas", "must be greater than or equal to 0"}},
		},
		{
			name:   "restart policy",
			mutate: func(d *appsv1.Deployment) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever },
			want:   []fieldError{{field.ErrorTypeNotSupported, "spec.template.spec.restartPolicy", `supported values: "Always"`}},
		},
		{
			name:   "active deadline",
			mutate: func(d *appsv1.Deployment) { d.Spec.Template.Spec.ActiveDeadlineSeconds = new(int64(10)) },
			want:   []fieldError{{field.ErrorTypeForbidden, "spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in ReplicaSet is not Supported"}},
		},
		{
			name:   "unknown strategy",
			mutate: func(d *appsv1.Deployment) { d.Spec.Strategy = appsv1.DeploymentStrategy{Type: "BlueGreen"} },
			want:   []fieldError{{field.ErrorTypeNotSupported, "spec.strategy", `supported values: "Recreate", "RollingUpdate"`}},
		},
		{
			name:   "recreate with rollingUpdate",
			mutate: func(d *appsv1.Deployment) { d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType },
			want:   []fieldError{{field.ErrorTypeForbidden, "spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"}},
		},
		{
			name: "maxSurge and maxUnavailable both zero",
			mutate: func(d *appsv1.Deployment) {
				d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: intOrString(intstr.FromInt32(0)), MaxUnavailable: intOrString(intstr.FromString("0%"))}
			},
			want: []fieldError{{field.ErrorTypeInvalid, "spec.strategy.rollingUpdate.maxUnavailable", "may not be 0 when `maxSurge` is 0"}},
		},
		{
			name: "maxUnavailable above 100%",
			mutate: func(d *appsv1.Deployment) {
				d.Spec.Strategy.RollingUpdate.MaxUnavailable = intOrString(intstr.FromString("150%"))
			},
			want: []fieldError{{field.ErrorTypeInvalid, "spec.strategy.rollingUpdate.maxUnavailable", "must not be greater than 100%"}},
		},
		{
			name: "bad percentage and negative surge",
			mutate: func(d *appsv1.Deployment) {
				d.Spec.Strategy.RollingUpdate.MaxUnavailable = intOrString(intstr.FromString("a%"))
				d.Spec.Strategy.RollingUpdate.MaxSurge = intOrString(intstr.FromInt32(-1))
			},
			want: []fieldError{
				{field.ErrorTypeInvalid, "spec.strategy.rollingUpdate.maxUnavailable", "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"},
				{field.ErrorTypeInvalid, "spec.strategy.rollingUpdate.maxSurge", "must be greater than or equal to 0"},
			},
		},
		{
			name:   "negative revisionHistoryLimit",
			mutate: func(d *appsv1.Deployment) { d.Spec.RevisionHistoryLimit = new(int32(-2)) },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.revisionHistoryLimit", "must be greater than or equal to 0"}},
		},
		{
			name: "progress deadline not above minReadySeconds",
			mutate: func(d *appsv1.Deployment) {
				d.Spec.MinReadySeconds = 30
				d.Spec.ProgressDeadlineSeconds = new(int32(30))
			},
			want: []fieldError{{field.ErrorTypeInvalid, "spec.progressDeadlineSeconds", "must be greater than minReadySeconds"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := summarize(Resource.Validate(context.Background(), newDeployment(tc.mutate)))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	old := newDeployment(nil)
	tests := []struct {
		name   string
		mutate func(*appsv1.Deployment)
		want   []fieldError
	}{
		{name: "scale and new image", mutate: func(d *appsv1.Deployment) {
			d.Spec.Replicas = new(int32(5))
			d.Spec.Template.Spec.Containers[0].Image = "nginx:1.28"
		}},
		{
			name: "selector changed",
			mutate: func(d *appsv1.Deployment) {
				d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "front"}}
				d.Spec.Template.Labels["tier"] = "front"
			},
			want: []fieldError{{field.ErrorTypeInvalid, "spec.selector", "field is immutable"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := summarize(Resource.ValidateUpdate(context.Background(), newDeployment(tc.mutate), old))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGenerationOnAnnotationChange(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*appsv1.Deployment)
		want   int64
	}{
		{name: "unchanged", mutate: func(*appsv1.Deployment) {}, want: 3},
		{name: "annotation added", mutate: func(d *appsv1.Deployment) { d.Annotations = map[string]string{"a": "b"} }, want: 4},
		{name: "label added", mutate: func(d *appsv1.Deployment) { d.Labels = map[string]string{"a": "b"} }, want: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := newDeployment(func(d *appsv1.Deployment) { d.Generation = 3 })
			d := old.DeepCopy()
			tc.mutate(d)
			// The store has already kept the generation (no spec change).
			Resource.PrepareForUpdate(context.Background(), d, old)
			if diff := cmp.Diff(tc.want, d.Generation); diff != "" {
				t.Errorf("generation (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateStatusUpdate(t *testing.T) {
	old := newDeployment(func(d *appsv1.Deployment) { d.Status.CollisionCount = new(int32(2)) })
	d := old.DeepCopy()
	d.Status = appsv1.DeploymentStatus{Replicas: 1, ReadyReplicas: 2, AvailableReplicas: 2, CollisionCount: new(int32(1))}
	want := []fieldError{
		{field.ErrorTypeInvalid, "status.readyReplicas", "cannot be greater than status.replicas"},
		{field.ErrorTypeInvalid, "status.availableReplicas", "cannot be greater than status.replicas"},
		{field.ErrorTypeInvalid, "status.collisionCount", "cannot be decremented"},
	}
	if diff := cmp.Diff(want, summarize(Resource.ValidateStatusUpdate(context.Background(), d, old))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestRow(t *testing.T) {
	d := newDeployment(func(d *appsv1.Deployment) {
		d.CreationTimestamp = metav1.NewTime(time.Now().Add(-2 * time.Hour))
		d.Spec.Replicas = new(int32(3))
		d.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpExists}}
		d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, corev1.Container{Name: "sidecar", Image: "envoy"})
		d.Status = appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 1}
	})
	want := []any{"web", "2/3", int64(3), int64(1), "120m", "nginx,sidecar", "nginx:1.27,envoy", "app=web,tier"}
	if diff := cmp.Diff(want, Resource.Row(d)); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	var names []string
	for _, c := range Resource.Columns {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"}, names); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
}

func TestScaleTarget(t *testing.T) {
	d := newDeployment(func(d *appsv1.Deployment) { d.Status.Replicas = 4 })
	Scale.SetReplicas(d, 7)
	sel, err := Scale.Selector(d)
	got := []any{Scale.Replicas(d), Scale.StatusReplicas(d), sel, err}
	if diff := cmp.Diff([]any{int32(7), int32(4), "app=web", nil}, got); diff != "" {
		t.Errorf("scale (-want +got):\n%s", diff)
	}
}
