package horizontalpodautoscaler

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/scheme"
)

type fieldError struct {
	Type   field.ErrorType
	Field  string
	Detail string
}

func summarize(errs field.ErrorList) []fieldError {
	var out []fieldError
	for _, e := range errs {
		out = append(out, fieldError{e.Type, e.Field, e.Detail})
	}
	return out
}

func newHPA(mutate func(*autoscalingv2.HorizontalPodAutoscaler)) *autoscalingv2.HorizontalPodAutoscaler {
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MaxReplicas:    10,
		},
	}
	scheme.Scheme.Default(hpa)
	if mutate != nil {
		mutate(hpa)
	}
	return hpa
}

func quantity(s string) *resource.Quantity {
	q := resource.MustParse(s)
	return &q
}

func podsMetric(name, avg string) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: name},
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: quantity(avg)},
	}}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*autoscalingv2.HorizontalPodAutoscaler)
		want   []fieldError
	}{
		{name: "valid"},
		{
			name: "scale target",
			mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
				h.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{Name: "a/b"}
			},
			want: []fieldError{
				{field.ErrorTypeRequired, "spec.scaleTargetRef.kind", ""},
				{field.ErrorTypeInvalid, "spec.scaleTargetRef.name", `may not contain '/'`},
			},
		},
		{
			name:   "min replicas zero",
			mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MinReplicas = new(int32(0)) },
			want: []fieldError{
				{field.ErrorTypeInvalid, "spec.minReplicas", "must be greater than or equal to 1"},
				{field.ErrorTypeForbidden, "spec.metrics", "must specify at least one Object or External metric to support scaling to zero replicas"},
			},
		},
		{
			name: "max below min",
			mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
				h.Spec.MinReplicas = new(int32(5))
				h.Spec.MaxReplicas = 2
			},
			want: []fieldError{{field.ErrorTypeInvalid, "spec.maxReplicas", "must be greater than or equal to `minReplicas`"}},
		},
		{
			name:   "max zero",
			mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MaxReplicas = 0 },
			want: []fieldError{
				{field.ErrorTypeInvalid, "spec.maxReplicas", "must be greater than 0"},
				{field.ErrorTypeInvalid, "spec.maxReplicas", "must be greater than or equal to `minReplicas`"},
			},
		},
		{
			name: "resource metric without target",
			mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
				h.Spec.Metrics[0].Resource.Target = autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType}
			},
			want: []fieldError{{field.ErrorTypeRequired, "spec.metrics[0].resource.target.averageUtilization", "must set either a target raw value or a target utilization"}},
		},
		{
			name: "two sources",
			mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
				h.Spec.Metrics[0].Pods = podsMetric("rps", "10").Pods
			},
			want: []fieldError{{field.ErrorTypeForbidden, "spec.metrics[0].pods", "must populate the given metric source only"}},
		},
		{
			name: "source missing for type",
			mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
				h.Spec.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.ExternalMetricSourceType}}
			},
			want: []fieldError{{field.ErrorTypeRequired, "spec.metrics[0].external", "must populate information for the given metric source"}},
		},
		{
			name: "unknown type",
			mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
				h.Spec.Metrics = []autoscalingv2.MetricSpec{{Type: "Queue"}}
			},
			want: []fieldError{{field.ErrorTypeNotSupported, "spec.metrics[0].type", `supported values: "ContainerResource", "External", "Object", "Pods", "Resource"`}},
		},
		{
			name: "pods target",
			mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
				m := podsMetric("", "-1")
				m.Pods.Target.Type = "Percent"
				h.Spec.Metrics = []autoscalingv2.MetricSpec{m}
			},
			want: []fieldError{
				{field.ErrorTypeRequired, "spec.metrics[0].pods.metric.name", "must specify a metric name"},
				{field.ErrorTypeInvalid, "spec.metrics[0].pods.target.type", "must be either Utilization, Value, or AverageValue"},
				{field.ErrorTypeInvalid, "spec.metrics[0].pods.target.averageValue", "must be positive"},
			},
		},
		{
			name: "behavior",
			mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
				h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{
					StabilizationWindowSeconds: new(int32(4000)),
					Policies:                   []autoscalingv2.HPAScalingPolicy{{Type: "Nodes", Value: 0, PeriodSeconds: 3600}},
				}}
			},
			want: []fieldError{
				{field.ErrorTypeInvalid, "spec.behavior.scaleDown.stabilizationWindowSeconds", "must be less than or equal to 3600"},
				{field.ErrorTypeNotSupported, "spec.behavior.scaleDown.policies[0].type", `supported values: "Percent", "Pods"`},
				{field.ErrorTypeInvalid, "spec.behavior.scaleDown.policies[0].value", "must be greater than zero"},
				{field.ErrorTypeInvalid, "spec.behavior.scaleDown.policies[0].periodSeconds", "must be less than or equal to 1800"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := summarize(Resource.Validate(context.Background(), newHPA(tc.mutate)))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateUpdateKeepsScaleToZero(t *testing.T) {
	external := autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: "queue_depth"},
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: quantity("30")},
	}}
	old := newHPA(func(h *autoscalingv2.HorizontalPodAutoscaler) {
		h.Spec.MinReplicas = new(int32(0))
		h.Spec.Metrics = []autoscalingv2.MetricSpec{external}
	})
	hpa := old.DeepCopy()
	hpa.Spec.MaxReplicas = 20
	if diff := cmp.Diff([]fieldError(nil), summarize(Resource.ValidateUpdate(context.Background(), hpa, old))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestRow(t *testing.T) {
	objectTarget := autoscalingv2.MetricSpec{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
		DescribedObject: autoscalingv2.CrossVersionObjectReference{Kind: "Service", Name: "web"},
		Metric:          autoscalingv2.MetricIdentifier{Name: "rps"},
		Target:          autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: quantity("100")},
	}}
	tests := []struct {
		name   string
		mutate func(*autoscalingv2.HorizontalPodAutoscaler)
		want   []any
	}{
		{name: "defaulted cpu target, no status", want: []any{"web", "Deployment/web", "cpu: <unknown>/80%", "1", int64(10), int64(0), "<unknown>"}},
		{
			name: "current values and more than two metrics",
			mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
				h.Spec.MinReplicas = nil
				h.Spec.Metrics = append(h.Spec.Metrics, podsMetric("rps", "10"), objectTarget)
				h.Status.CurrentReplicas = 3
				h.Status.CurrentMetrics = []autoscalingv2.MetricStatus{
					{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: new(int32(45))}}},
					{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricStatus{Current: autoscalingv2.MetricValueStatus{AverageValue: quantity("12")}}},
				}
			},
			want: []any{"web", "Deployment/web", "cpu: 45%/80%, 12/10 + 1 more...", "<unset>", int64(10), int64(3), "<unknown>"},
		},
		{
			name:   "no metrics",
			mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.Metrics = nil },
			want:   []any{"web", "Deployment/web", "<none>", "1", int64(10), int64(0), "<unknown>"},
		},
		{
			name: "object metric",
			mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
				h.Spec.Metrics = []autoscalingv2.MetricSpec{objectTarget}
			},
			want: []any{"web", "Deployment/web", "<unknown>/100", "1", int64(10), int64(0), "<unknown>"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Resource.Row(newHPA(tc.mutate))); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
		})
	}
}
