package priorityclass

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
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

func pc(name string, value int32) *schedulingv1.PriorityClass {
	return &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Value: value}
}

func TestValidate(t *testing.T) {
	bad := corev1.PreemptionPolicy("Sometimes")
	withPolicy := pc("high", 10)
	withPolicy.PreemptionPolicy = &bad
	tests := []struct {
		name string
		pc   *schedulingv1.PriorityClass
		want []string
	}{
		{name: "user class", pc: pc("high", HighestUserDefinablePriority), want: []string{}},
		{name: "system class", pc: pc("system-node-critical", 2000001000), want: []string{}},
		{name: "too high", pc: pc("high", HighestUserDefinablePriority+1), want: []string{"value: Forbidden: maximum allowed value of a user defined priority is 1000000000"}},
		{
			name: "reserved prefix",
			pc:   pc("system-mine", 5),
			want: []string{"metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"},
		},
		{
			name: "system class with another value",
			pc:   pc("system-cluster-critical", 5),
			want: []string{"metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-cluster-critical PriorityClass must be 2000000000"},
		},
		{
			name: "bad preemption policy",
			pc:   withPolicy,
			want: []string{`preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, messages(Validate(tt.pc))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	never := corev1.PreemptNever
	lower := corev1.PreemptLowerPriority
	old := pc("high", 10)
	old.PreemptionPolicy = &lower
	updated := pc("high", 11)
	updated.PreemptionPolicy = &never
	want := []string{
		"value: Forbidden: may not be changed in an update.",
		`preemptionPolicy: Invalid value: "Never": field is immutable`,
	}
	if diff := cmp.Diff(want, messages(Resource.ValidateUpdate(context.Background(), updated, old))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestRow(t *testing.T) {
	p := pc("high", 1000)
	p.GlobalDefault = true
	never := corev1.PreemptNever
	p.PreemptionPolicy = &never
	want := []any{"high", int64(1000), true, "<unknown>", "Never"}
	if diff := cmp.Diff(want, Resource.Row(p)); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
}

func TestDefaultConflict(t *testing.T) {
	existing := []schedulingv1.PriorityClass{*pc("low", 1), *pc("default", 2)}
	existing[1].GlobalDefault = true
	tests := []struct {
		name string
		pc   *schedulingv1.PriorityClass
		want string
	}{
		{name: "not default", pc: pc("new", 3), want: ""},
		{name: "same class", pc: func() *schedulingv1.PriorityClass { p := pc("default", 2); p.GlobalDefault = true; return p }(), want: ""},
		{
			name: "second default",
			pc:   func() *schedulingv1.PriorityClass { p := pc("new", 3); p.GlobalDefault = true; return p }(),
			want: `priorityclasses.scheduling.k8s.io "new" is forbidden: PriorityClass default is already marked as default. Only one default can exist`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if err := DefaultConflict(tt.pc, existing); err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}
