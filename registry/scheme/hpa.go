package scheme

import (
	"encoding/json"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
)

// Annotations through which an autoscaling/v1 HorizontalPodAutoscaler carries
// what only v2 can express, so that a v1 client reading and writing an object
// back loses nothing. They exist only in the v1 form: converting to v2 moves
// their content into fields and removes them.
const (
	hpaMetricSpecsAnnotation    = "autoscaling.alpha.kubernetes.io/metrics"
	hpaMetricStatusesAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics"
	hpaConditionsAnnotation     = "autoscaling.alpha.kubernetes.io/conditions"
	hpaBehaviorAnnotation       = "autoscaling.alpha.kubernetes.io/behavior"
	// The beta API versions keep the scaling tolerances in these two; v1 has
	// them inside the behavior annotation, but drops them like the others.
	hpaScaleDownToleranceAnnotation = "autoscaling.alpha.kubernetes.io/scale-down-tolerance"
	hpaScaleUpToleranceAnnotation   = "autoscaling.alpha.kubernetes.io/scale-up-tolerance"
)

var hpaRoundTripAnnotations = []string{
	hpaMetricSpecsAnnotation,
	hpaMetricStatusesAnnotation,
	hpaConditionsAnnotation,
	hpaBehaviorAnnotation,
	hpaScaleDownToleranceAnnotation,
	hpaScaleUpToleranceAnnotation,
}

// addHPAConversions registers the conversions between autoscaling/v1
// HorizontalPodAutoscaler and the v2 form Capstan stores. The v2 Go types are
// also the group's internal types, so these functions serve v1<->internal as
// well as direct v1<->v2 conversion.
func addHPAConversions(s *runtime.Scheme) error {
	funcs := []struct {
		in, out any
		fn      conversion.ConversionFunc
	}{
		{(*autoscalingv1.HorizontalPodAutoscaler)(nil), (*autoscalingv2.HorizontalPodAutoscaler)(nil),
			func(in, out any, _ conversion.Scope) error {
				return convertHPAv1ToV2(in.(*autoscalingv1.HorizontalPodAutoscaler), out.(*autoscalingv2.HorizontalPodAutoscaler))
			}},
		{(*autoscalingv2.HorizontalPodAutoscaler)(nil), (*autoscalingv1.HorizontalPodAutoscaler)(nil),
			func(in, out any, _ conversion.Scope) error {
				return convertHPAv2ToV1(in.(*autoscalingv2.HorizontalPodAutoscaler), out.(*autoscalingv1.HorizontalPodAutoscaler))
			}},
		{(*autoscalingv1.HorizontalPodAutoscalerList)(nil), (*autoscalingv2.HorizontalPodAutoscalerList)(nil),
			func(in, out any, _ conversion.Scope) error {
				return convertHPAListV1ToV2(in.(*autoscalingv1.HorizontalPodAutoscalerList), out.(*autoscalingv2.HorizontalPodAutoscalerList))
			}},
		{(*autoscalingv2.HorizontalPodAutoscalerList)(nil), (*autoscalingv1.HorizontalPodAutoscalerList)(nil),
			func(in, out any, _ conversion.Scope) error {
				return convertHPAListV2ToV1(in.(*autoscalingv2.HorizontalPodAutoscalerList), out.(*autoscalingv1.HorizontalPodAutoscalerList))
			}},
	}
	for _, f := range funcs {
		if err := s.AddConversionFunc(f.in, f.out, f.fn); err != nil {
			return err
		}
	}
	return nil
}

func convertHPAListV1ToV2(in *autoscalingv1.HorizontalPodAutoscalerList, out *autoscalingv2.HorizontalPodAutoscalerList) error {
	out.ListMeta = *in.ListMeta.DeepCopy()
	out.Items = nil
	if in.Items != nil {
		out.Items = make([]autoscalingv2.HorizontalPodAutoscaler, len(in.Items))
	}
	for i := range in.Items {
		if err := convertHPAv1ToV2(&in.Items[i], &out.Items[i]); err != nil {
			return err
		}
	}
	return nil
}

func convertHPAListV2ToV1(in *autoscalingv2.HorizontalPodAutoscalerList, out *autoscalingv1.HorizontalPodAutoscalerList) error {
	out.ListMeta = *in.ListMeta.DeepCopy()
	out.Items = nil
	if in.Items != nil {
		out.Items = make([]autoscalingv1.HorizontalPodAutoscaler, len(in.Items))
	}
	for i := range in.Items {
		if err := convertHPAv2ToV1(&in.Items[i], &out.Items[i]); err != nil {
			return err
		}
	}
	return nil
}

// isCPUUtilizationMetric reports whether m is the one kind of metric v1 has a
// field for: a Resource cpu metric targeting an average utilization.
func isCPUUtilizationMetric(m *autoscalingv2.MetricSpec) bool {
	return m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil &&
		m.Resource.Name == corev1.ResourceCPU && m.Resource.Target.AverageUtilization != nil
}

// convertHPAv2ToV1 renders a stored HPA for a v1 client: the CPU utilization
// target and current value get v1's fields, the rest goes to annotations.
func convertHPAv2ToV1(in *autoscalingv2.HorizontalPodAutoscaler, out *autoscalingv1.HorizontalPodAutoscaler) error {
	in = in.DeepCopy() // everything below may then share memory with in
	out.ObjectMeta = in.ObjectMeta
	// Annotations of this kind found on the stored object were not produced
	// from it and would contradict its fields.
	dropHPARoundTripAnnotations(&out.ObjectMeta.Annotations)

	out.Spec = autoscalingv1.HorizontalPodAutoscalerSpec{
		ScaleTargetRef: autoscalingv1.CrossVersionObjectReference(in.Spec.ScaleTargetRef),
		MinReplicas:    in.Spec.MinReplicas,
		MaxReplicas:    in.Spec.MaxReplicas,
	}
	// The first cpu Resource metric decides, whatever its target kind.
	for i := range in.Spec.Metrics {
		m := &in.Spec.Metrics[i]
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU {
			out.Spec.TargetCPUUtilizationPercentage = m.Resource.Target.AverageUtilization
			break
		}
	}

	out.Status = autoscalingv1.HorizontalPodAutoscalerStatus{
		ObservedGeneration: in.Status.ObservedGeneration,
		LastScaleTime:      in.Status.LastScaleTime,
		CurrentReplicas:    in.Status.CurrentReplicas,
		DesiredReplicas:    in.Status.DesiredReplicas,
	}
	// Here the last cpu Resource status with a utilization wins.
	for i := range in.Status.CurrentMetrics {
		m := &in.Status.CurrentMetrics[i]
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU &&
			m.Resource.Current.AverageUtilization != nil {
			out.Status.CurrentCPUUtilizationPercentage = m.Resource.Current.AverageUtilization
		}
	}

	var others []autoscalingv1.MetricSpec
	for i := range in.Spec.Metrics {
		if !isCPUUtilizationMetric(&in.Spec.Metrics[i]) {
			others = append(others, metricSpecToV1(&in.Spec.Metrics[i]))
		}
	}
	if len(others) > 0 {
		if err := setJSONAnnotation(&out.ObjectMeta.Annotations, hpaMetricSpecsAnnotation, others); err != nil {
			return err
		}
	}
	// Every current metric is kept, the cpu one included: its raw value has
	// no v1 field.
	if len(in.Status.CurrentMetrics) > 0 {
		statuses := make([]autoscalingv1.MetricStatus, len(in.Status.CurrentMetrics))
		for i := range in.Status.CurrentMetrics {
			statuses[i] = metricStatusToV1(&in.Status.CurrentMetrics[i])
		}
		if err := setJSONAnnotation(&out.ObjectMeta.Annotations, hpaMetricStatusesAnnotation, statuses); err != nil {
			return err
		}
	}
	if in.Spec.Behavior != nil {
		if err := setJSONAnnotation(&out.ObjectMeta.Annotations, hpaBehaviorAnnotation, behaviorToAnnotation(in.Spec.Behavior)); err != nil {
			return err
		}
	}
	if len(in.Status.Conditions) > 0 {
		conditions := make([]autoscalingv1.HorizontalPodAutoscalerCondition, len(in.Status.Conditions))
		for i, c := range in.Status.Conditions {
			conditions[i] = autoscalingv1.HorizontalPodAutoscalerCondition{
				Type:               autoscalingv1.HorizontalPodAutoscalerConditionType(c.Type),
				Status:             c.Status,
				LastTransitionTime: c.LastTransitionTime,
				Reason:             c.Reason,
				Message:            c.Message,
				ObservedGeneration: c.ObservedGeneration,
			}
		}
		if err := setJSONAnnotation(&out.ObjectMeta.Annotations, hpaConditionsAnnotation, conditions); err != nil {
			return err
		}
	}
	return nil
}

// convertHPAv1ToV2 turns a v1 HPA into the stored form, reading back what
// convertHPAv2ToV1 put in annotations. Malformed annotations are ignored, the
// way upstream only moves well-formed data into fields; all of them are
// dropped from the result either way.
func convertHPAv1ToV2(in *autoscalingv1.HorizontalPodAutoscaler, out *autoscalingv2.HorizontalPodAutoscaler) error {
	in = in.DeepCopy()
	out.ObjectMeta = in.ObjectMeta
	annotations := in.Annotations

	out.Spec = autoscalingv2.HorizontalPodAutoscalerSpec{
		ScaleTargetRef: autoscalingv2.CrossVersionObjectReference(in.Spec.ScaleTargetRef),
		MinReplicas:    in.Spec.MinReplicas,
		MaxReplicas:    in.Spec.MaxReplicas,
	}
	if in.Spec.TargetCPUUtilizationPercentage != nil {
		out.Spec.Metrics = []autoscalingv2.MetricSpec{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU,
				Target: autoscalingv2.MetricTarget{
					Type:               autoscalingv2.UtilizationMetricType,
					AverageUtilization: in.Spec.TargetCPUUtilizationPercentage,
				},
			},
		}}
	}

	out.Status = autoscalingv2.HorizontalPodAutoscalerStatus{
		ObservedGeneration: in.Status.ObservedGeneration,
		LastScaleTime:      in.Status.LastScaleTime,
		CurrentReplicas:    in.Status.CurrentReplicas,
		DesiredReplicas:    in.Status.DesiredReplicas,
	}
	if in.Status.CurrentCPUUtilizationPercentage != nil {
		out.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricStatus{
				Name:    corev1.ResourceCPU,
				Current: autoscalingv2.MetricValueStatus{AverageUtilization: in.Status.CurrentCPUUtilizationPercentage},
			},
		}}
	}

	var others []autoscalingv1.MetricSpec
	if readJSONAnnotation(annotations, hpaMetricSpecsAnnotation, &others) {
		// The annotated metrics come first, the one from the v1 field last.
		metrics := make([]autoscalingv2.MetricSpec, 0, len(others)+len(out.Spec.Metrics))
		for i := range others {
			metrics = append(metrics, metricSpecFromV1(&others[i]))
		}
		out.Spec.Metrics = append(metrics, out.Spec.Metrics...)
	}
	var behavior hpaBehaviorJSON
	if readJSONAnnotation(annotations, hpaBehaviorAnnotation, &behavior) && (behavior.ScaleUp != nil || behavior.ScaleDown != nil) {
		out.Spec.Behavior = behaviorFromAnnotation(&behavior)
	}
	var statuses []autoscalingv1.MetricStatus
	if readJSONAnnotation(annotations, hpaMetricStatusesAnnotation, &statuses) {
		// These carry more than the v1 current utilization field: they win.
		out.Status.CurrentMetrics = make([]autoscalingv2.MetricStatus, len(statuses))
		for i := range statuses {
			out.Status.CurrentMetrics[i] = metricStatusFromV1(&statuses[i])
		}
	}
	// v1 never required a metric: the controller used to assume the CPU
	// default. It is made explicit here, where the annotated metrics are known.
	if len(out.Spec.Metrics) == 0 {
		out.Spec.Metrics = []autoscalingv2.MetricSpec{hpaDefaultCPUMetric()}
	}
	var conditions []autoscalingv1.HorizontalPodAutoscalerCondition
	if readJSONAnnotation(annotations, hpaConditionsAnnotation, &conditions) {
		out.Status.Conditions = make([]autoscalingv2.HorizontalPodAutoscalerCondition, len(conditions))
		for i, c := range conditions {
			out.Status.Conditions[i] = autoscalingv2.HorizontalPodAutoscalerCondition{
				Type:               autoscalingv2.HorizontalPodAutoscalerConditionType(c.Type),
				Status:             c.Status,
				LastTransitionTime: c.LastTransitionTime,
				Reason:             c.Reason,
				Message:            c.Message,
				ObservedGeneration: c.ObservedGeneration,
			}
		}
	}

	dropHPARoundTripAnnotations(&out.ObjectMeta.Annotations)
	return nil
}

// dropHPARoundTripAnnotations removes the round-trip annotations from a map the
// caller owns, leaving nil rather than an empty map.
func dropHPARoundTripAnnotations(annotations *map[string]string) {
	for _, key := range hpaRoundTripAnnotations {
		delete(*annotations, key)
	}
	if len(*annotations) == 0 {
		*annotations = nil
	}
}

func setJSONAnnotation(annotations *map[string]string, key string, value any) error {
	data, err := json.Marshal(value)
	if err != nil {
		return err
	}
	if *annotations == nil {
		*annotations = map[string]string{}
	}
	(*annotations)[key] = string(data)
	return nil
}

// readJSONAnnotation decodes annotations[key] into into, and reports whether
// the annotation was there and well-formed.
func readJSONAnnotation(annotations map[string]string, key string, into any) bool {
	data, ok := annotations[key]
	if !ok {
		return false
	}
	return json.Unmarshal([]byte(data), into) == nil
}

// The behavior annotation holds the JSON of upstream's internal behavior
// type, which has no json tags: keys are the Go field names and unset
// pointers are written as null. These mirror types reproduce that encoding;
// decoding also accepts the camelCase keys of v2, as encoding/json matches
// keys case-insensitively.
type hpaBehaviorJSON struct {
	ScaleUp   *hpaScalingRulesJSON
	ScaleDown *hpaScalingRulesJSON
}

type hpaScalingRulesJSON struct {
	StabilizationWindowSeconds *int32
	SelectPolicy               *autoscalingv2.ScalingPolicySelect
	Policies                   []hpaScalingPolicyJSON
	Tolerance                  *resource.Quantity
}

type hpaScalingPolicyJSON struct {
	Type          autoscalingv2.HPAScalingPolicyType
	Value         int32
	PeriodSeconds int32
}

func behaviorToAnnotation(b *autoscalingv2.HorizontalPodAutoscalerBehavior) *hpaBehaviorJSON {
	rules := func(r *autoscalingv2.HPAScalingRules) *hpaScalingRulesJSON {
		if r == nil {
			return nil
		}
		out := &hpaScalingRulesJSON{
			StabilizationWindowSeconds: r.StabilizationWindowSeconds,
			SelectPolicy:               r.SelectPolicy,
			Tolerance:                  r.Tolerance,
		}
		if r.Policies != nil {
			out.Policies = make([]hpaScalingPolicyJSON, len(r.Policies))
			for i, p := range r.Policies {
				out.Policies[i] = hpaScalingPolicyJSON(p)
			}
		}
		return out
	}
	return &hpaBehaviorJSON{ScaleUp: rules(b.ScaleUp), ScaleDown: rules(b.ScaleDown)}
}

func behaviorFromAnnotation(b *hpaBehaviorJSON) *autoscalingv2.HorizontalPodAutoscalerBehavior {
	rules := func(r *hpaScalingRulesJSON) *autoscalingv2.HPAScalingRules {
		if r == nil {
			return nil
		}
		out := &autoscalingv2.HPAScalingRules{
			StabilizationWindowSeconds: r.StabilizationWindowSeconds,
			SelectPolicy:               r.SelectPolicy,
			Tolerance:                  r.Tolerance,
		}
		if r.Policies != nil {
			out.Policies = make([]autoscalingv2.HPAScalingPolicy, len(r.Policies))
			for i, p := range r.Policies {
				out.Policies[i] = autoscalingv2.HPAScalingPolicy(p)
			}
		}
		return out
	}
	return &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: rules(b.ScaleUp), ScaleDown: rules(b.ScaleDown)}
}

// metricSpecToV1 writes a v2 metric in the v1 (v2beta1-shaped) metric form
// used inside the metrics annotation.
func metricSpecToV1(in *autoscalingv2.MetricSpec) autoscalingv1.MetricSpec {
	out := autoscalingv1.MetricSpec{Type: autoscalingv1.MetricSourceType(in.Type)}
	if o := in.Object; o != nil {
		out.Object = &autoscalingv1.ObjectMetricSource{
			Target:       autoscalingv1.CrossVersionObjectReference(o.DescribedObject),
			MetricName:   o.Metric.Name,
			Selector:     o.Metric.Selector,
			AverageValue: o.Target.AverageValue,
		}
		if o.Target.Value != nil {
			out.Object.TargetValue = *o.Target.Value
		}
	}
	if p := in.Pods; p != nil {
		out.Pods = &autoscalingv1.PodsMetricSource{MetricName: p.Metric.Name, Selector: p.Metric.Selector}
		if p.Target.AverageValue != nil {
			out.Pods.TargetAverageValue = *p.Target.AverageValue
		}
	}
	if r := in.Resource; r != nil {
		out.Resource = &autoscalingv1.ResourceMetricSource{
			Name:                     r.Name,
			TargetAverageUtilization: r.Target.AverageUtilization,
			TargetAverageValue:       r.Target.AverageValue,
		}
	}
	if r := in.ContainerResource; r != nil {
		out.ContainerResource = &autoscalingv1.ContainerResourceMetricSource{
			Name:                     r.Name,
			Container:                r.Container,
			TargetAverageUtilization: r.Target.AverageUtilization,
			TargetAverageValue:       r.Target.AverageValue,
		}
	}
	if e := in.External; e != nil {
		out.External = &autoscalingv1.ExternalMetricSource{
			MetricName:         e.Metric.Name,
			MetricSelector:     e.Metric.Selector,
			TargetValue:        e.Target.Value,
			TargetAverageValue: e.Target.AverageValue,
		}
	}
	return out
}

// metricSpecFromV1 reverses metricSpecToV1. A v1 metric has no target type:
// it is inferred from which value is set.
func metricSpecFromV1(in *autoscalingv1.MetricSpec) autoscalingv2.MetricSpec {
	out := autoscalingv2.MetricSpec{Type: autoscalingv2.MetricSourceType(in.Type)}
	if o := in.Object; o != nil {
		target := autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: &o.TargetValue, AverageValue: o.AverageValue}
		if o.AverageValue != nil {
			target.Type = autoscalingv2.AverageValueMetricType
		}
		out.Object = &autoscalingv2.ObjectMetricSource{
			DescribedObject: autoscalingv2.CrossVersionObjectReference(o.Target),
			Target:          target,
			Metric:          autoscalingv2.MetricIdentifier{Name: o.MetricName, Selector: o.Selector},
		}
	}
	if p := in.Pods; p != nil {
		out.Pods = &autoscalingv2.PodsMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: p.MetricName, Selector: p.Selector},
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &p.TargetAverageValue},
		}
	}
	if r := in.Resource; r != nil {
		out.Resource = &autoscalingv2.ResourceMetricSource{
			Name:   r.Name,
			Target: resourceTargetFromV1(r.TargetAverageUtilization, r.TargetAverageValue),
		}
	}
	if r := in.ContainerResource; r != nil {
		out.ContainerResource = &autoscalingv2.ContainerResourceMetricSource{
			Name:      r.Name,
			Container: r.Container,
			Target:    resourceTargetFromV1(r.TargetAverageUtilization, r.TargetAverageValue),
		}
	}
	if e := in.External; e != nil {
		target := autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, Value: e.TargetValue, AverageValue: e.TargetAverageValue}
		if e.TargetValue != nil {
			target.Type = autoscalingv2.ValueMetricType
		}
		out.External = &autoscalingv2.ExternalMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: e.MetricName, Selector: e.MetricSelector},
			Target: target,
		}
	}
	return out
}

func resourceTargetFromV1(utilization *int32, averageValue *resource.Quantity) autoscalingv2.MetricTarget {
	target := autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageUtilization: utilization, AverageValue: averageValue}
	if utilization != nil {
		target.Type = autoscalingv2.UtilizationMetricType
	}
	return target
}

// metricStatusToV1 writes a v2 current metric in the v1 form used inside the
// current-metrics annotation.
func metricStatusToV1(in *autoscalingv2.MetricStatus) autoscalingv1.MetricStatus {
	out := autoscalingv1.MetricStatus{Type: autoscalingv1.MetricSourceType(in.Type)}
	if o := in.Object; o != nil {
		out.Object = &autoscalingv1.ObjectMetricStatus{
			Target:       autoscalingv1.CrossVersionObjectReference(o.DescribedObject),
			MetricName:   o.Metric.Name,
			Selector:     o.Metric.Selector,
			AverageValue: o.Current.AverageValue,
		}
		if o.Current.Value != nil {
			out.Object.CurrentValue = *o.Current.Value
		}
	}
	if p := in.Pods; p != nil {
		out.Pods = &autoscalingv1.PodsMetricStatus{MetricName: p.Metric.Name, Selector: p.Metric.Selector}
		if p.Current.AverageValue != nil {
			out.Pods.CurrentAverageValue = *p.Current.AverageValue
		}
	}
	if r := in.Resource; r != nil {
		out.Resource = &autoscalingv1.ResourceMetricStatus{Name: r.Name, CurrentAverageUtilization: r.Current.AverageUtilization}
		if r.Current.AverageValue != nil {
			out.Resource.CurrentAverageValue = *r.Current.AverageValue
		}
	}
	if r := in.ContainerResource; r != nil {
		out.ContainerResource = &autoscalingv1.ContainerResourceMetricStatus{
			Name:                      r.Name,
			Container:                 r.Container,
			CurrentAverageUtilization: r.Current.AverageUtilization,
		}
		if r.Current.AverageValue != nil {
			out.ContainerResource.CurrentAverageValue = *r.Current.AverageValue
		}
	}
	if e := in.External; e != nil {
		out.External = &autoscalingv1.ExternalMetricStatus{
			MetricName:          e.Metric.Name,
			MetricSelector:      e.Metric.Selector,
			CurrentAverageValue: e.Current.AverageValue,
		}
		if e.Current.Value != nil {
			out.External.CurrentValue = *e.Current.Value
		}
	}
	return out
}

// metricStatusFromV1 reverses metricStatusToV1. The v1 form has non-pointer
// quantities, so the corresponding v2 values always come back set.
func metricStatusFromV1(in *autoscalingv1.MetricStatus) autoscalingv2.MetricStatus {
	out := autoscalingv2.MetricStatus{Type: autoscalingv2.MetricSourceType(in.Type)}
	if o := in.Object; o != nil {
		out.Object = &autoscalingv2.ObjectMetricStatus{
			Metric:          autoscalingv2.MetricIdentifier{Name: o.MetricName, Selector: o.Selector},
			Current:         autoscalingv2.MetricValueStatus{Value: &o.CurrentValue, AverageValue: o.AverageValue},
			DescribedObject: autoscalingv2.CrossVersionObjectReference(o.Target),
		}
	}
	if p := in.Pods; p != nil {
		out.Pods = &autoscalingv2.PodsMetricStatus{
			Metric:  autoscalingv2.MetricIdentifier{Name: p.MetricName, Selector: p.Selector},
			Current: autoscalingv2.MetricValueStatus{AverageValue: &p.CurrentAverageValue},
		}
	}
	if r := in.Resource; r != nil {
		out.Resource = &autoscalingv2.ResourceMetricStatus{
			Name:    r.Name,
			Current: autoscalingv2.MetricValueStatus{AverageValue: &r.CurrentAverageValue, AverageUtilization: r.CurrentAverageUtilization},
		}
	}
	if r := in.ContainerResource; r != nil {
		out.ContainerResource = &autoscalingv2.ContainerResourceMetricStatus{
			Name:      r.Name,
			Container: r.Container,
			Current:   autoscalingv2.MetricValueStatus{AverageValue: &r.CurrentAverageValue, AverageUtilization: r.CurrentAverageUtilization},
		}
	}
	if e := in.External; e != nil {
		out.External = &autoscalingv2.ExternalMetricStatus{
			Metric:  autoscalingv2.MetricIdentifier{Name: e.MetricName, Selector: e.MetricSelector},
			Current: autoscalingv2.MetricValueStatus{Value: &e.CurrentValue, AverageValue: e.CurrentAverageValue},
		}
	}
	return out
}
