package pod

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/capstan-dev/capstan/registry/scheme"
)

func resources(req, lim string) corev1.ResourceRequirements {
	r := corev1.ResourceRequirements{}
	if req != "" {
		r.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(req), corev1.ResourceMemory: resource.MustParse(req + "Mi")}
	}
	if lim != "" {
		r.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(lim), corev1.ResourceMemory: resource.MustParse(lim + "Mi")}
	}
	return r
}

func TestQOSClass(t *testing.T) {
	tests := []struct {
		name string
		spec corev1.PodSpec
		want corev1.PodQOSClass
	}{
		{"best effort", corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}}, corev1.PodQOSBestEffort},
		{"guaranteed", corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Resources: resources("1", "1")}}}, corev1.PodQOSGuaranteed},
		{"burstable: request below limit", corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Resources: resources("1", "2")}}}, corev1.PodQOSBurstable},
		{"burstable: only requests", corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Resources: resources("1", "")}}}, corev1.PodQOSBurstable},
		{"burstable: one container without limits", corev1.PodSpec{Containers: []corev1.Container{
			{Name: "a", Resources: resources("1", "1")}, {Name: "b"},
		}}, corev1.PodQOSBurstable},
		{"init container counts", corev1.PodSpec{
			Containers:     []corev1.Container{{Name: "a", Resources: resources("1", "1")}},
			InitContainers: []corev1.Container{{Name: "i", Resources: resources("1", "2")}},
		}, corev1.PodQOSBurstable},
		{"zero quantities ignored", corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Resources: resources("0", "0")}}}, corev1.PodQOSBestEffort},
		{"pod-level resources win", corev1.PodSpec{
			Containers: []corev1.Container{{Name: "a"}},
			Resources:  &corev1.ResourceRequirements{Requests: resources("1", "").Requests, Limits: resources("", "1").Limits},
		}, corev1.PodQOSGuaranteed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := QOSClass(&corev1.Pod{Spec: tc.spec}); got != tc.want {
				t.Errorf("QOSClass = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestCheckGracefulDelete(t *testing.T) {
	tests := []struct {
		name      string
		nodeName  string
		phase     corev1.PodPhase
		podGrace  *int64
		requested *int64
		want      int64
	}{
		{name: "unscheduled deletes at once", requested: ptr(int64(30)), want: 0},
		{name: "scheduled uses the request", nodeName: "n", podGrace: ptr(int64(45)), requested: ptr(int64(10)), want: 10},
		{name: "scheduled falls back to the pod", nodeName: "n", podGrace: ptr(int64(45)), want: 45},
		{name: "no period at all", nodeName: "n", want: 0},
		{name: "negative becomes 1", nodeName: "n", requested: ptr(int64(-5)), want: 1},
		{name: "succeeded deletes at once", nodeName: "n", phase: corev1.PodSucceeded, podGrace: ptr(int64(45)), want: 0},
		{name: "failed deletes at once", nodeName: "n", phase: corev1.PodFailed, requested: ptr(int64(30)), want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{NodeName: tc.nodeName, TerminationGracePeriodSeconds: tc.podGrace}, Status: corev1.PodStatus{Phase: tc.phase}}
			opts := &metav1.DeleteOptions{GracePeriodSeconds: tc.requested}
			if !CheckGracefulDelete(context.Background(), pod, opts) {
				t.Fatal("CheckGracefulDelete = false")
			}
			if diff := cmp.Diff(&tc.want, opts.GracePeriodSeconds); diff != "" {
				t.Errorf("grace period (-want +got):\n%s", diff)
			}
		})
	}
	if CheckGracefulDelete(context.Background(), &corev1.Pod{}, nil) {
		t.Error("nil options: want false")
	}
}

func TestRow(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	created := metav1.NewTime(now.Add(-5 * time.Hour))
	fiveMinAgo := metav1.NewTime(now.Add(-5 * time.Minute))
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	base := func() *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "web", CreationTimestamp: created},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}, {Name: "b"}}},
			Status:     corev1.PodStatus{Phase: corev1.PodPending},
		}
	}
	tests := []struct {
		name  string
		tweak func(*corev1.Pod)
		want  []any
	}{
		{
			name: "pending",
			want: []any{"web", "0/2", "Pending", "0", "5h", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "running with restarts",
			tweak: func(p *corev1.Pod) {
				p.Spec.NodeName = "node-1"
				p.Status.Phase = corev1.PodRunning
				p.Status.PodIPs = []corev1.PodIP{{IP: "10.1.0.5"}}
				p.Status.ContainerStatuses = []corev1.ContainerStatus{
					{Name: "a", Ready: true, State: running, RestartCount: 2,
						LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: fiveMinAgo}}},
					{Name: "b", Ready: true, State: running, RestartCount: 3},
				}
			},
			want: []any{"web", "2/2", "Running", "5 (5m ago)", "5h", "10.1.0.5", "node-1", "<none>", "<none>"},
		},
		{
			name: "waiting reason",
			tweak: func(p *corev1.Pod) {
				p.Status.ContainerStatuses = []corev1.ContainerStatus{
					{Name: "a", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}},
					{Name: "b", Ready: true, State: running},
				}
			},
			want: []any{"web", "1/2", "CrashLoopBackOff", "0", "5h", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "init containers",
			tweak: func(p *corev1.Pod) {
				p.Spec.InitContainers = []corev1.Container{{Name: "i1"}, {Name: "i2"}}
				p.Status.InitContainerStatuses = []corev1.ContainerStatus{
					{Name: "i1", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}},
					{Name: "i2", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}},
				}
			},
			want: []any{"web", "0/2", "Init:1/2", "0", "5h", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "init container failed",
			tweak: func(p *corev1.Pod) {
				p.Spec.InitContainers = []corev1.Container{{Name: "i1"}}
				p.Status.InitContainerStatuses = []corev1.ContainerStatus{
					{Name: "i1", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 3}}},
				}
			},
			want: []any{"web", "0/2", "Init:ExitCode:3", "0", "5h", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "sidecar counts as a container",
			tweak: func(p *corev1.Pod) {
				p.Spec.InitContainers = []corev1.Container{{Name: "proxy", RestartPolicy: ptr(corev1.ContainerRestartPolicyAlways)}}
				p.Status.Phase = corev1.PodRunning
				p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}}
				p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "proxy", Ready: true, Started: ptr(true), State: running, RestartCount: 1}}
				p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "a", Ready: true, State: running}, {Name: "b", Ready: true, State: running}}
			},
			want: []any{"web", "3/3", "Running", "1", "5h", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "terminating",
			tweak: func(p *corev1.Pod) {
				p.Status.Phase = corev1.PodRunning
				p.DeletionTimestamp = &created
			},
			want: []any{"web", "0/2", "Terminating", "0", "5h", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "terminal pod being deleted keeps its reason",
			tweak: func(p *corev1.Pod) {
				p.Status.Phase = corev1.PodSucceeded
				p.DeletionTimestamp = &created
				p.Status.ContainerStatuses = []corev1.ContainerStatus{
					{Name: "a", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}},
				}
			},
			want: []any{"web", "0/2", "Completed", "0", "5h", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "scheduling gated, nominated node, readiness gates",
			tweak: func(p *corev1.Pod) {
				p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/ready"}, {ConditionType: "example.com/other"}}
				p.Status.NominatedNodeName = "node-2"
				p.Status.Conditions = []corev1.PodCondition{
					{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonSchedulingGated},
					{Type: "example.com/ready", Status: corev1.ConditionTrue},
				}
			},
			want: []any{"web", "0/2", "SchedulingGated", "0", "5h", "<none>", "<none>", "node-2", "1/2"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := base()
			if tc.tweak != nil {
				tc.tweak(p)
			}
			if diff := cmp.Diff(tc.want, Row(p, now)); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPrepareForCreate(t *testing.T) {
	p := defaultedPod(func(p *corev1.Pod) {
		p.Spec.DeprecatedServiceAccount = "builder"
		p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "wait"}}
		p.Spec.Containers[0].Resources = resources("1", "1")
	})
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "1.2.3.4"}
	Resource.PrepareForCreate(context.Background(), p)
	if p.Spec.ServiceAccountName != "builder" {
		t.Errorf("serviceAccountName = %q, want the deprecated field's value", p.Spec.ServiceAccountName)
	}
	p.Status.Conditions[0].LastTransitionTime = metav1.Time{}
	want := corev1.PodStatus{
		Phase:    corev1.PodPending,
		QOSClass: corev1.PodQOSGuaranteed,
		Conditions: []corev1.PodCondition{{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonSchedulingGated,
			Message: "Scheduling is blocked due to non-empty scheduling gates",
		}},
	}
	if diff := cmp.Diff(want, p.Status); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
}

func TestFieldSelectors(t *testing.T) {
	gvk := Resource.GVK("v1")
	for label, want := range map[string]string{"spec.host": "spec.nodeName", "status.podIP": "status.podIP", "spec.hostNetwork": "spec.hostNetwork"} {
		got, _, err := scheme.Scheme.ConvertFieldLabel(gvk, label, "x")
		if err != nil || got != want {
			t.Errorf("ConvertFieldLabel(%s) = %q, %v; want %q", label, got, err, want)
		}
	}
	if _, _, err := scheme.Scheme.ConvertFieldLabel(gvk, "spec.containers", "x"); err == nil {
		t.Error("spec.containers: want an error")
	}
	pod := &corev1.Pod{
		Spec:   corev1.PodSpec{NodeName: "n1", HostNetwork: true, RestartPolicy: corev1.RestartPolicyNever},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIPs: []corev1.PodIP{{IP: "10.0.0.1"}, {IP: "fd00::1"}}},
	}
	got := map[string]string{}
	for name, f := range Resource.Fields {
		got[name] = f(pod)
	}
	want := map[string]string{
		"spec.nodeName": "n1", "spec.restartPolicy": "Never", "spec.schedulerName": "", "spec.serviceAccountName": "",
		"spec.hostNetwork": "true", "status.phase": "Running", "status.podIP": "10.0.0.1", "status.nominatedNodeName": "",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

func TestBindPod(t *testing.T) {
	deleting := metav1.Now()
	tests := []struct {
		name    string
		pod     corev1.Pod
		wantErr string
	}{
		{name: "binds", pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Generation: 3}, Status: corev1.PodStatus{NominatedNodeName: "other"}}},
		{name: "already bound", pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{NodeName: "n0"}}, wantErr: `pod p is already assigned to node "n0"`},
		{name: "being deleted", pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", DeletionTimestamp: &deleting}}, wantErr: "pod p is being deleted, cannot be assigned to a host"},
		{name: "gated", pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{SchedulingGates: []corev1.PodSchedulingGate{{Name: "g"}}}}, wantErr: "pod p has non-empty .spec.schedulingGates"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.pod.DeepCopy()
			err := bindPod(p, "n1", map[string]string{"a": "b"}, map[string]string{"topology.kubernetes.io/zone": "z1"})
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p.Status.Conditions[0].LastTransitionTime = metav1.Time{}
			want := tc.pod.DeepCopy()
			want.Spec.NodeName = "n1"
			want.Annotations = map[string]string{"a": "b"}
			want.Labels = map[string]string{"topology.kubernetes.io/zone": "z1"}
			want.Status.NominatedNodeName = ""
			want.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, ObservedGeneration: 3}}
			if diff := cmp.Diff(want, p); diff != "" {
				t.Errorf("pod (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSubresourcePrepare(t *testing.T) {
	old := defaultedPod(func(p *corev1.Pod) { p.Labels = map[string]string{"a": "1"} })
	old.Status.Phase = corev1.PodRunning

	t.Run("ephemeral containers keep only the new ephemeral containers", func(t *testing.T) {
		p := old.DeepCopy()
		p.Labels = map[string]string{"a": "2"}
		p.Spec.Containers[0].Image = "other"
		p.Status.Phase = corev1.PodFailed
		p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug"}}}
		prepareEphemeralContainersUpdate(p, old)
		want := old.DeepCopy()
		want.Spec.EphemeralContainers = p.Spec.EphemeralContainers
		if diff := cmp.Diff(want, p); diff != "" {
			t.Errorf("pod (-want +got):\n%s", diff)
		}
	})
	t.Run("resize keeps only resources and resize policy", func(t *testing.T) {
		p := old.DeepCopy()
		p.Spec.Containers[0].Image = "other"
		p.Spec.Containers[0].Resources = resources("1", "2")
		p.Spec.ActiveDeadlineSeconds = ptr(int64(5))
		prepareResizeUpdate(p, old)
		want := old.DeepCopy()
		want.Spec.Containers[0].Resources = resources("1", "2")
		if diff := cmp.Diff(want, p); diff != "" {
			t.Errorf("pod (-want +got):\n%s", diff)
		}
	})
}

func TestWarnings(t *testing.T) {
	p := defaultedPod(func(p *corev1.Pod) { p.Name = "a.b"; p.Spec.TerminationGracePeriodSeconds = ptr(int64(-1)) })
	want := []string{
		"metadata.name: this is used in the Pod's hostname, which can result in surprising behavior; a DNS label is recommended: [must not contain dots]",
		"spec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be treated as 1",
	}
	if diff := cmp.Diff(want, warningsForPod(p)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestTableConditions(t *testing.T) {
	list := &corev1.PodList{Items: []corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Name: "done"}, Status: corev1.PodStatus{Phase: corev1.PodSucceeded}},
		{ObjectMeta: metav1.ObjectMeta{Name: "up"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}},
	}}
	tc := tableConvertor{fakeConvertor{}}
	table, err := tc.ConvertToTable(context.Background(), list, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(podSucceededConditions, table.Rows[0].Conditions); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
	if table.Rows[1].Conditions != nil {
		t.Errorf("running pod: conditions %v", table.Rows[1].Conditions)
	}
}

type fakeConvertor struct{}

func (fakeConvertor) ConvertToTable(_ context.Context, obj runtime.Object, _ runtime.Object) (*metav1.Table, error) {
	t := &metav1.Table{}
	for i := range obj.(*corev1.PodList).Items {
		t.Rows = append(t.Rows, metav1.TableRow{Object: runtime.RawExtension{Object: &obj.(*corev1.PodList).Items[i]}})
	}
	return t, nil
}
