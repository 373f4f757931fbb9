package replicaset

import (
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// podBuilder makes test pods.
type podBuilder struct{ pod *corev1.Pod }

func newPod(name string) podBuilder {
	return podBuilder{&corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: "ns", UID: types.UID("uid-" + name), Labels: map[string]string{"app": "web"},
		CreationTimestamp: metav1.NewTime(now.Add(-time.Hour)),
	}, Status: corev1.PodStatus{Phase: corev1.PodPending}}}
}

func (b podBuilder) node(n string) podBuilder { b.pod.Spec.NodeName = n; return b }
func (b podBuilder) phase(p corev1.PodPhase) podBuilder {
	b.pod.Status.Phase = p
	return b
}
func (b podBuilder) created(ago time.Duration) podBuilder {
	b.pod.CreationTimestamp = metav1.NewTime(now.Add(-ago))
	return b
}
func (b podBuilder) readySince(ago time.Duration) podBuilder {
	b.pod.Status.Phase = corev1.PodRunning
	b.pod.Status.Conditions = append(b.pod.Status.Conditions, corev1.PodCondition{
		Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-ago)),
	})
	return b
}
func (b podBuilder) restarts(n int32) podBuilder {
	b.pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", RestartCount: n}}
	return b
}
func (b podBuilder) cost(c string) podBuilder {
	b.pod.Annotations = map[string]string{DeletionCostAnnotation: c}
	return b
}
func (b podBuilder) labels(l map[string]string) podBuilder { b.pod.Labels = l; return b }
func (b podBuilder) deleting() podBuilder {
	t := metav1.NewTime(now)
	b.pod.DeletionTimestamp = &t
	return b
}
func (b podBuilder) build() *corev1.Pod { return b.pod }

func TestDeletionPreference(t *testing.T) {
	tests := []struct {
		name string
		// pods in the order they should be deleted
		pods  []*corev1.Pod
		ranks map[string]int
	}{
		{
			name: "unscheduled before scheduled",
			pods: []*corev1.Pod{newPod("a").build(), newPod("b").node("n1").build()},
		},
		{
			name: "pending before unknown before running",
			pods: []*corev1.Pod{
				newPod("a").node("n").build(),
				newPod("b").node("n").phase(corev1.PodUnknown).build(),
				newPod("c").node("n").phase(corev1.PodRunning).build(),
			},
		},
		{
			name: "not ready before ready",
			pods: []*corev1.Pod{
				newPod("a").node("n").phase(corev1.PodRunning).build(),
				newPod("b").node("n").readySince(time.Minute).build(),
			},
		},
		{
			name: "lower deletion cost first, even if ready for less time",
			pods: []*corev1.Pod{
				newPod("a").node("n").readySince(time.Hour).cost("-5").build(),
				newPod("b").node("n").readySince(time.Minute).build(),
				newPod("c").node("n").readySince(time.Minute).cost("10").build(),
			},
		},
		{
			name:  "more siblings on the node first",
			pods:  []*corev1.Pod{newPod("a").node("crowded").readySince(time.Hour).build(), newPod("b").node("quiet").readySince(time.Minute).build()},
			ranks: map[string]int{"a": 3, "b": 1},
		},
		{
			name: "ready for less time first, on a log scale",
			pods: []*corev1.Pod{
				newPod("a").node("n").readySince(time.Minute).build(),
				newPod("b").node("n").readySince(10 * time.Hour).build(),
			},
		},
		{
			name: "more restarts first",
			pods: []*corev1.Pod{
				newPod("a").node("n").readySince(time.Hour).restarts(4).build(),
				newPod("b").node("n").readySince(time.Hour).restarts(1).build(),
			},
		},
		{
			name: "newer first",
			pods: []*corev1.Pod{
				newPod("a").node("n").phase(corev1.PodRunning).created(time.Minute).build(),
				newPod("b").node("n").phase(corev1.PodRunning).created(48 * time.Hour).build(),
			},
		},
		{
			name: "similar ages tie, broken by UID",
			pods: []*corev1.Pod{
				newPod("a").node("n").phase(corev1.PodRunning).created(time.Hour + time.Minute).build(),
				newPod("b").node("n").phase(corev1.PodRunning).created(time.Hour).build(),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := names(tt.pods)
			// Every starting order must sort to the same result.
			for shift := range tt.pods {
				in := append(append([]*corev1.Pod(nil), tt.pods[shift:]...), tt.pods[:shift]...)
				s := byDeletionPreference{pods: in, rank: make([]int, len(in)), now: now}
				for i, p := range in {
					s.rank[i] = tt.ranks[p.Name]
				}
				sort.Sort(s)
				if diff := cmp.Diff(want, names(s.pods)); diff != "" {
					t.Errorf("starting at %d (-want +got):\n%s", shift, diff)
				}
			}
		})
	}
}

func names(pods []*corev1.Pod) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Name
	}
	return out
}

func TestAvailability(t *testing.T) {
	tests := []struct {
		name            string
		pod             *corev1.Pod
		minReadySeconds int32
		available       bool
		wait            time.Duration
	}{
		{"not ready", newPod("a").phase(corev1.PodRunning).build(), 0, false, 0},
		{"ready, no minimum", newPod("a").readySince(0).build(), 0, true, 0},
		{"ready long enough", newPod("a").readySince(time.Minute).build(), 30, true, 0},
		{"ready too recently", newPod("a").readySince(10 * time.Second).build(), 30, false, 20 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsAvailable(tt.pod, tt.minReadySeconds, now); got != tt.available {
				t.Errorf("IsAvailable = %v, want %v", got, tt.available)
			}
			left, ok := untilAvailable(tt.pod, tt.minReadySeconds, now)
			if ok != (tt.wait > 0) || left != tt.wait {
				t.Errorf("untilAvailable = %v %v, want %v", left, ok, tt.wait)
			}
		})
	}
}
