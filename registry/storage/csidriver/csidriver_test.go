package csidriver

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

func driver() *storagev1.CSIDriver {
	group := storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy
	return &storagev1.CSIDriver{
		ObjectMeta: metav1.ObjectMeta{Name: "ebs.csi.aws.com"},
		Spec: storagev1.CSIDriverSpec{
			AttachRequired: new(true), PodInfoOnMount: new(false), StorageCapacity: new(false), RequiresRepublish: new(false),
			SELinuxMount: new(false), FSGroupPolicy: &group, VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent},
		},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*storagev1.CSIDriver)
		want   []string
	}{
		{name: "valid", change: func(*storagev1.CSIDriver) {}, want: []string{}},
		{
			name: "unset and bad",
			change: func(d *storagev1.CSIDriver) {
				d.Spec.AttachRequired = nil
				p := storagev1.FSGroupPolicy("Always")
				d.Spec.FSGroupPolicy = &p
				d.Spec.VolumeLifecycleModes = []storagev1.VolumeLifecycleMode{"Inline"}
				d.Spec.NodeAllocatableUpdatePeriodSeconds = new(int64(5))
			},
			want: []string{
				"spec.attachedRequired: Required value",
				`spec.fsGroupPolicy: Unsupported value: "Always": supported values: "File", "None", "ReadWriteOnceWithFSType"`,
				`spec.volumeLifecycleModes: Unsupported value: "Inline": supported values: "Persistent", "Ephemeral"`,
				"spec.nodeAllocatableUpdatePeriodSeconds: Invalid value: 5: must be greater than or equal to 10 seconds",
			},
		},
		{
			name: "token requests",
			change: func(d *storagev1.CSIDriver) {
				d.Spec.TokenRequests = []storagev1.TokenRequest{{Audience: "a", ExpirationSeconds: new(int64(60))}, {Audience: "a"}}
			},
			want: []string{
				"spec.tokenRequests[0].expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes",
				`spec.tokenRequests[1].audience: Duplicate value: "a"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := driver()
			tt.change(d)
			if diff := cmp.Diff(tt.want, messages(Resource.Validate(context.Background(), d))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	old := driver()
	d := driver()
	d.Spec.AttachRequired = new(false)
	d.Spec.PodInfoOnMount = new(true)
	want := []string{"spec.attachedRequired: Invalid value: false: field is immutable"}
	if diff := cmp.Diff(want, messages(Resource.ValidateUpdate(context.Background(), d, old))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestValidateDriverName(t *testing.T) {
	want := []string{
		`driver: Too long: may not be more than 63 bytes`,
	}
	long := "a234567890123456789012345678901234567890123456789012345678901234"
	if diff := cmp.Diff(want, messages(ValidateDriverName(long, field.NewPath("driver")))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if got := messages(ValidateDriverName("Ebs.CSI.aws.com", field.NewPath("driver"))); len(got) != 0 {
		t.Errorf("mixed case rejected: %v", got)
	}
}

func TestRow(t *testing.T) {
	d := driver()
	d.Spec.TokenRequests = []storagev1.TokenRequest{{Audience: "vault"}, {Audience: "gcp"}}
	want := []any{"ebs.csi.aws.com", true, false, false, "vault,gcp", false, "Persistent", "<unknown>"}
	if diff := cmp.Diff(want, Resource.Row(d)); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	d.Spec = storagev1.CSIDriverSpec{}
	want = []any{"ebs.csi.aws.com", true, false, false, "<unset>", false, "<none>", "<unknown>"}
	if diff := cmp.Diff(want, Resource.Row(d)); diff != "" {
		t.Errorf("empty spec row (-want +got):\n%s", diff)
	}
}
