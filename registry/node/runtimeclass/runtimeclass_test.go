package runtimeclass

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func messages(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		rc   *nodev1.RuntimeClass
		want []string
	}{
		{name: "valid", rc: &nodev1.RuntimeClass{Handler: "runc", Overhead: &nodev1.Overhead{PodFixed: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}}}, want: []string{}},
		{
			name: "handler not a DNS label",
			rc:   &nodev1.RuntimeClass{Handler: "Run.C"},
			want: []string{`handler: Invalid value: "Run.C": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`},
		},
		{
			name: "negative overhead",
			rc:   &nodev1.RuntimeClass{Handler: "runc", Overhead: &nodev1.Overhead{PodFixed: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("-1Mi")}}},
			want: []string{`overhead.limits[memory]: Invalid value: "-1Mi": must be greater than or equal to 0`},
		},
		{
			name: "bad toleration",
			rc: &nodev1.RuntimeClass{Handler: "runc", Scheduling: &nodev1.Scheduling{Tolerations: []corev1.Toleration{
				{Key: "k", Operator: corev1.TolerationOpExists, Value: "v"},
			}}},
			want: []string{`scheduling.tolerations[0].operator: Invalid value: {"key":"k","operator":"Exists","value":"v"}: value must be empty when ` + "`operator`" + ` is 'Exists'`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, messages(Validate(tt.rc))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandlerImmutable(t *testing.T) {
	old := &nodev1.RuntimeClass{Handler: "runc"}
	rc := &nodev1.RuntimeClass{Handler: "kata"}
	want := []string{`handler: Invalid value: "kata": field is immutable`}
	if diff := cmp.Diff(want, messages(Resource.ValidateUpdate(context.Background(), rc, old))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestRow(t *testing.T) {
	rc := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: "gvisor"}, Handler: "runsc"}
	if diff := cmp.Diff([]any{"gvisor", "runsc", "<unknown>"}, Resource.Row(rc)); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
}
