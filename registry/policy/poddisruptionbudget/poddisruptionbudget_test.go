package poddisruptionbudget

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
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
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	policy := policyv1.UnhealthyPodEvictionPolicyType("Never")
	tests := []struct {
		name string
		spec policyv1.PodDisruptionBudgetSpec
		want []string
	}{
		{name: "min available", spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: new(intstr.FromInt32(2)), Selector: sel}, want: []string{}},
		{name: "max unavailable percent", spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: new(intstr.FromString("25%")), Selector: sel}, want: []string{}},
		{
			name: "both set",
			spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: new(intstr.FromInt32(1)), MaxUnavailable: new(intstr.FromInt32(1))},
			want: []string{`spec: Invalid value: {"minAvailable":1,"maxUnavailable":1}: minAvailable and maxUnavailable cannot be both set`},
		},
		{
			name: "negative",
			spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: new(intstr.FromInt32(-1))},
			want: []string{"spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"},
		},
		{
			name: "over 100%",
			spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: new(intstr.FromString("150%"))},
			want: []string{`spec.maxUnavailable: Invalid value: "150%": must not be greater than 100%`},
		},
		{
			name: "not a percent",
			spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: new(intstr.FromString("half"))},
			want: []string{`spec.maxUnavailable: Invalid value: "half": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')`},
		},
		{
			name: "bad selector and policy",
			spec: policyv1.PodDisruptionBudgetSpec{
				Selector:                   &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Is"}}},
				UnhealthyPodEvictionPolicy: &policy,
			},
			want: []string{
				`spec.selector.matchExpressions[0].operator: Invalid value: "Is": not a valid selector operator`,
				`spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pdb := &policyv1.PodDisruptionBudget{Spec: tt.spec}
			if diff := cmp.Diff(tt.want, messages(Resource.Validate(context.Background(), pdb))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateStatus(t *testing.T) {
	s := &policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: -1, ExpectedPods: -2}
	want := []string{
		"status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0",
		"status.expectedPods: Invalid value: -2: must be greater than or equal to 0",
	}
	if diff := cmp.Diff(want, messages(ValidateStatus(s, field.NewPath("status")))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestRow(t *testing.T) {
	tests := []struct {
		name string
		pdb  *policyv1.PodDisruptionBudget
		want []any
	}{
		{
			name: "min available",
			pdb:  &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: new(intstr.FromString("50%"))}, Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 2}},
			want: []any{"web", "50%", "N/A", int64(2), "<unknown>"},
		},
		{
			name: "max unavailable",
			pdb:  &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: new(intstr.FromInt32(1))}},
			want: []any{"db", "N/A", "1", int64(0), "<unknown>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Resource.Row(tt.pdb)); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
		})
	}
}
