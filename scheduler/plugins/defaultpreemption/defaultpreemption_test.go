package defaultpreemption

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/ptr"

	"github.com/capstan-dev/capstan/scheduler/framework"
	"github.com/capstan-dev/capstan/scheduler/plugins/nodeaffinity"
	"github.com/capstan-dev/capstan/scheduler/plugins/noderesourcesfit"
	st "github.com/capstan-dev/capstan/scheduler/schedulertest"
)

// TestPostFilter runs the plugin in a framework with NodeResourcesFit and
// NodeAffinity, as the scheduler does when no node fits.
func TestPostFilter(t *testing.T) {
	small := st.MakeNode("small").Capacity("cpu", "1").Obj()
	big := st.MakeNode("big").Capacity("cpu", "4").Label("pool", "big").Obj()
	tests := []struct {
		name     string
		pod      *v1.Pod
		existing []*v1.Pod
		want     string
	}{
		{
			name: "request larger than any node: preemption cannot help",
			pod:  st.MakePod("p").Req("cpu", "8").Obj(),
			want: "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
		},
		{
			name:     "full of pods of the same priority",
			pod:      st.MakePod("p").Req("cpu", "1").Obj(),
			existing: []*v1.Pod{st.MakePod("e1").Node("small").Req("cpu", "1").Obj(), st.MakePod("e2").Node("big").Req("cpu", "4").Obj()},
			want:     "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
		},
		{
			name:     "node affinity rules a node out, the other is full",
			pod:      st.MakePod("p").Req("cpu", "1").NodeSelector(map[string]string{"pool": "big"}).Obj(),
			existing: []*v1.Pod{st.MakePod("e2").Node("big").Req("cpu", "4").Obj()},
			want:     "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.",
		},
		{
			name: "evicting lower-priority pods would not be enough",
			pod:  st.MakePod("p").Req("cpu", "3").Priority(10).NodeSelector(map[string]string{"pool": "big"}).Obj(),
			existing: []*v1.Pod{
				st.MakePod("low").Node("big").Req("cpu", "1").Priority(1).Obj(),
				st.MakePod("high").Node("big").Req("cpu", "3").Priority(100).Obj(),
			},
			want: "preemption: 0/2 nodes are available: 1 Insufficient cpu, 1 Preemption is not helpful for scheduling.",
		},
		{
			name:     "evicting lower-priority pods would make room",
			pod:      st.MakePod("p").Req("cpu", "1").Priority(10).Obj(),
			existing: []*v1.Pod{st.MakePod("e1").Node("small").Req("cpu", "1").Priority(1).Obj(), st.MakePod("e2").Node("big").Req("cpu", "4").Priority(100).Obj()},
			want:     "preemption: not implemented; evicting lower-priority pods would make room on 1 node(s).",
		},
		{
			name:     "pods that never preempt",
			pod:      withNever(st.MakePod("p").Req("cpu", "1").Priority(10).Obj()),
			existing: []*v1.Pod{st.MakePod("e1").Node("small").Req("cpu", "1").Obj(), st.MakePod("e2").Node("big").Req("cpu", "4").Obj()},
			want:     "preemption: not eligible due to preemptionPolicy=Never.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			lister := st.Snapshot([]*v1.Node{small, big}, tt.existing...)
			registry := framework.Registry{Name: New, noderesourcesfit.Name: noderesourcesfit.New, nodeaffinity.Name: nodeaffinity.New}
			profile := framework.Profile{SchedulerName: "s", Plugins: []framework.PluginConfig{{Name: nodeaffinity.Name, Weight: 1}, {Name: noderesourcesfit.Name, Weight: 1}, {Name: Name}}}
			fw, err := framework.New(ctx, registry, profile, lister, nil)
			if err != nil {
				t.Fatal(err)
			}
			state := framework.NewCycleState()
			if _, s, _ := fw.RunPreFilterPlugins(ctx, state, tt.pod); !s.IsSuccess() {
				t.Fatal(s)
			}
			statuses := framework.NewNodeToStatus()
			for _, ni := range lister {
				s := fw.RunFilterPlugins(ctx, state, tt.pod, ni)
				if s.IsSuccess() {
					t.Fatalf("pod fits %s", ni.Node().Name)
				}
				statuses.Set(ni.Node().Name, s)
			}
			s := fw.RunPostFilterPlugins(ctx, state, tt.pod, statuses)
			if s.Code() != framework.Unschedulable || s.Message() != tt.want {
				t.Errorf("PostFilter = %v\nwant message %q", s, tt.want)
			}
		})
	}
}

func withNever(p *v1.Pod) *v1.Pod {
	p.Spec.PreemptionPolicy = ptr.To(v1.PreemptNever)
	return p
}
