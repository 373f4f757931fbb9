package scheme

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// groupTemplateJSON is the pod template every workload case below embeds.
const groupTemplateJSON = `{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx:1.27"}]}}`

// groupTemplate is what groupTemplateJSON decodes to before defaulting.
func groupTemplate() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1.27"}}},
	}
}

// groupDefaultedTemplate is groupTemplate after core's template defaulting:
// what exactly that adds is core's business, the cases here only check that
// the workload kinds apply it.
func groupDefaultedTemplate() corev1.PodTemplateSpec {
	t := groupTemplate()
	DefaultPodTemplateSpec(&t)
	return t
}

func groupDecode(t *testing.T, body string) runtime.Object {
	t.Helper()
	obj, _, err := Codecs.UniversalDecoder().Decode([]byte(body), nil, nil)
	if err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	return obj
}

func TestGroupDefaultsDecode(t *testing.T) {
	objMeta := metav1.ObjectMeta{Name: "x", Namespace: "ns"}
	tests := []struct {
		name string
		body string
		want runtime.Object
	}{
		// apps/v1
		{
			name: "deployment with an empty spec",
			body: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x","namespace":"ns"},"spec":{"template":` + groupTemplateJSON + `}}`,
			want: &appsv1.Deployment{ObjectMeta: objMeta, Spec: appsv1.DeploymentSpec{
				Replicas: new(int32(1)),
				Strategy: appsv1.DeploymentStrategy{
					Type: appsv1.RollingUpdateDeploymentStrategyType,
					RollingUpdate: &appsv1.RollingUpdateDeployment{
						MaxUnavailable: new(intstr.FromString("25%")),
						MaxSurge:       new(intstr.FromString("25%")),
					},
				},
				RevisionHistoryLimit:    new(int32(10)),
				ProgressDeadlineSeconds: new(int32(600)),
				Template:                groupDefaultedTemplate(),
			}},
		},
		{
			name: "deployment keeps zero replicas and a recreate strategy",
			body: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x","namespace":"ns"},"spec":{"replicas":0,"strategy":{"type":"Recreate"},"revisionHistoryLimit":0,"progressDeadlineSeconds":30,"template":` + groupTemplateJSON + `}}`,
			want: &appsv1.Deployment{ObjectMeta: objMeta, Spec: appsv1.DeploymentSpec{
				Replicas:                new(int32(0)),
				Strategy:                appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
				RevisionHistoryLimit:    new(int32(0)),
				ProgressDeadlineSeconds: new(int32(30)),
				Template:                groupDefaultedTemplate(),
			}},
		},
		{
			name: "deployment completes a partial rolling update",
			body: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x","namespace":"ns"},"spec":{"strategy":{"rollingUpdate":{"maxSurge":2}},"template":` + groupTemplateJSON + `}}`,
			want: &appsv1.Deployment{ObjectMeta: objMeta, Spec: appsv1.DeploymentSpec{
				Replicas: new(int32(1)),
				Strategy: appsv1.DeploymentStrategy{
					Type: appsv1.RollingUpdateDeploymentStrategyType,
					RollingUpdate: &appsv1.RollingUpdateDeployment{
						MaxUnavailable: new(intstr.FromString("25%")),
						MaxSurge:       new(intstr.FromInt32(2)),
					},
				},
				RevisionHistoryLimit:    new(int32(10)),
				ProgressDeadlineSeconds: new(int32(600)),
				Template:                groupDefaultedTemplate(),
			}},
		},
		{
			name: "replicaset",
			body: `{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"x","namespace":"ns"},"spec":{"template":` + groupTemplateJSON + `}}`,
			want: &appsv1.ReplicaSet{ObjectMeta: objMeta, Spec: appsv1.ReplicaSetSpec{
				Replicas: new(int32(1)),
				Template: groupDefaultedTemplate(),
			}},
		},
		{
			name: "statefulset with an empty spec and a claim template",
			body: `{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"x","namespace":"ns"},"spec":{"serviceName":"svc","template":` + groupTemplateJSON + `,
				"volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1500u"}}}}]}}`,
			want: &appsv1.StatefulSet{ObjectMeta: objMeta, Spec: appsv1.StatefulSetSpec{
				Replicas:            new(int32(1)),
				ServiceName:         "svc",
				PodManagementPolicy: appsv1.OrderedReadyPodManagement,
				UpdateStrategy: appsv1.StatefulSetUpdateStrategy{
					Type: appsv1.RollingUpdateStatefulSetStrategyType,
					RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{
						Partition:      new(int32(0)),
						MaxUnavailable: new(intstr.FromInt32(1)),
					},
				},
				RevisionHistoryLimit: new(int32(10)),
				PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
					WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
					WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
				},
				Template: groupDefaultedTemplate(),
				VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
					ObjectMeta: metav1.ObjectMeta{Name: "data"},
					Spec: corev1.PersistentVolumeClaimSpec{
						AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
						Resources: corev1.VolumeResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("2m")},
						},
						VolumeMode: new(corev1.PersistentVolumeFilesystem),
					},
					Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending},
				}},
			}},
		},
		{
			name: "statefulset with an explicit rolling update type gets no rollingUpdate block",
			body: `{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"x","namespace":"ns"},"spec":{"replicas":3,"podManagementPolicy":"Parallel","updateStrategy":{"type":"RollingUpdate"},
				"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Delete"},"template":` + groupTemplateJSON + `}}`,
			want: &appsv1.StatefulSet{ObjectMeta: objMeta, Spec: appsv1.StatefulSetSpec{
				Replicas:             new(int32(3)),
				PodManagementPolicy:  appsv1.ParallelPodManagement,
				UpdateStrategy:       appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
				RevisionHistoryLimit: new(int32(10)),
				PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
					WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
					WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
				},
				Template: groupDefaultedTemplate(),
			}},
		},
		{
			name: "statefulset keeps a given partition and maxUnavailable",
			body: `{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"x","namespace":"ns"},"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2,"maxUnavailable":"50%"}},"template":` + groupTemplateJSON + `}}`,
			want: &appsv1.StatefulSet{ObjectMeta: objMeta, Spec: appsv1.StatefulSetSpec{
				Replicas:            new(int32(1)),
				PodManagementPolicy: appsv1.OrderedReadyPodManagement,
				UpdateStrategy: appsv1.StatefulSetUpdateStrategy{
					Type: appsv1.RollingUpdateStatefulSetStrategyType,
					RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{
						Partition:      new(int32(2)),
						MaxUnavailable: new(intstr.FromString("50%")),
					},
				},
				RevisionHistoryLimit: new(int32(10)),
				PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
					WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
					WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
				},
				Template: groupDefaultedTemplate(),
			}},
		},
		{
			name: "daemonset with an empty spec",
			body: `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"x","namespace":"ns"},"spec":{"template":` + groupTemplateJSON + `}}`,
			want: &appsv1.DaemonSet{ObjectMeta: objMeta, Spec: appsv1.DaemonSetSpec{
				UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
					Type: appsv1.RollingUpdateDaemonSetStrategyType,
					RollingUpdate: &appsv1.RollingUpdateDaemonSet{
						MaxUnavailable: new(intstr.FromInt32(1)),
						MaxSurge:       new(intstr.FromInt32(0)),
					},
				},
				RevisionHistoryLimit: new(int32(10)),
				Template:             groupDefaultedTemplate(),
			}},
		},
		{
			name: "daemonset on delete",
			body: `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"x","namespace":"ns"},"spec":{"updateStrategy":{"type":"OnDelete"},"revisionHistoryLimit":2,"template":` + groupTemplateJSON + `}}`,
			want: &appsv1.DaemonSet{ObjectMeta: objMeta, Spec: appsv1.DaemonSetSpec{
				UpdateStrategy:       appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType},
				RevisionHistoryLimit: new(int32(2)),
				Template:             groupDefaultedTemplate(),
			}},
		},
		{
			name: "controllerrevision is not defaulted",
			body: `{"apiVersion":"apps/v1","kind":"ControllerRevision","metadata":{"name":"x","namespace":"ns"},"revision":3}`,
			want: &appsv1.ControllerRevision{ObjectMeta: objMeta, Revision: 3},
		},
		{
			name: "replicaset list items are defaulted",
			body: `{"apiVersion":"apps/v1","kind":"ReplicaSetList","metadata":{},"items":[{"metadata":{"name":"x","namespace":"ns"},"spec":{"replicas":4,"template":` + groupTemplateJSON + `}}]}`,
			want: &appsv1.ReplicaSetList{Items: []appsv1.ReplicaSet{{ObjectMeta: objMeta, Spec: appsv1.ReplicaSetSpec{
				Replicas: new(int32(4)),
				Template: groupDefaultedTemplate(),
			}}}},
		},

		// batch/v1
		{
			name: "job with an empty spec",
			body: `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"x","namespace":"ns"},"spec":{"template":` + groupTemplateJSON + `}}`,
			want: &batchv1.Job{
				ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "ns", Labels: map[string]string{"app": "web"}},
				Spec: batchv1.JobSpec{
					Completions:          new(int32(1)),
					Parallelism:          new(int32(1)),
					BackoffLimit:         new(int32(6)),
					CompletionMode:       new(batchv1.NonIndexedCompletion),
					Suspend:              new(false),
					PodReplacementPolicy: new(batchv1.TerminatingOrFailed),
					ManualSelector:       new(false),
					Template:             groupDefaultedTemplate(),
				},
			},
		},
		{
			name: "job with completions only keeps its labels",
			body: `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"x","namespace":"ns","labels":{"own":"yes"}},"spec":{"completions":5,"suspend":true,"manualSelector":true,"template":` + groupTemplateJSON + `}}`,
			want: &batchv1.Job{
				ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "ns", Labels: map[string]string{"own": "yes"}},
				Spec: batchv1.JobSpec{
					Completions:          new(int32(5)),
					Parallelism:          new(int32(1)),
					BackoffLimit:         new(int32(6)),
					CompletionMode:       new(batchv1.NonIndexedCompletion),
					Suspend:              new(true),
					PodReplacementPolicy: new(batchv1.TerminatingOrFailed),
					ManualSelector:       new(true),
					Template:             groupDefaultedTemplate(),
				},
			},
		},
		{
			name: "job with parallelism only leaves completions unset",
			body: `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"x","namespace":"ns"},"spec":{"parallelism":3,"template":` + groupTemplateJSON + `}}`,
			want: &batchv1.Job{
				ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "ns", Labels: map[string]string{"app": "web"}},
				Spec: batchv1.JobSpec{
					Parallelism:          new(int32(3)),
					BackoffLimit:         new(int32(6)),
					CompletionMode:       new(batchv1.NonIndexedCompletion),
					Suspend:              new(false),
					PodReplacementPolicy: new(batchv1.TerminatingOrFailed),
					ManualSelector:       new(false),
					Template:             groupDefaultedTemplate(),
				},
			},
		},
		{
			name: "indexed job with a per-index backoff limit",
			body: `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"x","namespace":"ns"},"spec":{"completions":4,"parallelism":2,"completionMode":"Indexed","backoffLimitPerIndex":1,"template":` + groupTemplateJSON + `}}`,
			want: &batchv1.Job{
				ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "ns", Labels: map[string]string{"app": "web"}},
				Spec: batchv1.JobSpec{
					Completions:          new(int32(4)),
					Parallelism:          new(int32(2)),
					BackoffLimit:         new(int32(math.MaxInt32)),
					BackoffLimitPerIndex: new(int32(1)),
					CompletionMode:       new(batchv1.IndexedCompletion),
					Suspend:              new(false),
					PodReplacementPolicy: new(batchv1.TerminatingOrFailed),
					ManualSelector:       new(false),
					Template:             groupDefaultedTemplate(),
				},
			},
		},
		{
			name: "job with a pod failure policy",
			body: `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"x","namespace":"ns"},"spec":{"podFailurePolicy":{"rules":[
				{"action":"Ignore","onPodConditions":[{"type":"DisruptionTarget"},{"type":"Custom","status":"False"}]}]},"template":` + groupTemplateJSON + `}}`,
			want: &batchv1.Job{
				ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "ns", Labels: map[string]string{"app": "web"}},
				Spec: batchv1.JobSpec{
					Completions:    new(int32(1)),
					Parallelism:    new(int32(1)),
					BackoffLimit:   new(int32(6)),
					CompletionMode: new(batchv1.NonIndexedCompletion),
					Suspend:        new(false),
					PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
						Action: batchv1.PodFailurePolicyActionIgnore,
						OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{
							{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue},
							{Type: "Custom", Status: corev1.ConditionFalse},
						},
					}}},
					PodReplacementPolicy: new(batchv1.Failed),
					ManualSelector:       new(false),
					Template:             groupDefaultedTemplate(),
				},
			},
		},
		{
			name: "cronjob defaults itself and its pod template but not the job spec",
			body: `{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"x","namespace":"ns"},"spec":{"schedule":"*/5 * * * *","jobTemplate":{"spec":{"template":` + groupTemplateJSON + `}}}}`,
			want: &batchv1.CronJob{ObjectMeta: objMeta, Spec: batchv1.CronJobSpec{
				Schedule:                   "*/5 * * * *",
				ConcurrencyPolicy:          batchv1.AllowConcurrent,
				Suspend:                    new(false),
				SuccessfulJobsHistoryLimit: new(int32(3)),
				FailedJobsHistoryLimit:     new(int32(1)),
				JobTemplate:                batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: groupDefaultedTemplate()}},
			}},
		},
		{
			name: "cronjob keeps explicit values",
			body: `{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"x","namespace":"ns"},"spec":{"schedule":"@daily","concurrencyPolicy":"Forbid","suspend":true,"successfulJobsHistoryLimit":0,"failedJobsHistoryLimit":0,"jobTemplate":{"spec":{"template":` + groupTemplateJSON + `}}}}`,
			want: &batchv1.CronJob{ObjectMeta: objMeta, Spec: batchv1.CronJobSpec{
				Schedule:                   "@daily",
				ConcurrencyPolicy:          batchv1.ForbidConcurrent,
				Suspend:                    new(true),
				SuccessfulJobsHistoryLimit: new(int32(0)),
				FailedJobsHistoryLimit:     new(int32(0)),
				JobTemplate:                batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: groupDefaultedTemplate()}},
			}},
		},

		// autoscaling/v2
		{
			name: "v2 hpa without metrics or behavior",
			body: `{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"x","namespace":"ns"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"web"},"maxReplicas":5}}`,
			want: &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: objMeta, Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web"},
				MinReplicas:    new(int32(1)),
				MaxReplicas:    5,
				Metrics:        []autoscalingv2.MetricSpec{groupCPUMetric(80)},
			}},
		},
		{
			name: "v2 hpa completes a partial behavior",
			body: `{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"x","namespace":"ns"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"web"},"minReplicas":2,"maxReplicas":5,
				"metrics":[{"type":"Pods","pods":{"metric":{"name":"qps"},"target":{"type":"AverageValue","averageValue":"10"}}}],
				"behavior":{"scaleDown":{"stabilizationWindowSeconds":60}}}}`,
			want: &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: objMeta, Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web"},
				MinReplicas:    new(int32(2)),
				MaxReplicas:    5,
				Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: "qps"},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: new(resource.MustParse("10"))},
				}}},
				Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
					ScaleUp: &autoscalingv2.HPAScalingRules{
						StabilizationWindowSeconds: new(int32(0)),
						SelectPolicy:               new(autoscalingv2.MaxChangePolicySelect),
						Policies: []autoscalingv2.HPAScalingPolicy{
							{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
							{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
						},
					},
					ScaleDown: &autoscalingv2.HPAScalingRules{
						StabilizationWindowSeconds: new(int32(60)),
						SelectPolicy:               new(autoscalingv2.MaxChangePolicySelect),
						Policies: []autoscalingv2.HPAScalingPolicy{
							{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
						},
					},
				},
			}},
		},
		{
			name: "v2 hpa keeps an empty policy list, a select policy and a tolerance",
			body: `{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"x","namespace":"ns"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"web"},"maxReplicas":5,
				"behavior":{"scaleUp":{"selectPolicy":"Disabled","policies":[],"tolerance":"50m"}}}}`,
			want: &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: objMeta, Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web"},
				MinReplicas:    new(int32(1)),
				MaxReplicas:    5,
				Metrics:        []autoscalingv2.MetricSpec{groupCPUMetric(80)},
				Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
					ScaleUp: &autoscalingv2.HPAScalingRules{
						StabilizationWindowSeconds: new(int32(0)),
						SelectPolicy:               new(autoscalingv2.DisabledPolicySelect),
						Policies:                   []autoscalingv2.HPAScalingPolicy{},
						Tolerance:                  new(resource.MustParse("50m")),
					},
					ScaleDown: &autoscalingv2.HPAScalingRules{
						SelectPolicy: new(autoscalingv2.MaxChangePolicySelect),
						Policies: []autoscalingv2.HPAScalingPolicy{
							{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
						},
					},
				},
			}},
		},

		// networking.k8s.io/v1
		{
			name: "networkpolicy without types or egress",
			body: `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"x","namespace":"ns"},"spec":{"podSelector":{},"ingress":[{"ports":[{"port":80},{"protocol":"UDP","port":53}]}]}}`,
			want: &networkingv1.NetworkPolicy{ObjectMeta: objMeta, Spec: networkingv1.NetworkPolicySpec{
				Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{
					{Protocol: new(corev1.ProtocolTCP), Port: new(intstr.FromInt32(80))},
					{Protocol: new(corev1.ProtocolUDP), Port: new(intstr.FromInt32(53))},
				}}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			}},
		},
		{
			name: "networkpolicy with egress rules",
			body: `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"x","namespace":"ns"},"spec":{"podSelector":{},"egress":[{"ports":[{"port":443}]}]}}`,
			want: &networkingv1.NetworkPolicy{ObjectMeta: objMeta, Spec: networkingv1.NetworkPolicySpec{
				Egress:      []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{{Protocol: new(corev1.ProtocolTCP), Port: new(intstr.FromInt32(443))}}}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			}},
		},
		{
			name: "networkpolicy keeps explicit types",
			body: `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"x","namespace":"ns"},"spec":{"podSelector":{},"policyTypes":["Egress"]}}`,
			want: &networkingv1.NetworkPolicy{ObjectMeta: objMeta, Spec: networkingv1.NetworkPolicySpec{
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			}},
		},
		{
			name: "ingressclass parameters get the cluster scope",
			body: `{"apiVersion":"networking.k8s.io/v1","kind":"IngressClass","metadata":{"name":"x"},"spec":{"controller":"example.com/c","parameters":{"kind":"Params","name":"p"}}}`,
			want: &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Spec: networkingv1.IngressClassSpec{
				Controller: "example.com/c",
				Parameters: &networkingv1.IngressClassParametersReference{Kind: "Params", Name: "p", Scope: new(networkingv1.IngressClassParametersReferenceScopeCluster)},
			}},
		},
		{
			name: "ingressclass without parameters",
			body: `{"apiVersion":"networking.k8s.io/v1","kind":"IngressClass","metadata":{"name":"x"},"spec":{"controller":"example.com/c"}}`,
			want: &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Spec: networkingv1.IngressClassSpec{Controller: "example.com/c"}},
		},
		{
			name: "ingress is not defaulted",
			body: `{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"x","namespace":"ns"},"spec":{"rules":[{"http":{"paths":[{"path":"/","backend":{"service":{"name":"s","port":{"number":80}}}}]}}]}}`,
			want: &networkingv1.Ingress{ObjectMeta: objMeta, Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path:    "/",
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "s", Port: networkingv1.ServiceBackendPort{Number: 80}}},
				}}}},
			}}}},
		},

		// storage.k8s.io/v1
		{
			name: "storageclass",
			body: `{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"x"},"provisioner":"example.com/p"}`,
			want: &storagev1.StorageClass{
				ObjectMeta:        metav1.ObjectMeta{Name: "x"},
				Provisioner:       "example.com/p",
				ReclaimPolicy:     new(corev1.PersistentVolumeReclaimDelete),
				VolumeBindingMode: new(storagev1.VolumeBindingImmediate),
			},
		},
		{
			name: "storageclass keeps explicit values",
			body: `{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"x"},"provisioner":"example.com/p","reclaimPolicy":"Retain","volumeBindingMode":"WaitForFirstConsumer"}`,
			want: &storagev1.StorageClass{
				ObjectMeta:        metav1.ObjectMeta{Name: "x"},
				Provisioner:       "example.com/p",
				ReclaimPolicy:     new(corev1.PersistentVolumeReclaimRetain),
				VolumeBindingMode: new(storagev1.VolumeBindingWaitForFirstConsumer),
			},
		},
		{
			name: "csidriver with an empty spec",
			body: `{"apiVersion":"storage.k8s.io/v1","kind":"CSIDriver","metadata":{"name":"x"},"spec":{}}`,
			want: &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Spec: storagev1.CSIDriverSpec{
				AttachRequired:       new(true),
				PodInfoOnMount:       new(false),
				VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent},
				StorageCapacity:      new(false),
				FSGroupPolicy:        new(storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy),
				RequiresRepublish:    new(false),
				SELinuxMount:         new(false),
			}},
		},
		{
			name: "csidriver keeps explicit values",
			body: `{"apiVersion":"storage.k8s.io/v1","kind":"CSIDriver","metadata":{"name":"x"},"spec":{"attachRequired":false,"podInfoOnMount":true,"volumeLifecycleModes":["Ephemeral"],
				"storageCapacity":true,"fsGroupPolicy":"File","requiresRepublish":true,"seLinuxMount":true}}`,
			want: &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Spec: storagev1.CSIDriverSpec{
				AttachRequired:       new(false),
				PodInfoOnMount:       new(true),
				VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecycleEphemeral},
				StorageCapacity:      new(true),
				FSGroupPolicy:        new(storagev1.FileFSGroupPolicy),
				RequiresRepublish:    new(true),
				SELinuxMount:         new(true),
			}},
		},
		{
			name: "volumeattachment defaults its inline volume",
			body: `{"apiVersion":"storage.k8s.io/v1","kind":"VolumeAttachment","metadata":{"name":"x"},"spec":{"attacher":"a","nodeName":"n","source":{"inlineVolumeSpec":{
				"capacity":{"storage":"1500u"},"azureDisk":{"diskName":"d","diskURI":"u"}}}}}`,
			want: &storagev1.VolumeAttachment{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Spec: storagev1.VolumeAttachmentSpec{
				Attacher: "a",
				NodeName: "n",
				Source: storagev1.VolumeAttachmentSource{InlineVolumeSpec: &corev1.PersistentVolumeSpec{
					Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("2m")},
					PersistentVolumeSource: corev1.PersistentVolumeSource{AzureDisk: &corev1.AzureDiskVolumeSource{
						DiskName:    "d",
						DataDiskURI: "u",
						CachingMode: new(corev1.AzureDataDiskCachingReadWrite),
						FSType:      new("ext4"),
						ReadOnly:    new(false),
						Kind:        new(corev1.AzureSharedBlobDisk),
					}},
				}},
			}},
		},
		{
			name: "volumeattachment of a persistent volume",
			body: `{"apiVersion":"storage.k8s.io/v1","kind":"VolumeAttachment","metadata":{"name":"x"},"spec":{"attacher":"a","nodeName":"n","source":{"persistentVolumeName":"pv"}}}`,
			want: &storagev1.VolumeAttachment{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Spec: storagev1.VolumeAttachmentSpec{
				Attacher: "a",
				NodeName: "n",
				Source:   storagev1.VolumeAttachmentSource{PersistentVolumeName: new("pv")},
			}},
		},

		// scheduling, discovery, policy
		{
			name: "priorityclass",
			body: `{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"x"},"value":1000}`,
			want: &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Value: 1000, PreemptionPolicy: new(corev1.PreemptLowerPriority)},
		},
		{
			name: "priorityclass that never preempts",
			body: `{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"x"},"value":1000,"preemptionPolicy":"Never"}`,
			want: &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Value: 1000, PreemptionPolicy: new(corev1.PreemptNever)},
		},
		{
			name: "endpointslice ports",
			body: `{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"x","namespace":"ns"},"addressType":"IPv4","endpoints":[],"ports":[{"port":80},{"name":"dns","protocol":"UDP","port":53}]}`,
			want: &discoveryv1.EndpointSlice{
				ObjectMeta:  objMeta,
				AddressType: discoveryv1.AddressTypeIPv4,
				Endpoints:   []discoveryv1.Endpoint{},
				Ports: []discoveryv1.EndpointPort{
					{Name: new(""), Protocol: new(corev1.ProtocolTCP), Port: new(int32(80))},
					{Name: new("dns"), Protocol: new(corev1.ProtocolUDP), Port: new(int32(53))},
				},
			},
		},
		{
			name: "poddisruptionbudget is not defaulted",
			body: `{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"x","namespace":"ns"},"spec":{"minAvailable":1}}`,
			want: &policyv1.PodDisruptionBudget{ObjectMeta: objMeta, Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: new(intstr.FromInt32(1))}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := groupDecode(t, tt.body)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decoded object mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// groupCPUMetric is a cpu utilization metric targeting pct percent.
func groupCPUMetric(pct int32) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{
			Name:   corev1.ResourceCPU,
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: new(pct)},
		},
	}
}

// TestGroupDefaultsSchemeDefault checks defaulting applied directly with
// Scheme.Default, as the registry does for objects built in Go, list kinds
// included.
func TestGroupDefaultsSchemeDefault(t *testing.T) {
	tests := []struct {
		name string
		in   runtime.Object
		want runtime.Object
	}{
		{
			name: "job list",
			in:   &batchv1.JobList{Items: []batchv1.Job{{Spec: batchv1.JobSpec{Completions: new(int32(2)), Parallelism: new(int32(2)), BackoffLimit: new(int32(0))}}}},
			want: &batchv1.JobList{Items: []batchv1.Job{{Spec: batchv1.JobSpec{
				Completions:          new(int32(2)),
				Parallelism:          new(int32(2)),
				BackoffLimit:         new(int32(0)),
				CompletionMode:       new(batchv1.NonIndexedCompletion),
				Suspend:              new(false),
				PodReplacementPolicy: new(batchv1.TerminatingOrFailed),
				ManualSelector:       new(false),
				Template:             func() corev1.PodTemplateSpec { var t corev1.PodTemplateSpec; DefaultPodTemplateSpec(&t); return t }(),
			}}}},
		},
		{
			name: "storageclass list",
			in:   &storagev1.StorageClassList{Items: []storagev1.StorageClass{{Provisioner: "p"}}},
			want: &storagev1.StorageClassList{Items: []storagev1.StorageClass{{
				Provisioner:       "p",
				ReclaimPolicy:     new(corev1.PersistentVolumeReclaimDelete),
				VolumeBindingMode: new(storagev1.VolumeBindingImmediate),
			}}},
		},
		{
			name: "endpointslice list",
			in:   &discoveryv1.EndpointSliceList{Items: []discoveryv1.EndpointSlice{{Ports: []discoveryv1.EndpointPort{{}}}}},
			want: &discoveryv1.EndpointSliceList{Items: []discoveryv1.EndpointSlice{{Ports: []discoveryv1.EndpointPort{{Name: new(""), Protocol: new(corev1.ProtocolTCP)}}}}},
		},
		{
			name: "hpa list",
			in:   &autoscalingv2.HorizontalPodAutoscalerList{Items: []autoscalingv2.HorizontalPodAutoscaler{{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 3}}}},
			want: &autoscalingv2.HorizontalPodAutoscalerList{Items: []autoscalingv2.HorizontalPodAutoscaler{{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				MinReplicas: new(int32(1)),
				MaxReplicas: 3,
				Metrics:     []autoscalingv2.MetricSpec{groupCPUMetric(80)},
			}}}},
		},
		{
			name: "networkpolicy list",
			in:   &networkingv1.NetworkPolicyList{Items: []networkingv1.NetworkPolicy{{}}},
			want: &networkingv1.NetworkPolicyList{Items: []networkingv1.NetworkPolicy{{Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.DeepCopyObject()
			Scheme.Default(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("defaulted object mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGroupDefaultsSharedRules checks that defaulting one object never shares
// memory with another: the HPA behavior defaults are built fresh each time.
func TestGroupDefaultsSharedRules(t *testing.T) {
	a := &autoscalingv2.HorizontalPodAutoscaler{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{}}}
	b := a.DeepCopy()
	Scheme.Default(a)
	Scheme.Default(b)
	a.Spec.Behavior.ScaleUp.Policies[0].Value = 99
	*a.Spec.Behavior.ScaleDown.SelectPolicy = autoscalingv2.MinChangePolicySelect
	if got := b.Spec.Behavior.ScaleUp.Policies[0].Value; got != 4 {
		t.Errorf("second HPA's scale-up pods policy = %d, want 4", got)
	}
	if got := *b.Spec.Behavior.ScaleDown.SelectPolicy; got != autoscalingv2.MaxChangePolicySelect {
		t.Errorf("second HPA's scale-down select policy = %s, want Max", got)
	}
}
