package scheme

import (
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// hpaDefaultCPUUtilization is the target average CPU utilization (percent) an
// HPA gets when it names no metric at all.
const hpaDefaultCPUUtilization int32 = 80

// addAutoscalingDefaults registers the autoscaling/v1 and v2 defaulters. The v2
// types are also the group's internal types, so their defaulter is the one
// Scheme.Default applies to stored objects as well.
func addAutoscalingDefaults(s *runtime.Scheme) {
	addGroupDefaulter(s, defaultHPAv1)
	addGroupDefaulter(s, func(l *autoscalingv1.HorizontalPodAutoscalerList) { defaultEach(l.Items, defaultHPAv1) })
	addGroupDefaulter(s, defaultHPAv2)
	addGroupDefaulter(s, func(l *autoscalingv2.HorizontalPodAutoscalerList) { defaultEach(l.Items, defaultHPAv2) })
}

// defaultHPAv1 only fills minReplicas: the implicit CPU target of a v1 object
// is added when it is converted, where the metrics annotation is visible.
func defaultHPAv1(hpa *autoscalingv1.HorizontalPodAutoscaler) {
	if hpa.Spec.MinReplicas == nil {
		hpa.Spec.MinReplicas = new(int32(1))
	}
}

func defaultHPAv2(hpa *autoscalingv2.HorizontalPodAutoscaler) {
	spec := &hpa.Spec
	if spec.MinReplicas == nil {
		spec.MinReplicas = new(int32(1))
	}
	if len(spec.Metrics) == 0 {
		spec.Metrics = []autoscalingv2.MetricSpec{hpaDefaultCPUMetric()}
	}
	// A behavior, once given, is completed in both directions; an absent one
	// stays absent (the controller then uses its own flags for scale-down).
	if spec.Behavior != nil {
		spec.Behavior.ScaleUp = completeScalingRules(spec.Behavior.ScaleUp, hpaScaleUpRules())
		spec.Behavior.ScaleDown = completeScalingRules(spec.Behavior.ScaleDown, hpaScaleDownRules())
	}
}

// hpaDefaultCPUMetric is the metric an HPA without metrics scales on.
func hpaDefaultCPUMetric() autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceCPU,
			Target: autoscalingv2.MetricTarget{
				Type:               autoscalingv2.UtilizationMetricType,
				AverageUtilization: new(hpaDefaultCPUUtilization),
			},
		},
	}
}

// hpaScaleUpRules are the scale-up rules the controller used before behavior
// existed: no stabilization, and per 15s the larger of +4 pods or +100%.
func hpaScaleUpRules() *autoscalingv2.HPAScalingRules {
	return &autoscalingv2.HPAScalingRules{
		StabilizationWindowSeconds: new(int32(0)),
		SelectPolicy:               new(autoscalingv2.MaxChangePolicySelect),
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
}

// hpaScaleDownRules allow removing every pod per 15s. The stabilization window
// is left unset on purpose: the controller's command-line flag supplies it.
func hpaScaleDownRules() *autoscalingv2.HPAScalingRules {
	return &autoscalingv2.HPAScalingRules{
		SelectPolicy: new(autoscalingv2.MaxChangePolicySelect),
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
}

// completeScalingRules returns defaults overlaid with every field the user set
// in given. A policies list counts as set whenever it is non-nil, even empty.
func completeScalingRules(given, defaults *autoscalingv2.HPAScalingRules) *autoscalingv2.HPAScalingRules {
	if given == nil {
		return defaults
	}
	if given.StabilizationWindowSeconds != nil {
		defaults.StabilizationWindowSeconds = given.StabilizationWindowSeconds
	}
	if given.SelectPolicy != nil {
		defaults.SelectPolicy = given.SelectPolicy
	}
	if given.Policies != nil {
		defaults.Policies = given.Policies
	}
	if given.Tolerance != nil {
		defaults.Tolerance = given.Tolerance
	}
	return defaults
}
