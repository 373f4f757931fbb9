package podtemplate

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/capstan-dev/capstan/registry/scheme"
)

func template() *corev1.PodTemplate {
	t := &corev1.PodTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "tpl", Namespace: "default"},
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "front"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{
				{Name: "app", Image: "nginx"}, {Name: "side", Image: "envoy"},
			}},
		},
	}
	scheme.Scheme.Default(t)
	return t
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(*corev1.PodTemplate)
		want  []string
	}{
		{name: "valid"},
		{
			name:  "no containers",
			tweak: func(t *corev1.PodTemplate) { t.Template.Spec.Containers = nil },
			want:  []string{"FieldValueRequired template.spec.containers: "},
		},
		{
			name:  "bad label",
			tweak: func(t *corev1.PodTemplate) { t.Template.Labels = map[string]string{"app": "no spaces"} },
			want: []string{
				"FieldValueInvalid template.labels: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl := template()
			if tc.tweak != nil {
				tc.tweak(tpl)
			}
			var got []string
			for _, e := range Resource.Validate(context.Background(), tpl) {
				got = append(got, fmt.Sprintf("%s %s: %s", string(e.Type), e.Field, e.Detail))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRow(t *testing.T) {
	want := []any{"tpl", "app,side", "nginx,envoy", "app=web,tier=front"}
	if diff := cmp.Diff(want, Resource.Row(template())); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	var names []string
	for _, c := range Resource.Columns {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"Name", "Containers", "Images", "Pod Labels"}, names); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
}

func TestGeneration(t *testing.T) {
	ctx := context.Background()
	tpl := template()
	Resource.PrepareForCreate(ctx, tpl)
	if tpl.Generation != 1 {
		t.Fatalf("generation %d after create, want 1", tpl.Generation)
	}
	same := tpl.DeepCopy()
	Resource.PrepareForUpdate(ctx, same, tpl)
	changed := tpl.DeepCopy()
	changed.Template.Spec.Containers[0].Image = "nginx:2"
	Resource.PrepareForUpdate(ctx, changed, tpl)
	if same.Generation != 1 || changed.Generation != 2 {
		t.Errorf("generations %d (unchanged) and %d (changed), want 1 and 2", same.Generation, changed.Generation)
	}
}
