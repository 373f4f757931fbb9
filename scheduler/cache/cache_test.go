package cache

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2/ktesting"

	st "github.com/capstan-dev/capstan/scheduler/schedulertest"
)

func requestedCPU(t *testing.T, s *Snapshot, node string) int64 {
	t.Helper()
	ni, err := s.Get(node)
	if err != nil {
		t.Fatal(err)
	}
	return ni.Requested.MilliCPU
}

// TestAssumedPods walks a pod through the life the scheduler gives it:
// assumed on a node, then confirmed by the informer, or forgotten when the
// binding fails, or removed when deleted.
func TestAssumedPods(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	c := New()
	c.AddNode(st.MakeNode("n1").Capacity("cpu", "4").Obj())
	c.AddNode(st.MakeNode("n2").Capacity("cpu", "4").Obj())
	s := NewEmptySnapshot()
	pod := st.MakePod("p").Req("cpu", "1").Node("n1").Obj()

	if err := c.AssumePod(pod); err != nil {
		t.Fatal(err)
	}
	if !c.IsAssumedPod(pod) {
		t.Error("not assumed")
	}
	if err := c.AssumePod(pod); err == nil {
		t.Error("assumed twice")
	}
	c.UpdateSnapshot(s)
	if got := requestedCPU(t, s, "n1"); got != 1000 {
		t.Errorf("n1 requested %dm with the assumed pod, want 1000m", got)
	}

	// The informer reports the pod bound: no longer assumed, counted once.
	if err := c.AddPod(logger, pod); err != nil {
		t.Fatal(err)
	}
	if c.IsAssumedPod(pod) {
		t.Error("still assumed after the informer confirmed it")
	}
	c.UpdateSnapshot(s)
	if got := requestedCPU(t, s, "n1"); got != 1000 {
		t.Errorf("n1 requested %dm after confirmation, want 1000m", got)
	}
	if err := c.ForgetPod(logger, pod); err == nil {
		t.Error("forgot a confirmed pod")
	}
	if err := c.AddPod(logger, pod); err == nil {
		t.Error("added a pod twice")
	}

	// A binding that failed is forgotten.
	other := st.MakePod("q").Req("cpu", "2").Node("n2").Obj()
	if err := c.AssumePod(other); err != nil {
		t.Fatal(err)
	}
	if err := c.ForgetPod(logger, other); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(s)
	if got := requestedCPU(t, s, "n2"); got != 0 {
		t.Errorf("n2 requested %dm after forgetting, want 0", got)
	}

	// An assumed pod bound elsewhere by the time the informer sees it moves.
	moved := st.MakePod("m").Req("cpu", "1").Node("n1").Obj()
	if err := c.AssumePod(moved); err != nil {
		t.Fatal(err)
	}
	if err := c.AddPod(logger, st.MakePod("m").Req("cpu", "1").Node("n2").Obj()); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(s)
	if a, b := requestedCPU(t, s, "n1"), requestedCPU(t, s, "n2"); a != 1000 || b != 1000 {
		t.Errorf("requested n1 %dm n2 %dm, want 1000m each", a, b)
	}

	// Removal frees the room.
	c.RemovePod(logger, pod)
	c.UpdateSnapshot(s)
	if got := requestedCPU(t, s, "n1"); got != 0 {
		t.Errorf("n1 requested %dm after removal, want 0", got)
	}
	if nodes, pods := c.Counts(); nodes != 2 || pods != 1 {
		t.Errorf("counts: %d nodes, %d pods", nodes, pods)
	}
}

func TestUpdatePodChangesRequests(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	c := New()
	c.AddNode(st.MakeNode("n1").Capacity("cpu", "4").Obj())
	old := st.MakePod("p").Req("cpu", "2").Node("n1").Obj()
	if err := c.AddPod(logger, old); err != nil {
		t.Fatal(err)
	}
	resized := old.DeepCopy()
	resized.Spec.Containers[0].Resources.Requests = st.List("cpu", "500m")
	if err := c.UpdatePod(logger, old, resized); err != nil {
		t.Fatal(err)
	}
	s := NewEmptySnapshot()
	c.UpdateSnapshot(s)
	if got := requestedCPU(t, s, "n1"); got != 500 {
		t.Errorf("requested %dm, want 500m", got)
	}
}

func TestPodsBeforeTheirNode(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	c := New()
	// The informer may report a pod before its node.
	if err := c.AddPod(logger, st.MakePod("p").Req("cpu", "1").Node("late").Obj()); err != nil {
		t.Fatal(err)
	}
	s := NewEmptySnapshot()
	c.UpdateSnapshot(s)
	if s.NumNodes() != 0 {
		t.Fatalf("a node without its Node object is offered")
	}
	c.AddNode(st.MakeNode("late").Capacity("cpu", "4").Obj())
	c.UpdateSnapshot(s)
	if got := requestedCPU(t, s, "late"); got != 1000 {
		t.Errorf("requested %dm, want the earlier pod's 1000m", got)
	}
	// A deleted node is no longer offered, but its pods stay counted until removed.
	c.RemoveNode(st.MakeNode("late").Obj())
	c.UpdateSnapshot(s)
	if s.NumNodes() != 0 {
		t.Errorf("deleted node still offered")
	}
	if nodes, pods := c.Counts(); nodes != 0 || pods != 1 {
		t.Errorf("counts: %d nodes, %d pods", nodes, pods)
	}
}

// TestSnapshotCopiesOnlyChanges checks that an unchanged node keeps its
// copy across updates, a changed one gets a new one, and the snapshot's
// node infos are not the cache's.
func TestSnapshotCopiesOnlyChanges(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	c := New()
	c.AddNode(st.MakeNode("n1").Obj())
	c.AddNode(st.MakeNode("n2").Obj())
	s := NewEmptySnapshot()
	c.UpdateSnapshot(s)
	n1, _ := s.Get("n1")
	n2, _ := s.Get("n2")
	if err := c.AddPod(logger, st.MakePod("p").Node("n2").Obj()); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(s)
	n1b, _ := s.Get("n1")
	n2b, _ := s.Get("n2")
	if n1b != n1 {
		t.Error("unchanged node copied again")
	}
	if n2b == n2 || len(n2b.Pods) != 1 || len(n2.Pods) != 0 {
		t.Error("changed node not copied, or the old copy changed")
	}
	var names []string
	for _, ni := range s.List() {
		names = append(names, ni.Node().Name)
	}
	if diff := cmp.Diff([]string{"n1", "n2"}, names); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
}

func TestSnapshotInterleavesZones(t *testing.T) {
	c := New()
	for _, n := range []*v1.Node{
		st.MakeNode("a1").Label(v1.LabelTopologyZone, "a").Obj(),
		st.MakeNode("a2").Label(v1.LabelTopologyZone, "a").Obj(),
		st.MakeNode("a3").Label(v1.LabelTopologyZone, "a").Obj(),
		st.MakeNode("b1").Label(v1.LabelTopologyZone, "b").Obj(),
		st.MakeNode("c1").Label(v1.LabelTopologyZone, "c").Obj(),
		st.MakeNode("c2").Label(v1.LabelTopologyZone, "c").Obj(),
	} {
		c.AddNode(n)
	}
	s := NewEmptySnapshot()
	c.UpdateSnapshot(s)
	var names []string
	for _, ni := range s.List() {
		names = append(names, ni.Node().Name)
	}
	if diff := cmp.Diff([]string{"a1", "b1", "c1", "a2", "c2", "a3"}, names); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestSnapshotImageStates(t *testing.T) {
	c := New()
	c.AddNode(st.MakeNode("n1").Images(map[string]int64{"app:1": 100, "db:1": 300}).Obj())
	c.AddNode(st.MakeNode("n2").Images(map[string]int64{"app:1": 100}).Obj())
	s := NewEmptySnapshot()
	c.UpdateSnapshot(s)
	n1, _ := s.Get("n1")
	if got := n1.ImageStates["app:1"]; got == nil || got.NumNodes != 2 || got.Size != 100 {
		t.Errorf("app:1 on n1: %+v", got)
	}
	if got := n1.ImageStates["db:1"]; got == nil || got.NumNodes != 1 {
		t.Errorf("db:1 on n1: %+v", got)
	}
	// Another node losing the image updates every node's count.
	c.UpdateNode(nil, st.MakeNode("n2").Obj())
	c.UpdateSnapshot(s)
	n1, _ = s.Get("n1")
	if got := n1.ImageStates["app:1"]; got == nil || got.NumNodes != 1 {
		t.Errorf("app:1 on n1 after n2 lost it: %+v", got)
	}
}
