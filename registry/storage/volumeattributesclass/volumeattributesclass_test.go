package volumeattributesclass

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	storagev1 "k8s.io/api/storage/v1"
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

func vac(driver string, params map[string]string) *storagev1.VolumeAttributesClass {
	return &storagev1.VolumeAttributesClass{ObjectMeta: metav1.ObjectMeta{Name: "gold"}, DriverName: driver, Parameters: params}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		c    *storagev1.VolumeAttributesClass
		want []string
	}{
		{name: "valid", c: vac("ebs.csi.aws.com", map[string]string{"iops": "4000"}), want: []string{}},
		{
			name: "empty",
			c:    vac("", nil),
			want: []string{"driverName: Required value", "parameters: Required value: must contain at least one key/value pair"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, messages(Resource.Validate(context.Background(), tt.c))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	old := vac("ebs.csi.aws.com", map[string]string{"iops": "4000"})
	c := vac("other.example.com", map[string]string{"iops": "5000"})
	want := []string{
		"driverName: Forbidden: updates to driverName are forbidden.",
		"parameters: Forbidden: updates to parameters are forbidden.",
	}
	if diff := cmp.Diff(want, messages(Resource.ValidateUpdate(context.Background(), c, old))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestRow(t *testing.T) {
	c := vac("ebs.csi.aws.com", nil)
	c.Annotations = map[string]string{DefaultAnnotation: "true"}
	if diff := cmp.Diff([]any{"gold (default)", "ebs.csi.aws.com", "<unknown>"}, Resource.Row(c)); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
}
