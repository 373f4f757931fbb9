package scheme

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

var hpaTestTime = metav1.NewTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))

func hpaTarget() autoscalingv2.CrossVersionObjectReference {
	return autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"}
}

func hpaV1Target() autoscalingv1.CrossVersionObjectReference {
	return autoscalingv1.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"}
}

func hpaPodsMetric() autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: "qps"},
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: new(resource.MustParse("10"))},
	}}
}

func hpaCPUStatus(pct int32, value string) autoscalingv2.MetricStatus {
	return autoscalingv2.MetricStatus{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
		Name:    corev1.ResourceCPU,
		Current: autoscalingv2.MetricValueStatus{AverageUtilization: new(pct), AverageValue: new(resource.MustParse(value))},
	}}
}

// hpaFullV2 uses every part of v2 that v1 has no field for. Its CPU metric
// comes last, where a trip through v1 puts it back.
func hpaFullV2() *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", Annotations: map[string]string{"team": "a"}},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: hpaTarget(),
			MinReplicas:    new(int32(2)),
			MaxReplicas:    10,
			Metrics: []autoscalingv2.MetricSpec{
				hpaPodsMetric(),
				{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
					DescribedObject: autoscalingv2.CrossVersionObjectReference{Kind: "Ingress", Name: "main", APIVersion: "networking.k8s.io/v1"},
					Metric:          autoscalingv2.MetricIdentifier{Name: "rps", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}},
					Target:          autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: new(resource.MustParse("2k"))},
				}},
				{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
					Name: corev1.ResourceMemory, Container: "app",
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: new(int32(70))},
				}},
				{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: "queue"},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: new(resource.MustParse("30"))},
				}},
				groupCPUMetric(60),
			},
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleDown: &autoscalingv2.HPAScalingRules{
					StabilizationWindowSeconds: new(int32(60)),
					SelectPolicy:               new(autoscalingv2.MinChangePolicySelect),
					Policies:                   []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 30}},
					Tolerance:                  new(resource.MustParse("50m")),
				},
			},
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{
			ObservedGeneration: new(int64(3)),
			LastScaleTime:      &hpaTestTime,
			CurrentReplicas:    4,
			DesiredReplicas:    5,
			CurrentMetrics: []autoscalingv2.MetricStatus{
				{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricStatus{
					Metric:  autoscalingv2.MetricIdentifier{Name: "qps"},
					Current: autoscalingv2.MetricValueStatus{AverageValue: new(resource.MustParse("12"))},
				}},
				{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricStatus{
					Metric:  autoscalingv2.MetricIdentifier{Name: "queue"},
					Current: autoscalingv2.MetricValueStatus{Value: new(resource.MustParse("0")), AverageValue: new(resource.MustParse("25"))},
				}},
				hpaCPUStatus(55, "300m"),
			},
			Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{{
				Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, LastTransitionTime: hpaTestTime,
				Reason: "ReadyForNewScale", Message: "ok", ObservedGeneration: new(int64(3)),
			}},
		},
	}
}

// The v1 rendering of hpaFullV2, annotations written byte for byte as
// upstream writes them.
const (
	hpaFullMetricsAnnotation = `[{"type":"Pods","pods":{"metricName":"qps","targetAverageValue":"10"}},` +
		`{"type":"Object","object":{"target":{"kind":"Ingress","name":"main","apiVersion":"networking.k8s.io/v1"},"metricName":"rps","targetValue":"2k","selector":{"matchLabels":{"a":"b"}}}},` +
		`{"type":"ContainerResource","containerResource":{"name":"memory","targetAverageUtilization":70,"container":"app"}},` +
		`{"type":"External","external":{"metricName":"queue","targetAverageValue":"30"}}]`
	hpaFullCurrentMetricsAnnotation = `[{"type":"Pods","pods":{"metricName":"qps","currentAverageValue":"12"}},` +
		`{"type":"External","external":{"metricName":"queue","currentValue":"0","currentAverageValue":"25"}},` +
		`{"type":"Resource","resource":{"name":"cpu","currentAverageUtilization":55,"currentAverageValue":"300m"}}]`
	hpaFullBehaviorAnnotation = `{"ScaleUp":null,"ScaleDown":{"StabilizationWindowSeconds":60,"SelectPolicy":"Min",` +
		`"Policies":[{"Type":"Pods","Value":1,"PeriodSeconds":30}],"Tolerance":"50m"}}`
	hpaFullConditionsAnnotation = `[{"type":"AbleToScale","status":"True","lastTransitionTime":"2024-01-02T03:04:05Z","reason":"ReadyForNewScale","message":"ok","observedGeneration":3}]`
)

func hpaFullV1() *autoscalingv1.HorizontalPodAutoscaler {
	return &autoscalingv1.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", Annotations: map[string]string{
			"team":                      "a",
			hpaMetricSpecsAnnotation:    hpaFullMetricsAnnotation,
			hpaMetricStatusesAnnotation: hpaFullCurrentMetricsAnnotation,
			hpaBehaviorAnnotation:       hpaFullBehaviorAnnotation,
			hpaConditionsAnnotation:     hpaFullConditionsAnnotation,
		}},
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
			ScaleTargetRef:                 hpaV1Target(),
			MinReplicas:                    new(int32(2)),
			MaxReplicas:                    10,
			TargetCPUUtilizationPercentage: new(int32(60)),
		},
		Status: autoscalingv1.HorizontalPodAutoscalerStatus{
			ObservedGeneration:              new(int64(3)),
			LastScaleTime:                   &hpaTestTime,
			CurrentReplicas:                 4,
			DesiredReplicas:                 5,
			CurrentCPUUtilizationPercentage: new(int32(55)),
		},
	}
}

func TestHPAConvertV2ToV1(t *testing.T) {
	tests := []struct {
		name string
		in   *autoscalingv2.HorizontalPodAutoscaler
		want *autoscalingv1.HorizontalPodAutoscaler
	}{
		{
			name: "everything v1 lacks goes to annotations",
			in:   hpaFullV2(),
			want: hpaFullV1(),
		},
		{
			name: "a lone cpu utilization metric needs no annotation",
			in: &autoscalingv2.HorizontalPodAutoscaler{
				ObjectMeta: metav1.ObjectMeta{Name: "web"},
				Spec:       autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: hpaTarget(), MaxReplicas: 3, Metrics: []autoscalingv2.MetricSpec{groupCPUMetric(75)}},
			},
			want: &autoscalingv1.HorizontalPodAutoscaler{
				ObjectMeta: metav1.ObjectMeta{Name: "web"},
				Spec:       autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: hpaV1Target(), MaxReplicas: 3, TargetCPUUtilizationPercentage: new(int32(75))},
			},
		},
		{
			name: "a cpu average value metric is not a utilization target",
			in: &autoscalingv2.HorizontalPodAutoscaler{
				Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: hpaTarget(), MaxReplicas: 3, Metrics: []autoscalingv2.MetricSpec{
					{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
						Name:   corev1.ResourceCPU,
						Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: new(resource.MustParse("500m"))},
					}},
				}},
			},
			want: &autoscalingv1.HorizontalPodAutoscaler{
				ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
					hpaMetricSpecsAnnotation: `[{"type":"Resource","resource":{"name":"cpu","targetAverageValue":"500m"}}]`,
				}},
				Spec: autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: hpaV1Target(), MaxReplicas: 3},
			},
		},
		{
			name: "stale round-trip annotations on the stored object are dropped",
			in: &autoscalingv2.HorizontalPodAutoscaler{
				ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
					hpaMetricSpecsAnnotation:        `[]`,
					hpaBehaviorAnnotation:           `{}`,
					hpaConditionsAnnotation:         `[]`,
					hpaMetricStatusesAnnotation:     `[]`,
					hpaScaleUpToleranceAnnotation:   `1`,
					hpaScaleDownToleranceAnnotation: `1`,
				}},
				Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: hpaTarget(), MaxReplicas: 3, Metrics: []autoscalingv2.MetricSpec{groupCPUMetric(80)}},
			},
			want: &autoscalingv1.HorizontalPodAutoscaler{
				Spec: autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: hpaV1Target(), MaxReplicas: 3, TargetCPUUtilizationPercentage: new(int32(80))},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in.DeepCopy()
			got := &autoscalingv1.HorizontalPodAutoscaler{}
			if err := Scheme.Convert(in, got, nil); err != nil {
				t.Fatalf("Convert: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("v1 object mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.in, in); diff != "" {
				t.Errorf("conversion modified its input (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHPAConvertV1ToV2(t *testing.T) {
	tests := []struct {
		name string
		in   *autoscalingv1.HorizontalPodAutoscaler
		want *autoscalingv2.HorizontalPodAutoscaler
	}{
		{
			name: "annotations become fields",
			in:   hpaFullV1(),
			want: hpaFullV2(),
		},
		{
			name: "no target at all means the default cpu target",
			in: &autoscalingv1.HorizontalPodAutoscaler{
				Spec: autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: hpaV1Target(), MaxReplicas: 3},
			},
			want: &autoscalingv2.HorizontalPodAutoscaler{
				Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: hpaTarget(), MaxReplicas: 3, Metrics: []autoscalingv2.MetricSpec{groupCPUMetric(80)}},
			},
		},
		{
			name: "annotated metrics replace the default and the cpu field comes last",
			in: &autoscalingv1.HorizontalPodAutoscaler{
				ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
					hpaMetricSpecsAnnotation: `[{"type":"Pods","pods":{"metricName":"qps","targetAverageValue":"10"}}]`,
				}},
				Spec:   autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: hpaV1Target(), MaxReplicas: 3, TargetCPUUtilizationPercentage: new(int32(40))},
				Status: autoscalingv1.HorizontalPodAutoscalerStatus{CurrentCPUUtilizationPercentage: new(int32(20))},
			},
			want: &autoscalingv2.HorizontalPodAutoscaler{
				Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: hpaTarget(), MaxReplicas: 3, Metrics: []autoscalingv2.MetricSpec{hpaPodsMetric(), groupCPUMetric(40)}},
				Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentMetrics: []autoscalingv2.MetricStatus{{
					Type:     autoscalingv2.ResourceMetricSourceType,
					Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: new(int32(20))}},
				}}},
			},
		},
		{
			name: "v1 metric targets get their v2 type from the value they set",
			in: &autoscalingv1.HorizontalPodAutoscaler{
				ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{hpaMetricSpecsAnnotation: `[` +
					`{"type":"Object","object":{"target":{"kind":"Service","name":"s"},"metricName":"m","targetValue":"0","averageValue":"3"}},` +
					`{"type":"Resource","resource":{"name":"memory","targetAverageValue":"1Gi"}},` +
					`{"type":"External","external":{"metricName":"e","targetValue":"7"}}]`}},
				Spec: autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: hpaV1Target(), MaxReplicas: 3},
			},
			want: &autoscalingv2.HorizontalPodAutoscaler{
				Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: hpaTarget(), MaxReplicas: 3, Metrics: []autoscalingv2.MetricSpec{
					{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
						DescribedObject: autoscalingv2.CrossVersionObjectReference{Kind: "Service", Name: "s"},
						Metric:          autoscalingv2.MetricIdentifier{Name: "m"},
						Target:          autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, Value: new(resource.MustParse("0")), AverageValue: new(resource.MustParse("3"))},
					}},
					{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
						Name:   corev1.ResourceMemory,
						Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: new(resource.MustParse("1Gi"))},
					}},
					{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
						Metric: autoscalingv2.MetricIdentifier{Name: "e"},
						Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: new(resource.MustParse("7"))},
					}},
				}},
			},
		},
		{
			name: "a camelCase behavior annotation is read too",
			in: &autoscalingv1.HorizontalPodAutoscaler{
				ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{hpaBehaviorAnnotation: `{"scaleUp":{"selectPolicy":"Disabled"}}`}},
				Spec:       autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: hpaV1Target(), MaxReplicas: 3, TargetCPUUtilizationPercentage: new(int32(50))},
			},
			want: &autoscalingv2.HorizontalPodAutoscaler{
				Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
					ScaleTargetRef: hpaTarget(), MaxReplicas: 3, Metrics: []autoscalingv2.MetricSpec{groupCPUMetric(50)},
					Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{SelectPolicy: new(autoscalingv2.DisabledPolicySelect)}},
				},
			},
		},
		{
			name: "malformed or empty annotations are ignored and dropped",
			in: &autoscalingv1.HorizontalPodAutoscaler{
				ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
					"keep":                          "me",
					hpaMetricSpecsAnnotation:        `{not json`,
					hpaMetricStatusesAnnotation:     `"wrong shape"`,
					hpaBehaviorAnnotation:           `{}`,
					hpaConditionsAnnotation:         `[`,
					hpaScaleDownToleranceAnnotation: `0.1`,
				}},
				Spec:   autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: hpaV1Target(), MaxReplicas: 3},
				Status: autoscalingv1.HorizontalPodAutoscalerStatus{CurrentCPUUtilizationPercentage: new(int32(20))},
			},
			want: &autoscalingv2.HorizontalPodAutoscaler{
				ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"keep": "me"}},
				Spec:       autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: hpaTarget(), MaxReplicas: 3, Metrics: []autoscalingv2.MetricSpec{groupCPUMetric(80)}},
				Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentMetrics: []autoscalingv2.MetricStatus{{
					Type:     autoscalingv2.ResourceMetricSourceType,
					Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: new(int32(20))}},
				}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in.DeepCopy()
			got := &autoscalingv2.HorizontalPodAutoscaler{}
			if err := Scheme.Convert(in, got, nil); err != nil {
				t.Fatalf("Convert: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("v2 object mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.in, in); diff != "" {
				t.Errorf("conversion modified its input (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHPARoundTrip(t *testing.T) {
	t.Run("v2 to v1 to v2", func(t *testing.T) {
		for _, v2 := range []*autoscalingv2.HorizontalPodAutoscaler{
			hpaFullV2(),
			{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: hpaTarget(), MinReplicas: new(int32(1)), MaxReplicas: 2, Metrics: []autoscalingv2.MetricSpec{groupCPUMetric(80)}}},
			{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: hpaTarget(), MaxReplicas: 2, Metrics: []autoscalingv2.MetricSpec{hpaPodsMetric()},
				Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{}}}}},
		} {
			v1 := &autoscalingv1.HorizontalPodAutoscaler{}
			if err := Scheme.Convert(v2, v1, nil); err != nil {
				t.Fatalf("to v1: %v", err)
			}
			back := &autoscalingv2.HorizontalPodAutoscaler{}
			if err := Scheme.Convert(v1, back, nil); err != nil {
				t.Fatalf("back to v2: %v", err)
			}
			if diff := cmp.Diff(v2, back); diff != "" {
				t.Errorf("v2 round trip mismatch (-want +got):\n%s", diff)
			}
		}
	})
	t.Run("v1 to v2 to v1", func(t *testing.T) {
		for _, v1 := range []*autoscalingv1.HorizontalPodAutoscaler{
			hpaFullV1(),
			{
				ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"a": "b"}},
				Spec:       autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: hpaV1Target(), MinReplicas: new(int32(1)), MaxReplicas: 2, TargetCPUUtilizationPercentage: new(int32(30))},
			},
		} {
			v2 := &autoscalingv2.HorizontalPodAutoscaler{}
			if err := Scheme.Convert(v1, v2, nil); err != nil {
				t.Fatalf("to v2: %v", err)
			}
			back := &autoscalingv1.HorizontalPodAutoscaler{}
			if err := Scheme.Convert(v2, back, nil); err != nil {
				t.Fatalf("back to v1: %v", err)
			}
			if diff := cmp.Diff(v1, back); diff != "" {
				t.Errorf("v1 round trip mismatch (-want +got):\n%s", diff)
			}
		}
	})
}

// TestHPACodec goes the way the apiserver does: a v1 body decoded to the
// internal (v2) form with v1 defaulting, and the internal form encoded as v1.
func TestHPACodec(t *testing.T) {
	t.Run("decode v1", func(t *testing.T) {
		body := `{"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{"name":"web","namespace":"ns","annotations":{` +
			`"autoscaling.alpha.kubernetes.io/behavior":"{\"ScaleUp\":{\"StabilizationWindowSeconds\":30,\"SelectPolicy\":null,\"Policies\":null,\"Tolerance\":null},\"ScaleDown\":null}"}},` +
			`"spec":{"scaleTargetRef":{"kind":"Deployment","name":"web","apiVersion":"apps/v1"},"maxReplicas":4}}`
		got := groupDecode(t, body)
		want := &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: hpaTarget(),
				MinReplicas:    new(int32(1)),
				MaxReplicas:    4,
				Metrics:        []autoscalingv2.MetricSpec{groupCPUMetric(80)},
				// Only v1's own defaulting applies: the behavior read from
				// the annotation is not completed.
				Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: new(int32(30))}},
			},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("decoded object mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("encode and decode v1 lists", func(t *testing.T) {
		codec := Codecs.LegacyCodec(autoscalingv1.SchemeGroupVersion)
		list := &autoscalingv2.HorizontalPodAutoscalerList{
			ListMeta: metav1.ListMeta{ResourceVersion: "7"},
			Items:    []autoscalingv2.HorizontalPodAutoscaler{*hpaFullV2()},
		}
		data, err := runtime.Encode(codec, list)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		asV1 := &autoscalingv1.HorizontalPodAutoscalerList{}
		if err := runtime.DecodeInto(Codecs.UniversalDeserializer(), data, asV1); err != nil {
			t.Fatalf("decoding %s as v1: %v", data, err)
		}
		wantV1 := &autoscalingv1.HorizontalPodAutoscalerList{
			TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "HorizontalPodAutoscalerList"},
			ListMeta: metav1.ListMeta{ResourceVersion: "7"},
			Items:    []autoscalingv1.HorizontalPodAutoscaler{*hpaFullV1()},
		}
		if diff := cmp.Diff(wantV1, asV1); diff != "" {
			t.Errorf("v1 list mismatch (-want +got):\n%s", diff)
		}
		back, err := runtime.Decode(codec, data)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if diff := cmp.Diff(list, back); diff != "" {
			t.Errorf("internal list after a v1 trip mismatch (-want +got):\n%s", diff)
		}
	})
}
