package balancedallocation

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/capstan-dev/capstan/scheduler/framework"
	st "github.com/capstan-dev/capstan/scheduler/schedulertest"
)

func TestScore(t *testing.T) {
	node := st.MakeNode("n").Capacity("cpu", "4", "memory", "10000").Obj()
	tests := []struct {
		name     string
		pod      *v1.Pod
		existing []*v1.Pod
		want     int64
		wantSkip bool
	}{
		// With the pod: cpu 1/4, memory 1/2, std 0.125 -> 87; without: 100.
		{name: "pod unbalances an empty node", pod: st.MakePod("p").Req("cpu", "1", "memory", "5000").Obj(), want: 68},
		// Without: 0.5 and 0.1 (80); with: 0.75 and 0.6 (92).
		{name: "pod balances a node", pod: st.MakePod("p").Req("cpu", "1", "memory", "5000").Obj(),
			existing: []*v1.Pod{st.MakePod("e").Node("n").Req("cpu", "2", "memory", "1000").Obj()}, want: 81},
		{name: "equal fractions stay balanced", pod: st.MakePod("p").Req("cpu", "2", "memory", "5000").Obj(), want: 75},
		{name: "best-effort pods are not scored", pod: st.MakePod("p").Obj(), wantSkip: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := New(context.Background(), nil)
			ba := p.(*BalancedAllocation)
			state := framework.NewCycleState()
			s := ba.PreScore(context.Background(), state, tt.pod, nil)
			if s.IsSkip() != tt.wantSkip {
				t.Fatalf("PreScore = %v, want skip %v", s, tt.wantSkip)
			}
			if tt.wantSkip {
				return
			}
			got, s := ba.Score(context.Background(), state, tt.pod, st.NodeInfo(node, tt.existing...))
			if !s.IsSuccess() || got != tt.want {
				t.Errorf("score = %d (%v), want %d", got, s, tt.want)
			}
		})
	}
}
