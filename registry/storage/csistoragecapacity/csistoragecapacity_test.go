package csistoragecapacity

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	storagev1 "k8s.io/api/storage/v1"
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

func capacity(class string, q string) *storagev1.CSIStorageCapacity {
	c := &storagev1.CSIStorageCapacity{
		ObjectMeta:       metav1.ObjectMeta{Name: "csisc-1", Namespace: "kube-system"},
		NodeTopology:     &metav1.LabelSelector{MatchLabels: map[string]string{"topology.kubernetes.io/zone": "a"}},
		StorageClassName: class,
	}
	if q != "" {
		v := resource.MustParse(q)
		c.Capacity = &v
	}
	return c
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		c    *storagev1.CSIStorageCapacity
		want []string
	}{
		{name: "valid", c: capacity("fast", "10Gi"), want: []string{}},
		{
			name: "bad class and negative capacity",
			c:    capacity("Fast_SSD", "-1Gi"),
			want: []string{
				`storageClassName: Invalid value: "Fast_SSD": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
				`capacity: Invalid value: "-1Gi": must be greater than or equal to 0`,
			},
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
	old := capacity("fast", "10Gi")
	c := capacity("slow", "5Gi")
	c.NodeTopology = nil
	want := []string{
		"nodeTopology: Invalid value: null: field is immutable",
		`storageClassName: Invalid value: "slow": field is immutable`,
	}
	if diff := cmp.Diff(want, messages(Resource.ValidateUpdate(context.Background(), c, old))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestRow(t *testing.T) {
	if diff := cmp.Diff([]any{"csisc-1", "fast", "10Gi"}, Resource.Row(capacity("fast", "10Gi"))); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{"csisc-1", "fast", "<unset>"}, Resource.Row(capacity("fast", ""))); diff != "" {
		t.Errorf("row without capacity (-want +got):\n%s", diff)
	}
}

func TestWarnings(t *testing.T) {
	c := capacity("fast", "")
	c.NodeTopology = &metav1.LabelSelector{MatchLabels: map[string]string{"failure-domain.beta.kubernetes.io/zone": "a"}}
	want := []string{`nodeTopology.matchLabels.failure-domain.beta.kubernetes.io/zone: deprecated since v1.17; use "topology.kubernetes.io/zone" instead`}
	if diff := cmp.Diff(want, Resource.WarningsOnCreate(context.Background(), c)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}
