package pod

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/scheme"
)

func ptr[T any](v T) *T { return &v }

// summary renders errors as "Type field: detail" lines for comparison.
func summary(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%s %s: %s", string(e.Type), e.Field, e.Detail))
	}
	return out
}

// defaultedPod is a valid pod with the scheme's defaults applied, as a
// decoded request would be.
func defaultedPod(tweaks ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}},
		},
	}
	for _, t := range tweaks {
		t(p)
	}
	scheme.Scheme.Default(p)
	return p
}

func TestValidatePod(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(*corev1.Pod)
		want  []string
	}{
		{name: "valid"},
		{
			name:  "no containers",
			tweak: func(p *corev1.Pod) { p.Spec.Containers = nil },
			want:  []string{"FieldValueRequired spec.containers: "},
		},
		{
			name: "bad and duplicate container names across init and app",
			tweak: func(p *corev1.Pod) {
				p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "Bad_Name", Image: "x"})
				p.Spec.InitContainers = []corev1.Container{{Name: "app", Image: "x"}}
			},
			want: []string{
				"FieldValueInvalid spec.containers[1].name: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
				"FieldValueDuplicate spec.initContainers[0].name: ",
			},
		},
		{
			name:  "image required",
			tweak: func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" },
			want:  []string{"FieldValueRequired spec.containers[0].image: "},
		},
		{
			name:  "image whitespace",
			tweak: func(p *corev1.Pod) { p.Spec.Containers[0].Image = " nginx" },
			want:  []string{"FieldValueInvalid spec.containers[0].image: must not have leading or trailing whitespace"},
		},
		{
			name: "ports",
			tweak: func(p *corev1.Pod) {
				p.Spec.Containers[0].Ports = []corev1.ContainerPort{
					{Name: "http", ContainerPort: 80},
					{Name: "http", ContainerPort: 70000, Protocol: "ICMP"},
					{Name: "way-too-long-name", ContainerPort: 81, HostPort: -1},
				}
			},
			want: []string{
				"FieldValueDuplicate spec.containers[0].ports[1].name: ",
				"FieldValueInvalid spec.containers[0].ports[1].containerPort: must be between 1 and 65535, inclusive",
				`FieldValueNotSupported spec.containers[0].ports[1].protocol: supported values: "SCTP", "TCP", "UDP"`,
				"FieldValueInvalid spec.containers[0].ports[2].name: must be no more than 15 characters",
				"FieldValueInvalid spec.containers[0].ports[2].hostPort: must be between 1 and 65535, inclusive",
			},
		},
		{
			name: "env",
			tweak: func(p *corev1.Pod) {
				p.Spec.Containers[0].Env = []corev1.EnvVar{
					{Name: ""},
					{Name: "A=B"},
					{Name: "X", ValueFrom: &corev1.EnvVarSource{}},
					{Name: "Y", Value: "v", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"}}},
					{Name: "Z", ValueFrom: &corev1.EnvVarSource{
						SecretKeyRef:    &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"},
						ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}, Key: "k"},
					}},
					{Name: "F", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "spec.bogus"}}},
				}
			},
			want: []string{
				"FieldValueRequired spec.containers[0].env[0].name: ",
				"FieldValueInvalid spec.containers[0].env[1].name: a valid environment variable name must consist only of printable ASCII characters other than '='",
				"FieldValueInvalid spec.containers[0].env[2].valueFrom: must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef`, `secretKeyRef` or `fileKeyRef`",
				"FieldValueInvalid spec.containers[0].env[3].valueFrom: may not be specified when `value` is not empty",
				"FieldValueInvalid spec.containers[0].env[4].valueFrom: may not have more than one field specified at a time",
				`FieldValueNotSupported spec.containers[0].env[5].valueFrom.fieldRef.fieldPath: supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"`,
			},
		},
		{
			name: "volumes and mounts",
			tweak: func(p *corev1.Pod) {
				p.Spec.Volumes = []corev1.Volume{
					{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					{Name: "two", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}, HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}},
				}
				p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{
					{Name: "data", MountPath: "/data"},
					{Name: "missing", MountPath: "/data"},
				}
			},
			want: []string{
				"FieldValueDuplicate spec.volumes[1].name: ",
				"FieldValueForbidden spec.volumes[2].hostPath: may not specify more than 1 volume type",
				"FieldValueNotFound spec.containers[0].volumeMounts[1].name: ",
				"FieldValueInvalid spec.containers[0].volumeMounts[1].mountPath: must be unique",
			},
		},
		{
			name: "resources",
			tweak: func(p *corev1.Pod) {
				p.Spec.Containers[0].Resources = corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("-1")},
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
				}
			},
			want: []string{
				"FieldValueInvalid spec.containers[0].resources.requests: must be less than or equal to cpu limit of 1",
				"FieldValueInvalid spec.containers[0].resources.requests[memory]: must be greater than or equal to 0",
			},
		},
		{
			name: "extended resource without limit",
			tweak: func(p *corev1.Pod) {
				p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{"example.com/gpu": resource.MustParse("1"), "gpu": resource.MustParse("1")}
			},
			want: []string{
				"FieldValueRequired spec.containers[0].resources.limits: Limit must be set for non overcommitable resources",
				"FieldValueInvalid spec.containers[0].resources.requests[gpu]: must be a standard resource type or fully qualified",
				"FieldValueInvalid spec.containers[0].resources.requests[gpu]: must be a standard resource for containers",
			},
		},
		{
			name: "restart and dns policy",
			tweak: func(p *corev1.Pod) {
				p.Spec.RestartPolicy = "Sometimes"
				p.Spec.DNSPolicy = "Weird"
			},
			want: []string{
				`FieldValueNotSupported spec.restartPolicy: supported values: "Always", "OnFailure", "Never"`,
				`FieldValueNotSupported spec.dnsPolicy: supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"`,
			},
		},
		{
			name: "probes",
			tweak: func(p *corev1.Pod) {
				p.Spec.Containers[0].LivenessProbe = &corev1.Probe{PeriodSeconds: -1, SuccessThreshold: 2}
				p.Spec.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
					Exec:      &corev1.ExecAction{Command: []string{"true"}},
					TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)},
				}, PeriodSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1, TimeoutSeconds: 1}
			},
			want: []string{
				"FieldValueRequired spec.containers[0].livenessProbe: must specify a handler type",
				"FieldValueInvalid spec.containers[0].livenessProbe.periodSeconds: must be greater than or equal to 0",
				"FieldValueInvalid spec.containers[0].livenessProbe.successThreshold: must be 1",
				"FieldValueForbidden spec.containers[0].readinessProbe.tcpSocket: may not specify more than 1 handler type",
			},
		},
		{
			name: "init container probe needs sidecar, sidecar restartPolicy enum",
			tweak: func(p *corev1.Pod) {
				probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
				p.Spec.InitContainers = []corev1.Container{
					{Name: "setup", Image: "x", ReadinessProbe: probe},
					{Name: "proxy", Image: "x", RestartPolicy: ptr(corev1.ContainerRestartPolicyAlways), ReadinessProbe: probe},
					{Name: "odd", Image: "x", RestartPolicy: ptr(corev1.ContainerRestartPolicy("Never"))},
				}
				p.Spec.Containers[0].RestartPolicy = ptr(corev1.ContainerRestartPolicyAlways)
			},
			want: []string{
				"FieldValueForbidden spec.containers[0].restartPolicy: may not be set for non-init containers",
				"FieldValueForbidden spec.initContainers[0].readinessProbe: may not be set for init containers without restartPolicy=Always",
				`FieldValueNotSupported spec.initContainers[2].restartPolicy: supported values: "Always"`,
			},
		},
		{
			name: "deadline, node selector, tolerations",
			tweak: func(p *corev1.Pod) {
				p.Spec.ActiveDeadlineSeconds = ptr(int64(0))
				p.Spec.NodeSelector = map[string]string{"bad key!": "v"}
				p.Spec.Tolerations = []corev1.Toleration{
					{Key: "k", Operator: "Maybe"},
					{Operator: corev1.TolerationOpEqual},
					{Key: "k", Operator: corev1.TolerationOpExists, Value: "v", Effect: "Sometimes"},
					{Key: "k", TolerationSeconds: ptr(int64(5)), Effect: corev1.TaintEffectNoSchedule},
				}
			},
			want: []string{
				`FieldValueInvalid spec.nodeSelector: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
				"FieldValueInvalid spec.activeDeadlineSeconds: must be between 1 and 2147483647, inclusive",
				`FieldValueNotSupported spec.tolerations[0].operator: supported values: "Equal", "Exists"`,
				"FieldValueInvalid spec.tolerations[1].operator: operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
				"FieldValueInvalid spec.tolerations[2].operator: value must be empty when `operator` is 'Exists'",
				`FieldValueNotSupported spec.tolerations[2].effect: supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`,
				"FieldValueInvalid spec.tolerations[3].effect: effect must be 'NoExecute' when `tolerationSeconds` is set",
			},
		},
		{
			name: "host network ports must match",
			tweak: func(p *corev1.Pod) {
				p.Spec.HostNetwork = true
				p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}}
			},
			want: []string{"FieldValueInvalid spec.containers[0].ports[0].hostPort: must match `containerPort` when `hostNetwork` is true"},
		},
		{
			name: "security context",
			tweak: func(p *corev1.Pod) {
				p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr(int64(-1))}
				p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{
					Privileged:               ptr(true),
					AllowPrivilegeEscalation: ptr(false),
					SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost},
				}
			},
			want: []string{
				"FieldValueRequired spec.containers[0].securityContext.seccompProfile.localhostProfile: must be set when seccomp type is Localhost",
				"FieldValueInvalid spec.containers[0].securityContext: cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
				"FieldValueInvalid spec.securityContext.runAsUser: must be between 0 and 2147483647, inclusive",
			},
		},
		{
			name: "ephemeral containers only through the subresource",
			tweak: func(p *corev1.Pod) {
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}
			},
			want: []string{"FieldValueForbidden spec.ephemeralContainers: cannot be set on create"},
		},
		{
			name: "node name with scheduling gates",
			tweak: func(p *corev1.Pod) {
				p.Spec.NodeName = "n1"
				p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "wait"}}
			},
			want: []string{"FieldValueForbidden spec.nodeName: cannot be set until all schedulingGates have been cleared"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := defaultedPod()
			if tc.tweak != nil {
				tc.tweak(p)
				scheme.Scheme.Default(p)
			}
			if diff := cmp.Diff(tc.want, summary(ValidatePod(p))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidatePodTemplateSpec(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{
			Containers:          []corev1.Container{{Name: "app", Image: " spaced ", Ports: []corev1.ContainerPort{{ContainerPort: 80}}}},
			HostNetwork:         true,
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "d", Image: "x"}}},
		},
	}
	scheme.DefaultPodTemplateSpec(tmpl)
	// Templates may leave hostPort unset under hostNetwork and keep padded
	// images; they may not carry ephemeral containers.
	want := []string{"FieldValueForbidden template.spec.ephemeralContainers: ephemeral containers not allowed in pod template"}
	if diff := cmp.Diff(want, summary(ValidatePodTemplateSpec(tmpl, field.NewPath("template")))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestValidatePodUpdate(t *testing.T) {
	base := defaultedPod(func(p *corev1.Pod) {
		p.Spec.ActiveDeadlineSeconds = ptr(int64(100))
		p.Spec.Tolerations = []corev1.Toleration{{Key: "a", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(10))}}
		p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "g1"}, {Name: "g2"}}
	})
	tests := []struct {
		name  string
		tweak func(*corev1.Pod)
		want  []string
	}{
		{name: "image change", tweak: func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:1.28" }},
		{name: "deadline decrease", tweak: func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr(int64(50)) }},
		{
			name:  "deadline increase",
			tweak: func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr(int64(200)) },
			want:  []string{"FieldValueInvalid spec.activeDeadlineSeconds: must be less than or equal to previous value"},
		},
		{
			name:  "deadline removed",
			tweak: func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = nil },
			want:  []string{"FieldValueInvalid spec.activeDeadlineSeconds: must not update from a positive integer to nil value"},
		},
		{
			name: "toleration added and seconds changed",
			tweak: func(p *corev1.Pod) {
				p.Spec.Tolerations[0].TolerationSeconds = ptr(int64(20))
				p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "b", Operator: corev1.TolerationOpExists})
			},
		},
		{
			name:  "toleration removed",
			tweak: func(p *corev1.Pod) { p.Spec.Tolerations = nil },
			want:  []string{"FieldValueForbidden spec.tolerations: existing toleration can not be modified except its tolerationSeconds"},
		},
		{name: "gate removed", tweak: func(p *corev1.Pod) { p.Spec.SchedulingGates = p.Spec.SchedulingGates[1:] }},
		{
			name: "gate added",
			tweak: func(p *corev1.Pod) {
				p.Spec.SchedulingGates = append(p.Spec.SchedulingGates, corev1.PodSchedulingGate{Name: "g3"})
			},
			want: []string{"FieldValueForbidden spec.schedulingGates[2].name: only deletion is allowed, but found new scheduling gate 'g3'"},
		},
		{
			name: "container added",
			tweak: func(p *corev1.Pod) {
				p.Spec.Containers = append(p.Spec.Containers, p.Spec.Containers[0])
				p.Spec.Containers[1].Name = "two"
			},
			want: []string{"FieldValueForbidden spec.containers: pod updates may not add or remove containers"},
		},
		{name: "node selector added while gated", tweak: func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"zone": "a"} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := base.DeepCopy()
			tc.tweak(p)
			if diff := cmp.Diff(tc.want, summary(ValidatePodUpdate(p, base))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("other field forbidden", func(t *testing.T) {
		p := base.DeepCopy()
		p.Spec.Containers[0].Args = []string{"--debug"}
		errs := ValidatePodUpdate(p, base)
		if len(errs) != 1 || errs[0].Type != field.ErrorTypeForbidden || errs[0].Field != "spec" {
			t.Fatalf("want one Forbidden on spec, got %v", errs)
		}
		prefix := "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"
		if !strings.HasPrefix(errs[0].Detail, prefix) || !strings.Contains(errs[0].Detail, "--debug") {
			t.Errorf("detail %q lacks the upstream message or the diff", errs[0].Detail)
		}
	})

	t.Run("negative grace period may become 1", func(t *testing.T) {
		old := base.DeepCopy()
		old.Spec.TerminationGracePeriodSeconds = ptr(int64(-1))
		p := old.DeepCopy()
		p.Spec.TerminationGracePeriodSeconds = ptr(int64(1))
		if diff := cmp.Diff([]string(nil), summary(ValidatePodUpdate(p, old))); diff != "" {
			t.Errorf("errors (-want +got):\n%s", diff)
		}
		p.Spec.TerminationGracePeriodSeconds = ptr(int64(2))
		if errs := ValidatePodUpdate(p, old); len(errs) != 1 {
			t.Errorf("want the spec change forbidden, got %v", errs)
		}
	})
}

func TestValidatePodEphemeralContainersUpdate(t *testing.T) {
	ec := corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: "debug", Image: "busybox", ImagePullPolicy: corev1.PullIfNotPresent, TerminationMessagePolicy: corev1.TerminationMessageReadFile,
	}}
	old := defaultedPod()
	old.Spec.EphemeralContainers = []corev1.EphemeralContainer{ec}
	tests := []struct {
		name  string
		tweak func(*corev1.Pod)
		want  []string
	}{
		{name: "add", tweak: func(p *corev1.Pod) {
			add := ec
			add.Name, add.TargetContainerName = "debug2", "app"
			p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, add)
		}},
		{
			name:  "remove",
			tweak: func(p *corev1.Pod) { p.Spec.EphemeralContainers = nil },
			want:  []string{"FieldValueForbidden spec.ephemeralContainers: existing ephemeral containers \"debug\" may not be removed\n"},
		},
		{
			name: "forbidden fields, duplicate name, unknown target",
			tweak: func(p *corev1.Pod) {
				add := ec
				add.Name, add.TargetContainerName = "app", "nope"
				add.Ports = []corev1.ContainerPort{{ContainerPort: 80, Protocol: corev1.ProtocolTCP}}
				p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, add)
			},
			want: []string{
				"FieldValueDuplicate spec.ephemeralContainers[1].name: ",
				"FieldValueNotFound spec.ephemeralContainers[1].targetContainerName: ",
				"FieldValueForbidden spec.ephemeralContainers[1].ports: cannot be set for an Ephemeral Container",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := old.DeepCopy()
			tc.tweak(p)
			if diff := cmp.Diff(tc.want, summary(ValidatePodEphemeralContainersUpdate(p, old))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidatePodResize(t *testing.T) {
	old := defaultedPod(func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources = corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
		}
	})
	old.Status.QOSClass = QOSClass(old)
	tests := []struct {
		name  string
		tweak func(*corev1.Pod)
		want  []string
	}{
		{name: "cpu up", tweak: func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU] = resource.MustParse("1")
		}},
		{
			name: "memory limit down",
			tweak: func(p *corev1.Pod) {
				p.Spec.Containers[0].Resources.Limits[corev1.ResourceMemory] = resource.MustParse("100Mi")
			},
			want: []string{"FieldValueForbidden spec.containers[0].resources.limits[memory]: memory limits cannot be decreased unless resizePolicy is RestartContainer"},
		},
		{
			name:  "request removed",
			tweak: func(p *corev1.Pod) { delete(p.Spec.Containers[0].Resources.Requests, corev1.ResourceCPU) },
			want:  []string{"FieldValueForbidden spec.containers[0].resources.requests: resource requests cannot be removed"},
		},
		{
			name: "qos change",
			tweak: func(p *corev1.Pod) {
				p.Spec.Containers[0].Resources.Requests = p.Spec.Containers[0].Resources.Limits.DeepCopy()
			},
			want: []string{"FieldValueInvalid spec: Pod QOS Class may not change as a result of resizing"},
		},
		{
			name: "ephemeral storage",
			tweak: func(p *corev1.Pod) {
				p.Spec.Containers[0].Resources.Limits[corev1.ResourceEphemeralStorage] = resource.MustParse("1Gi")
			},
			want: []string{"FieldValueForbidden spec: only cpu and memory resources are mutable"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := old.DeepCopy()
			tc.tweak(p)
			if diff := cmp.Diff(tc.want, summary(ValidatePodResize(p, old))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidatePodStatusUpdate(t *testing.T) {
	old := defaultedPod(func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyNever })
	old.Status = corev1.PodStatus{
		QOSClass:          corev1.PodQOSBestEffort,
		ContainerStatuses: []corev1.ContainerStatus{{Name: "app", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}}},
	}
	p := old.DeepCopy()
	p.Status.QOSClass = corev1.PodQOSGuaranteed
	p.Status.ContainerStatuses[0].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	p.Status.PodIPs = []corev1.PodIP{{IP: "10.0.0.1"}, {IP: "10.0.0.2"}}
	p.Status.Conditions = []corev1.PodCondition{{Type: "not valid!", Status: corev1.ConditionTrue}}
	want := []string{
		"FieldValueInvalid metadata.conditions[0].Type: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
		"FieldValueInvalid status.qosClass: field is immutable",
		"FieldValueForbidden status.containerStatuses[0].state: may not be transitioned to non-terminated state",
		"FieldValueInvalid status.podIPs: may specify no more than one IP for each IP family",
	}
	if diff := cmp.Diff(want, summary(ValidatePodStatusUpdate(p, old))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestValidatePodBinding(t *testing.T) {
	b := &corev1.Binding{Target: corev1.ObjectReference{Kind: "Pod"}}
	want := []string{
		`FieldValueNotSupported target.kind: supported values: "Node", "<empty>"`,
		"FieldValueRequired target.name: ",
	}
	if diff := cmp.Diff(want, summary(ValidatePodBinding(b))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}
