package csinode

import (
	"context"
	"strings"
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

func node(drivers ...storagev1.CSINodeDriver) *storagev1.CSINode {
	return &storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}, Spec: storagev1.CSINodeSpec{Drivers: drivers}}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		n    *storagev1.CSINode
		want []string
	}{
		{name: "valid", n: node(storagev1.CSINodeDriver{Name: "ebs.csi.aws.com", NodeID: "i-123", TopologyKeys: []string{"topology.ebs.csi.aws.com/zone"}}), want: []string{}},
		{
			name: "bad drivers",
			n: node(
				storagev1.CSINodeDriver{Name: "ebs.csi.aws.com", NodeID: strings.Repeat("x", 257), Allocatable: &storagev1.VolumeNodeResources{Count: new(int32(-1))}},
				storagev1.CSINodeDriver{Name: "ebs.csi.aws.com", TopologyKeys: []string{"zone", "zone"}},
			),
			want: []string{
				`spec.drivers[0].nodeID: Invalid value: "` + strings.Repeat("x", 257) + `": must be 256 characters or less`,
				"spec.drivers[0].allocatable.count: Invalid value: -1: must be greater than or equal to 0",
				"spec.drivers[1].nodeID: Required value",
				`spec.drivers[1].name: Duplicate value: "ebs.csi.aws.com"`,
				`spec.drivers[1]: Duplicate value: "zone"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, messages(Resource.Validate(context.Background(), tt.n))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	old := node(storagev1.CSINodeDriver{Name: "d.example.com", NodeID: "a", Allocatable: &storagev1.VolumeNodeResources{Count: new(int32(10))}})
	tests := []struct {
		name   string
		change func(*storagev1.CSINode)
		want   []string
	}{
		{name: "count changes", change: func(n *storagev1.CSINode) { n.Spec.Drivers[0].Allocatable.Count = new(int32(20)) }, want: []string{}},
		{
			name:   "node ID changes",
			change: func(n *storagev1.CSINode) { n.Spec.Drivers[0].NodeID = "b" },
			want:   []string{`spec.drivers: Invalid value: {"name":"d.example.com","nodeID":"b","topologyKeys":null}: field is immutable`},
		},
		{name: "driver added", change: func(n *storagev1.CSINode) {
			n.Spec.Drivers = append(n.Spec.Drivers, storagev1.CSINodeDriver{Name: "e.example.com", NodeID: "x"})
		}, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := old.DeepCopy()
			tt.change(n)
			if diff := cmp.Diff(tt.want, messages(Resource.ValidateUpdate(context.Background(), n, old))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	health := []storagev1.StorageHealth{{Name: "d.example.com", HealthConditions: []storagev1.StorageHealthCondition{{Status: "Down"}}}}
	n := node()
	n.Status.StorageHealth = health
	Resource.PrepareForStatusUpdate(context.Background(), n, node())
	if n.Status.StorageHealth != nil {
		t.Errorf("storageHealth kept while CSIVolumeHealth is off: %v", n.Status.StorageHealth)
	}
	want := []string{
		`status.storageHealth[0].healthConditions[0].status: Unsupported value: "Down": supported values: "StorageDegraded", "StorageUnreachable"`,
		"status.storageHealth[0].healthConditions[0].reason: Required value",
	}
	got := messages(ValidateStatus(&storagev1.CSINodeStatus{StorageHealth: health}, field.NewPath("status")))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestRow(t *testing.T) {
	n := node(storagev1.CSINodeDriver{Name: "a"}, storagev1.CSINodeDriver{Name: "b"})
	if diff := cmp.Diff([]any{"node-1", int64(2), "<unknown>"}, Resource.Row(n)); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
}
