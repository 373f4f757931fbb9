package daemonset

import (
	"context"
	"testing"

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

func newDaemonSet(mutate func(*appsv1.DaemonSet)) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "kube-system"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec: corev1.PodSpec{
					NodeSelector: map[string]string{"kubernetes.io/os": "linux"},
					Containers:   []corev1.Container{{Name: "agent", Image: "fluentd"}},
				},
			},
		},
	}
	scheme.Scheme.Default(ds)
	if mutate != nil {
		mutate(ds)
	}
	return ds
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*appsv1.DaemonSet)
		want   []fieldError
	}{
		{name: "valid"},
		{
			name:   "selector missing",
			mutate: func(ds *appsv1.DaemonSet) { ds.Spec.Selector = nil },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.template.metadata.labels", "`selector` does not match template `labels`"}},
		},
		{
			name:   "selector empty",
			mutate: func(ds *appsv1.DaemonSet) { ds.Spec.Selector = &metav1.LabelSelector{} },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.selector", "empty selector is invalid for daemonset"}},
		},
		{
			name:   "restart policy",
			mutate: func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever },
			want:   []fieldError{{field.ErrorTypeNotSupported, "spec.template.spec.restartPolicy", `supported values: "Always"`}},
		},
		{
			name:   "unknown strategy",
			mutate: func(ds *appsv1.DaemonSet) { ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: "Surge"} },
			want:   []fieldError{{field.ErrorTypeNotSupported, "spec.updateStrategy", `supported values: "RollingUpdate", "OnDelete"`}},
		},
		{
			name:   "rolling update without parameters",
			mutate: func(ds *appsv1.DaemonSet) { ds.Spec.UpdateStrategy.RollingUpdate = nil },
			want:   []fieldError{{field.ErrorTypeRequired, "spec.updateStrategy.rollingUpdate", ""}},
		},
		{
			name: "surge and unavailable both set",
			mutate: func(ds *appsv1.DaemonSet) {
				ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge = new(intstr.FromString("10%"))
			},
			want: []fieldError{{field.ErrorTypeInvalid, "spec.updateStrategy.rollingUpdate.maxSurge", "may not be set when maxUnavailable is non-zero"}},
		},
		{
			name: "surge and unavailable both zero",
			mutate: func(ds *appsv1.DaemonSet) {
				ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = new(intstr.FromInt32(0))
			},
			want: []fieldError{{field.ErrorTypeRequired, "spec.updateStrategy.rollingUpdate.maxUnavailable", "cannot be 0 when maxSurge is 0"}},
		},
		{
			name: "surge above 100%",
			mutate: func(ds *appsv1.DaemonSet) {
				ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = new(intstr.FromInt32(0))
				ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge = new(intstr.FromString("101%"))
			},
			want: []fieldError{{field.ErrorTypeInvalid, "spec.updateStrategy.rollingUpdate.maxSurge", "must not be greater than 100%"}},
		},
		{
			name:   "negative revisionHistoryLimit",
			mutate: func(ds *appsv1.DaemonSet) { ds.Spec.RevisionHistoryLimit = new(int32(-1)) },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.revisionHistoryLimit", "must be greater than or equal to 0"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := summarize(Resource.Validate(context.Background(), newDaemonSet(tc.mutate)))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTemplateGeneration(t *testing.T) {
	ctx := context.Background()
	ds := newDaemonSet(nil)
	Resource.PrepareForCreate(ctx, ds)
	got := []string{ds.Annotations[appsv1.DeprecatedTemplateGeneration]}

	// Clients cannot set it; template changes advance it.
	same := ds.DeepCopy()
	same.Annotations[appsv1.DeprecatedTemplateGeneration] = "9"
	same.Spec.MinReadySeconds = 5
	Resource.PrepareForUpdate(ctx, same, ds)
	got = append(got, same.Annotations[appsv1.DeprecatedTemplateGeneration])

	changed := same.DeepCopy()
	changed.Spec.Template.Spec.Containers[0].Image = "fluent-bit"
	Resource.PrepareForUpdate(ctx, changed, same)
	got = append(got, changed.Annotations[appsv1.DeprecatedTemplateGeneration])

	status := changed.DeepCopy()
	delete(status.Annotations, appsv1.DeprecatedTemplateGeneration)
	Resource.PrepareForStatusUpdate(ctx, status, changed)
	got = append(got, status.Annotations[appsv1.DeprecatedTemplateGeneration])

	if diff := cmp.Diff([]string{"1", "1", "2", "2"}, got); diff != "" {
		t.Errorf("template generations (-want +got):\n%s", diff)
	}
}

func TestRow(t *testing.T) {
	ds := newDaemonSet(func(ds *appsv1.DaemonSet) {
		ds.Status = appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 2, UpdatedNumberScheduled: 1, NumberAvailable: 2}
	})
	want := []any{"agent", int64(3), int64(3), int64(2), int64(1), int64(2), "kubernetes.io/os=linux", "<unknown>", "agent", "fluentd", "app=agent"}
	if diff := cmp.Diff(want, Resource.Row(ds)); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
}
