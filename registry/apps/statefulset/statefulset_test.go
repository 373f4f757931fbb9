package statefulset

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
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

func newStatefulSet(mutate func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	ss := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: appsv1.StatefulSetSpec{
			ServiceName: "db",
			Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "db"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "pg", Image: "postgres", VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
				}}},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}},
		},
	}
	scheme.Scheme.Default(ss)
	if mutate != nil {
		mutate(ss)
	}
	return ss
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*appsv1.StatefulSet)
		want   []fieldError
	}{
		{name: "valid"},
		{name: "no service name", mutate: func(ss *appsv1.StatefulSet) { ss.Spec.ServiceName = "" }},
		{
			name:   "bad service name",
			mutate: func(ss *appsv1.StatefulSet) { ss.Spec.ServiceName = "DB" },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.serviceName", "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"}},
		},
		{
			name:   "pod management policy",
			mutate: func(ss *appsv1.StatefulSet) { ss.Spec.PodManagementPolicy = "Random" },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.podManagementPolicy", "must be 'OrderedReady' or 'Parallel'"}},
		},
		{
			name:   "unknown update strategy",
			mutate: func(ss *appsv1.StatefulSet) { ss.Spec.UpdateStrategy.Type = "Canary" },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.updateStrategy", "must be 'RollingUpdate' or 'OnDelete'"}},
		},
		{
			name:   "OnDelete with rollingUpdate",
			mutate: func(ss *appsv1.StatefulSet) { ss.Spec.UpdateStrategy.Type = appsv1.OnDeleteStatefulSetStrategyType },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.updateStrategy.rollingUpdate", "only allowed for updateStrategy 'RollingUpdate'"}},
		},
		{
			name: "rolling update bounds",
			mutate: func(ss *appsv1.StatefulSet) {
				ss.Spec.UpdateStrategy.RollingUpdate.Partition = new(int32(-1))
				ss.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = new(intstr.FromInt32(0))
			},
			want: []fieldError{
				{field.ErrorTypeInvalid, "spec.updateStrategy.rollingUpdate.partition", "must be greater than or equal to 0"},
				{field.ErrorTypeInvalid, "spec.updateStrategy.rollingUpdate.maxUnavailable", "cannot be 0"},
			},
		},
		{
			name:   "retention policy",
			mutate: func(ss *appsv1.StatefulSet) { ss.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled = "Keep" },
			want:   []fieldError{{field.ErrorTypeNotSupported, "spec.persistentVolumeClaimRetentionPolicy.whenScaled", `supported values: "Retain", "Delete"`}},
		},
		{
			name: "claim template without access modes or storage",
			mutate: func(ss *appsv1.StatefulSet) {
				ss.Spec.VolumeClaimTemplates[0].Spec = corev1.PersistentVolumeClaimSpec{}
			},
			want: []fieldError{
				{field.ErrorTypeRequired, "spec.volumeClaimTemplates[0].spec.accessModes", "at least 1 access mode is required"},
				{field.ErrorTypeRequired, "spec.volumeClaimTemplates[0].spec.resources[storage]", ""},
			},
		},
		{
			name:   "empty selector",
			mutate: func(ss *appsv1.StatefulSet) { ss.Spec.Selector = &metav1.LabelSelector{} },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.selector", "empty selector is invalid for statefulset"}},
		},
		{
			name: "ordinals and replicas",
			mutate: func(ss *appsv1.StatefulSet) {
				ss.Spec.Replicas = new(int32(-1))
				ss.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: -1}
			},
			want: []fieldError{
				{field.ErrorTypeInvalid, "spec.replicas", "must be greater than or equal to 0"},
				{field.ErrorTypeInvalid, "spec.ordinals.start", "must be greater than or equal to 0"},
			},
		},
		{
			name:   "restart policy",
			mutate: func(ss *appsv1.StatefulSet) { ss.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure },
			want:   []fieldError{{field.ErrorTypeNotSupported, "spec.template.spec.restartPolicy", `supported values: "Always"`}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := summarize(Resource.Validate(context.Background(), newStatefulSet(tc.mutate)))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	const forbidden = "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
	tests := []struct {
		name   string
		old    func(*appsv1.StatefulSet)
		mutate func(*appsv1.StatefulSet)
		want   []fieldError
	}{
		{
			name: "mutable fields",
			mutate: func(ss *appsv1.StatefulSet) {
				ss.Spec.Replicas = new(int32(5))
				ss.Spec.Template.Spec.Containers[0].Image = "postgres:17"
				ss.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
				ss.Spec.MinReadySeconds = 10
				ss.Spec.RevisionHistoryLimit = new(int32(3))
				ss.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted = appsv1.DeletePersistentVolumeClaimRetentionPolicyType
			},
		},
		{
			name: "claim templates",
			mutate: func(ss *appsv1.StatefulSet) {
				ss.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("2Gi")
			},
			want: []fieldError{{field.ErrorTypeForbidden, "spec", forbidden}},
		},
		{
			name:   "service name",
			mutate: func(ss *appsv1.StatefulSet) { ss.Spec.ServiceName = "db2" },
			want:   []fieldError{{field.ErrorTypeForbidden, "spec", forbidden}},
		},
		{
			name: "selector",
			mutate: func(ss *appsv1.StatefulSet) {
				ss.Spec.Selector.MatchLabels["v"] = "2"
				ss.Spec.Template.Labels["v"] = "2"
			},
			want: []fieldError{{field.ErrorTypeForbidden, "spec", forbidden}},
		},
		{
			name: "invalid stored service name is kept",
			old:  func(ss *appsv1.StatefulSet) { ss.Spec.ServiceName = "DB" },
			mutate: func(ss *appsv1.StatefulSet) {
				ss.Spec.ServiceName = "DB"
				ss.Spec.Replicas = new(int32(2))
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := newStatefulSet(tc.old)
			ss := old.DeepCopy()
			tc.mutate(ss)
			got := summarize(Resource.ValidateUpdate(context.Background(), ss, old))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	ss := newStatefulSet(func(ss *appsv1.StatefulSet) { ss.Spec.RevisionHistoryLimit = new(int32(-1)) })
	want := []string{"spec.revisionHistoryLimit: a negative value retains all historical revisions; a value >= 0 is recommended"}
	if diff := cmp.Diff(want, Resource.WarningsOnCreate(context.Background(), ss)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if errs := Resource.Validate(context.Background(), ss); len(errs) != 0 {
		t.Errorf("a negative revisionHistoryLimit is only warned about, got %v", errs)
	}
}

func TestRow(t *testing.T) {
	ss := newStatefulSet(func(ss *appsv1.StatefulSet) {
		ss.CreationTimestamp = metav1.NewTime(time.Now().Add(-90 * time.Second))
		ss.Spec.Replicas = new(int32(3))
		ss.Status.ReadyReplicas = 1
	})
	want := []any{"db", "1/3", "90s", "pg", "postgres"}
	if diff := cmp.Diff(want, Resource.Row(ss)); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
}
