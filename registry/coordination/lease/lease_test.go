package lease

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	coordinationv1 "k8s.io/api/coordination/v1"
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

func TestValidateSpec(t *testing.T) {
	strategy := func(s string) *coordinationv1.CoordinatedLeaseStrategy {
		v := coordinationv1.CoordinatedLeaseStrategy(s)
		return &v
	}
	tests := []struct {
		name string
		spec coordinationv1.LeaseSpec
		want []string
	}{
		{name: "valid", spec: coordinationv1.LeaseSpec{HolderIdentity: new("a"), LeaseDurationSeconds: new(int32(15)), LeaseTransitions: new(int32(0))}, want: []string{}},
		{
			name: "zero duration and negative transitions",
			spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: new(int32(0)), LeaseTransitions: new(int32(-1))},
			want: []string{
				"spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
				"spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
			},
		},
		{
			name: "unknown strategy",
			spec: coordinationv1.LeaseSpec{Strategy: strategy("Newest")},
			want: []string{`spec.strategy.strategy: Unsupported value: "Newest": supported values: "OldestEmulationVersion"`},
		},
		{name: "custom strategy", spec: coordinationv1.LeaseSpec{Strategy: strategy("example.com/mine")}, want: []string{}},
		{
			name: "preferred holder without strategy",
			spec: coordinationv1.LeaseSpec{PreferredHolder: new("a")},
			want: []string{"spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := messages(ValidateSpec(&tt.spec, field.NewPath("spec")))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCoordinatedFieldsDropped(t *testing.T) {
	s := coordinationv1.OldestEmulationVersion
	l := &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{Strategy: &s, PreferredHolder: new("a")}}
	Resource.PrepareForCreate(context.Background(), l)
	if diff := cmp.Diff(coordinationv1.LeaseSpec{}, l.Spec); diff != "" {
		t.Errorf("create (-want +got):\n%s", diff)
	}
	old := &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{Strategy: &s}}
	l = &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{Strategy: &s, PreferredHolder: new("a")}}
	Resource.PrepareForUpdate(context.Background(), l, old)
	if diff := cmp.Diff(coordinationv1.LeaseSpec{Strategy: &s}, l.Spec); diff != "" {
		t.Errorf("update keeps a stored strategy (-want +got):\n%s", diff)
	}
}

func TestRow(t *testing.T) {
	tests := []struct {
		name  string
		lease *coordinationv1.Lease
		want  []any
	}{
		{name: "held", lease: &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "kube-scheduler"}, Spec: coordinationv1.LeaseSpec{HolderIdentity: new("node-1_abc")}}, want: []any{"kube-scheduler", "node-1_abc", "<unknown>"}},
		{name: "free", lease: &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "l"}}, want: []any{"l", "", "<unknown>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Resource.Row(tt.lease)); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
		})
	}
}
