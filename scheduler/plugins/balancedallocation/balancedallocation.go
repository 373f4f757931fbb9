// Package balancedallocation prefers nodes whose cpu and memory would be
// used in similar proportions with the pod on them, and in closer
// proportions than without it.
package balancedallocation

import (
	"context"
	"math"

	v1 "k8s.io/api/core/v1"

	"github.com/capstan-dev/capstan/scheduler/framework"
	"github.com/capstan-dev/capstan/scheduler/plugins/noderesourcesfit"
)

const (
	// Name of the plugin.
	Name = "NodeResourcesBalancedAllocation"

	preScoreStateKey framework.StateKey = "PreScore" + Name
)

// BalancedAllocation is the plugin.
type BalancedAllocation struct {
	resources []noderesourcesfit.ResourceSpec
}

var (
	_ framework.PreScorePlugin = &BalancedAllocation{}
	_ framework.ScorePlugin    = &BalancedAllocation{}
)

// New builds the plugin, balancing cpu and memory.
func New(context.Context, framework.Handle) (framework.Plugin, error) {
	return &BalancedAllocation{resources: noderesourcesfit.DefaultResources}, nil
}

// Name implements framework.Plugin.
func (ba *BalancedAllocation) Name() string { return Name }

type preScoreState struct {
	podRequests []int64
}

func (s *preScoreState) Clone() framework.StateData { return s }

// PreScore computes the pod's requests; a pod requesting nothing changes no
// balance, so Score is skipped.
func (ba *BalancedAllocation) PreScore(_ context.Context, state *framework.CycleState, pod *v1.Pod, _ []*framework.NodeInfo) *framework.Status {
	reqs := noderesourcesfit.RequestsForScoring(pod, ba.resources, true)
	if isBestEffort(reqs) {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(preScoreStateKey, &preScoreState{podRequests: reqs})
	return nil
}

func isBestEffort(reqs []int64) bool {
	for _, r := range reqs {
		if r != 0 {
			return false
		}
	}
	return true
}

// Score implements framework.ScorePlugin.
func (ba *BalancedAllocation) Score(_ context.Context, state *framework.CycleState, pod *v1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	s, err := framework.ReadAs[*preScoreState](state, preScoreStateKey)
	if err != nil {
		s = &preScoreState{podRequests: noderesourcesfit.RequestsForScoring(pod, ba.resources, true)}
		if isBestEffort(s.podRequests) {
			return 0, nil
		}
	}
	requested, allocated, allocatable := noderesourcesfit.AllocatableAndRequested(nodeInfo, ba.resources, s.podRequests, true)
	return balancedScore(requested, allocated, allocatable), nil
}

// ScoreExtensions implements framework.ScorePlugin.
func (ba *BalancedAllocation) ScoreExtensions() framework.ScoreExtensions { return nil }

// balancedScore starts at the middle of the range and moves up by how much
// the pod improves the balance (and down by how much it worsens it).
func balancedScore(requested, allocated, allocatable []int64) int64 {
	with := balance(requested, allocatable)
	without := balance(allocated, allocatable)
	return framework.MaxNodeScore/2 + (framework.MaxNodeScore/2+with-without)/2
}

// balance is MaxNodeScore times one minus the standard deviation of the
// resources' usage fractions.
func balance(requested, allocatable []int64) int64 {
	var fractions []float64
	var total float64
	for i := range requested {
		if allocatable[i] == 0 {
			continue
		}
		f := min(float64(requested[i])/float64(allocatable[i]), 1)
		total += f
		fractions = append(fractions, f)
	}
	std := 0.0
	switch {
	case len(fractions) == 2:
		std = math.Abs((fractions[0] - fractions[1]) / 2)
	case len(fractions) > 2:
		mean := total / float64(len(fractions))
		var sum float64
		for _, f := range fractions {
			sum += (f - mean) * (f - mean)
		}
		std = math.Sqrt(sum / float64(len(fractions)))
	}
	return int64((1 - std) * float64(framework.MaxNodeScore))
}
