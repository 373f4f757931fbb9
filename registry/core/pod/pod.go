// Package pod is the storage of core/v1 Pods and their binding, status,
// ephemeralcontainers, resize and eviction subresources, and the PodSpec
// validation every workload resource shares.
package pod

import (
	"context"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/scheme"
	"github.com/capstan-dev/capstan/registry/store"
)

// Resource describes pods.
var Resource = &store.Resource[*corev1.Pod]{
	Resource:            schema.GroupResource{Resource: "pods"},
	Kind:                "Pod",
	Namespaced:          true,
	ShortNames:          []string{"po"},
	Categories:          []string{"all"},
	HasStatus:           true,
	Generation:          true,
	ReturnDeletedObject: true,
	New:                 func() *corev1.Pod { return &corev1.Pod{} },
	NewList:             func() runtime.Object { return &corev1.PodList{} },
	PrepareForCreate: func(_ context.Context, pod *corev1.Pod) {
		NormalizePodSpec(&pod.Spec)
		scheme.DefaultPodLevelResources(pod)
		pod.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: QOSClass(pod)}
		if len(pod.Spec.SchedulingGates) > 0 {
			updatePodCondition(&pod.Status, corev1.PodCondition{
				Type:    corev1.PodScheduled,
				Status:  corev1.ConditionFalse,
				Reason:  corev1.PodReasonSchedulingGated,
				Message: "Scheduling is blocked due to non-empty scheduling gates",
			})
		}
	},
	PrepareForUpdate: func(_ context.Context, pod, _ *corev1.Pod) {
		NormalizePodSpec(&pod.Spec)
	},
	Validate: func(_ context.Context, pod *corev1.Pod) field.ErrorList { return ValidatePod(pod) },
	ValidateUpdate: func(_ context.Context, pod, old *corev1.Pod) field.ErrorList {
		return ValidatePodUpdate(pod, old)
	},
	WarningsOnCreate: func(_ context.Context, pod *corev1.Pod) []string { return warningsForPod(pod) },
	PrepareForStatusUpdate: func(_ context.Context, pod, old *corev1.Pod) {
		// The status writer (an old kubelet, say) may not touch owner references.
		pod.OwnerReferences = old.OwnerReferences
		if pod.Status.QOSClass == "" {
			pod.Status.QOSClass = old.Status.QOSClass
		}
		preserveObservedGeneration(pod, old)
		normalizeStatusIPs(&pod.Status)
	},
	ValidateStatusUpdate: func(_ context.Context, pod, old *corev1.Pod) field.ErrorList {
		return ValidatePodStatusUpdate(pod, old)
	},
	CheckGracefulDelete: CheckGracefulDelete,
	Fields: map[string]func(*corev1.Pod) string{
		"spec.nodeName":            func(p *corev1.Pod) string { return p.Spec.NodeName },
		"spec.restartPolicy":       func(p *corev1.Pod) string { return string(p.Spec.RestartPolicy) },
		"spec.schedulerName":       func(p *corev1.Pod) string { return p.Spec.SchedulerName },
		"spec.serviceAccountName":  func(p *corev1.Pod) string { return p.Spec.ServiceAccountName },
		"spec.hostNetwork":         func(p *corev1.Pod) string { return strconv.FormatBool(p.Spec.HostNetwork) },
		"status.phase":             func(p *corev1.Pod) string { return string(p.Status.Phase) },
		"status.podIP":             podIP,
		"status.nominatedNodeName": func(p *corev1.Pod) string { return p.Status.NominatedNodeName },
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Ready", Type: "string", Description: "The aggregate readiness state of this pod for accepting traffic."},
		{Name: "Status", Type: "string", Description: "The aggregate status of the containers in this pod."},
		{Name: "Restarts", Type: "string", Description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."},
		store.AgeColumn,
		{Name: "IP", Type: "string", Priority: 1, Description: corev1.PodStatus{}.SwaggerDoc()["podIP"]},
		{Name: "Node", Type: "string", Priority: 1, Description: corev1.PodSpec{}.SwaggerDoc()["nodeName"]},
		{Name: "Nominated Node", Type: "string", Priority: 1, Description: corev1.PodStatus{}.SwaggerDoc()["nominatedNodeName"]},
		{Name: "Readiness Gates", Type: "string", Priority: 1, Description: corev1.PodSpec{}.SwaggerDoc()["readinessGates"]},
	},
	Row: func(p *corev1.Pod) []any { return Row(p, time.Now()) },
}

// fieldLabels are the field selectors a v1 Pod accepts; spec.host is the
// old name of spec.nodeName. status.podIPs is accepted but never set, as
// upstream.
var fieldLabels = map[string]string{
	"metadata.name":            "metadata.name",
	"metadata.namespace":       "metadata.namespace",
	"spec.nodeName":            "spec.nodeName",
	"spec.restartPolicy":       "spec.restartPolicy",
	"spec.schedulerName":       "spec.schedulerName",
	"spec.serviceAccountName":  "spec.serviceAccountName",
	"spec.hostNetwork":         "spec.hostNetwork",
	"status.phase":             "status.phase",
	"status.podIP":             "status.podIP",
	"status.podIPs":            "status.podIPs",
	"status.nominatedNodeName": "status.nominatedNodeName",
	"spec.host":                "spec.nodeName",
}

func init() {
	utilruntime.Must(scheme.Scheme.AddFieldLabelConversionFunc(Resource.GVK("v1"), func(label, value string) (string, string, error) {
		if to, ok := fieldLabels[label]; ok {
			return to, value, nil
		}
		return "", "", fmt.Errorf("field label not supported: %s", label)
	}))
}

func podIP(p *corev1.Pod) string {
	if len(p.Status.PodIPs) > 0 {
		return p.Status.PodIPs[0].IP
	}
	return p.Status.PodIP
}

// CheckGracefulDelete sets the grace period of a pod deletion: the one
// requested, else the pod's own, else 0; unscheduled and terminated pods
// go at once, and a negative period becomes 1.
func CheckGracefulDelete(_ context.Context, pod *corev1.Pod, options *metav1.DeleteOptions) bool {
	if options == nil {
		return false
	}
	period := int64(0)
	if options.GracePeriodSeconds != nil {
		period = *options.GracePeriodSeconds
	} else if pod.Spec.TerminationGracePeriodSeconds != nil {
		period = *pod.Spec.TerminationGracePeriodSeconds
	}
	if pod.Spec.NodeName == "" {
		period = 0
	}
	if pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		period = 0
	}
	if period < 0 {
		period = 1
	}
	options.GracePeriodSeconds = &period
	return true
}

// NormalizePodSpec keeps the deprecated serviceAccount field equal to
// serviceAccountName, which wins when both are set, as the v1 conversion
// does upstream.
func NormalizePodSpec(spec *corev1.PodSpec) {
	if spec.ServiceAccountName == "" {
		spec.ServiceAccountName = spec.DeprecatedServiceAccount
	}
	spec.DeprecatedServiceAccount = spec.ServiceAccountName
}

// normalizeStatusIPs keeps podIP/podIPs and hostIP/hostIPs consistent:
// the singular field is authoritative when they disagree.
func normalizeStatusIPs(st *corev1.PodStatus) {
	if st.PodIP != "" && (len(st.PodIPs) == 0 || st.PodIPs[0].IP != st.PodIP) {
		st.PodIPs = []corev1.PodIP{{IP: st.PodIP}}
	}
	if st.PodIP == "" && len(st.PodIPs) > 0 {
		st.PodIP = st.PodIPs[0].IP
	}
	if st.HostIP != "" && (len(st.HostIPs) == 0 || st.HostIPs[0].IP != st.HostIP) {
		st.HostIPs = []corev1.HostIP{{IP: st.HostIP}}
	}
	if st.HostIP == "" && len(st.HostIPs) > 0 {
		st.HostIP = st.HostIPs[0].IP
	}
}

// preserveObservedGeneration keeps observedGeneration values a status
// writer left out, for the pod and per condition type in order.
func preserveObservedGeneration(pod, old *corev1.Pod) {
	if pod.Status.ObservedGeneration == 0 {
		pod.Status.ObservedGeneration = old.Status.ObservedGeneration
	}
	byType := map[corev1.PodConditionType][]int64{}
	for _, c := range old.Status.Conditions {
		byType[c.Type] = append(byType[c.Type], c.ObservedGeneration)
	}
	for i, c := range pod.Status.Conditions {
		var g int64
		if gs := byType[c.Type]; len(gs) > 0 {
			g, byType[c.Type] = gs[0], gs[1:]
		}
		if c.ObservedGeneration == 0 {
			pod.Status.Conditions[i].ObservedGeneration = g
		}
	}
}

// updatePodCondition sets or replaces the condition of c's type, moving
// its transition time only when the status changes. It reports a change.
func updatePodCondition(st *corev1.PodStatus, c corev1.PodCondition) bool {
	now := metav1.Now()
	c.LastTransitionTime = now
	for i := range st.Conditions {
		old := &st.Conditions[i]
		if old.Type != c.Type {
			continue
		}
		if old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		}
		changed := old.Status != c.Status || old.Reason != c.Reason || old.Message != c.Message ||
			!old.LastProbeTime.Equal(&c.LastProbeTime) || old.ObservedGeneration != c.ObservedGeneration
		st.Conditions[i] = c
		return changed
	}
	st.Conditions = append(st.Conditions, c)
	return true
}

func warningsForPod(pod *corev1.Pod) []string {
	var w []string
	if msgs := validation.IsDNS1123Label(pod.Name); len(msgs) != 0 {
		w = append(w, fmt.Sprintf("metadata.name: this is used in the Pod's hostname, which can result in surprising behavior; a DNS label is recommended: %v", msgs))
	}
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		w = append(w, "spec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be treated as 1")
	}
	return w
}
