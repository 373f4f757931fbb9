package volumeattachment

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
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

func attachment() *storagev1.VolumeAttachment {
	return &storagev1.VolumeAttachment{
		ObjectMeta: metav1.ObjectMeta{Name: "csi-123"},
		Spec: storagev1.VolumeAttachmentSpec{
			Attacher: "ebs.csi.aws.com",
			Source:   storagev1.VolumeAttachmentSource{PersistentVolumeName: new("pv-1")},
			NodeName: "node-1",
		},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*storagev1.VolumeAttachment)
		want   []string
	}{
		{name: "valid", change: func(*storagev1.VolumeAttachment) {}, want: []string{}},
		{
			name: "empty",
			change: func(va *storagev1.VolumeAttachment) {
				va.Spec = storagev1.VolumeAttachmentSpec{}
			},
			want: []string{
				"spec.attacher: Required value",
				"spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName",
				`spec.nodeName: Invalid value: "": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
			},
		},
		{
			name: "both sources",
			change: func(va *storagev1.VolumeAttachment) {
				va.Spec.Source.InlineVolumeSpec = &corev1.PersistentVolumeSpec{}
			},
			want: []string{"spec.source: Forbidden: must specify exactly one of inlineVolumeSpec and persistentVolumeName"},
		},
		{
			name: "status",
			change: func(va *storagev1.VolumeAttachment) {
				va.Status.AttachError = &storagev1.VolumeError{Message: strings.Repeat("x", MaxErrorMessageSize+1), ErrorCode: new(int32(-1))}
			},
			want: []string{
				"status.attachError.message: Too long: may not be more than 262144 bytes",
				"status.attachError.errorCode: Invalid value: -1: must be between 0 and 2147483647, inclusive",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			va := attachment()
			tt.change(va)
			if diff := cmp.Diff(tt.want, messages(Resource.Validate(context.Background(), va))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSpecImmutable(t *testing.T) {
	old := attachment()
	va := attachment()
	va.Spec.NodeName = "node-2"
	got := messages(Resource.ValidateUpdate(context.Background(), va, old))
	if len(got) != 1 || !strings.HasPrefix(got[0], "spec: Invalid value: ") || !strings.HasSuffix(got[0], ": field is immutable") {
		t.Errorf("errors = %q, want spec immutable", got)
	}
}

func TestRow(t *testing.T) {
	va := attachment()
	va.Status.Attached = true
	want := []any{"csi-123", "ebs.csi.aws.com", "pv-1", "node-1", true, "<unknown>"}
	if diff := cmp.Diff(want, Resource.Row(va)); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
}
