// Package schedulinggates keeps pods with spec.schedulingGates out of the
// active queue until the last gate is removed.
package schedulinggates

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"

	"github.com/capstan-dev/capstan/scheduler/framework"
)

// Name of the plugin.
const Name = "SchedulingGates"

// SchedulingGates is the plugin.
type SchedulingGates struct{}

var (
	_ framework.PreEnqueuePlugin  = &SchedulingGates{}
	_ framework.EnqueueExtensions = &SchedulingGates{}
)

// New builds the plugin.
func New(context.Context, framework.Handle) (framework.Plugin, error) {
	return &SchedulingGates{}, nil
}

// Name implements framework.Plugin.
func (pl *SchedulingGates) Name() string { return Name }

// PreEnqueue implements framework.PreEnqueuePlugin.
func (pl *SchedulingGates) PreEnqueue(_ context.Context, pod *v1.Pod) *framework.Status {
	if len(pod.Spec.SchedulingGates) == 0 {
		return nil
	}
	gates := make([]string, 0, len(pod.Spec.SchedulingGates))
	for _, g := range pod.Spec.SchedulingGates {
		gates = append(gates, g.Name)
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, fmt.Sprintf("waiting for scheduling gates: %v", gates))
}

// EventsToRegister implements framework.EnqueueExtensions: only the pod losing its last gate helps.
func (pl *SchedulingGates) EventsToRegister(context.Context) ([]framework.ClusterEventWithHint, error) {
	return []framework.ClusterEventWithHint{
		{Event: framework.ClusterEvent{Resource: framework.TargetPod, ActionType: framework.UpdatePodSchedulingGatesEliminated}},
	}, nil
}
