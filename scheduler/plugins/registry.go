// Package plugins lists Capstan's scheduler plugins, one package each
// below this one, and the default profile that enables them.
package plugins

import (
	"github.com/capstan-dev/capstan/scheduler/framework"
	"github.com/capstan-dev/capstan/scheduler/plugins/balancedallocation"
	"github.com/capstan-dev/capstan/scheduler/plugins/defaultpreemption"
	"github.com/capstan-dev/capstan/scheduler/plugins/imagelocality"
	"github.com/capstan-dev/capstan/scheduler/plugins/interpodaffinity"
	"github.com/capstan-dev/capstan/scheduler/plugins/nodeaffinity"
	"github.com/capstan-dev/capstan/scheduler/plugins/nodename"
	"github.com/capstan-dev/capstan/scheduler/plugins/nodeports"
	"github.com/capstan-dev/capstan/scheduler/plugins/noderesourcesfit"
	"github.com/capstan-dev/capstan/scheduler/plugins/nodeunschedulable"
	"github.com/capstan-dev/capstan/scheduler/plugins/podtopologyspread"
	"github.com/capstan-dev/capstan/scheduler/plugins/schedulinggates"
	"github.com/capstan-dev/capstan/scheduler/plugins/tainttoleration"
)

// NewRegistry returns the factories of every plugin.
func NewRegistry() framework.Registry {
	return framework.Registry{
		schedulinggates.Name:    schedulinggates.New,
		nodename.Name:           nodename.New,
		nodeunschedulable.Name:  nodeunschedulable.New,
		tainttoleration.Name:    tainttoleration.New,
		nodeaffinity.Name:       nodeaffinity.New,
		nodeports.Name:          nodeports.New,
		noderesourcesfit.Name:   noderesourcesfit.New,
		podtopologyspread.Name:  podtopologyspread.New,
		interpodaffinity.Name:   interpodaffinity.New,
		defaultpreemption.Name:  defaultpreemption.New,
		balancedallocation.Name: balancedallocation.New,
		imagelocality.Name:      imagelocality.New,
	}
}

// DefaultProfile enables the plugins in upstream's default order and with
// its score weights. Upstream's volume plugins (VolumeRestrictions,
// NodeVolumeLimits, VolumeBinding, VolumeZone) are not implemented.
func DefaultProfile(schedulerName string) framework.Profile {
	return framework.Profile{
		SchedulerName: schedulerName,
		Plugins: []framework.PluginConfig{
			{Name: schedulinggates.Name},
			{Name: nodename.Name},
			{Name: nodeunschedulable.Name},
			{Name: tainttoleration.Name, Weight: 3},
			{Name: nodeaffinity.Name, Weight: 2},
			{Name: nodeports.Name},
			{Name: noderesourcesfit.Name, Weight: 1},
			{Name: podtopologyspread.Name, Weight: 2},
			{Name: interpodaffinity.Name, Weight: 2},
			{Name: defaultpreemption.Name},
			{Name: balancedallocation.Name, Weight: 1},
			{Name: imagelocality.Name, Weight: 1},
		},
	}
}
