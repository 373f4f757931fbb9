// Package imagelocality prefers nodes that already have the pod's images,
// weighting each image by its size and by how few nodes have it.
package imagelocality

import (
	"context"
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/capstan-dev/capstan/scheduler/framework"
)

// Name of the plugin.
const Name = "ImageLocality"

// Below minThreshold of image bytes a node scores 0; at maxContainerThreshold
// per container it scores MaxNodeScore.
const (
	mb                    int64 = 1024 * 1024
	minThreshold                = 23 * mb
	maxContainerThreshold       = 1000 * mb
)

// ImageLocality is the plugin.
type ImageLocality struct {
	handle framework.Handle
}

var _ framework.ScorePlugin = &ImageLocality{}

// New builds the plugin.
func New(_ context.Context, h framework.Handle) (framework.Plugin, error) {
	return &ImageLocality{handle: h}, nil
}

// Name implements framework.Plugin.
func (pl *ImageLocality) Name() string { return Name }

// Score implements framework.ScorePlugin.
func (pl *ImageLocality) Score(_ context.Context, _ *framework.CycleState, pod *v1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	total := len(pl.handle.SnapshotSharedLister().List())
	sum, count := sumImageScores(nodeInfo, pod, total)
	return calculatePriority(sum, count), nil
}

// ScoreExtensions implements framework.ScorePlugin.
func (pl *ImageLocality) ScoreExtensions() framework.ScoreExtensions { return nil }

func calculatePriority(sum int64, imageCount int) int64 {
	maxThreshold := maxContainerThreshold * int64(imageCount)
	sum = max(sum, minThreshold)
	sum = min(sum, maxThreshold)
	if maxThreshold <= minThreshold {
		return 0
	}
	return framework.MaxNodeScore * (sum - minThreshold) / (maxThreshold - minThreshold)
}

func sumImageScores(nodeInfo *framework.NodeInfo, pod *v1.Pod, totalNodes int) (int64, int) {
	var sum int64
	count := 0
	add := func(image string) {
		count++
		if s, ok := nodeInfo.ImageStates[normalizedImageName(image)]; ok {
			sum += scaledImageScore(s, totalNodes)
		}
	}
	for _, c := range pod.Spec.InitContainers {
		add(c.Image)
	}
	for _, c := range pod.Spec.Containers {
		add(c.Image)
	}
	for _, v := range pod.Spec.Volumes {
		if v.Image != nil {
			add(v.Image.Reference)
		}
	}
	return sum, count
}

// scaledImageScore discounts an image present on few nodes, so that pods do
// not all pile onto the one node that happens to have it.
func scaledImageScore(s *framework.ImageStateSummary, totalNodes int) int64 {
	if totalNodes == 0 {
		return 0
	}
	spread := float64(s.NumNodes) / float64(totalNodes)
	return int64(float64(s.Size) * spread)
}

// normalizedImageName adds the :latest tag an untagged name implies, as
// node status lists images with their tags.
func normalizedImageName(name string) string {
	if strings.LastIndex(name, ":") <= strings.LastIndex(name, "/") {
		name += ":latest"
	}
	return name
}
