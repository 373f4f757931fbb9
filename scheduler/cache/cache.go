package cache

import (
	"fmt"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/scheduler/framework"
)

type podState struct {
	pod *v1.Pod
	// assumed pods are counted on their node before the informer has seen them bound.
	assumed bool
}

type imageState struct {
	size  int64
	nodes sets.Set[string]
}

// Cache counts pods on nodes. It is safe for concurrent use.
type Cache struct {
	mu         sync.RWMutex
	nodes      map[string]*framework.NodeInfo
	pods       map[types.UID]*podState
	images     map[string]*imageState
	generation int64
	// nodeSetGeneration changes when nodes come or go, so a snapshot
	// rebuilds its node order only then.
	nodeSetGeneration int64
	// imagesGeneration changes when the image counts change.
	imagesGeneration int64
}

// New returns an empty cache.
func New() *Cache {
	return &Cache{
		nodes:  map[string]*framework.NodeInfo{},
		pods:   map[types.UID]*podState{},
		images: map[string]*imageState{},
	}
}

func (c *Cache) touch(ni *framework.NodeInfo) {
	c.generation++
	ni.Generation = c.generation
}

func (c *Cache) nodeInfo(name string) *framework.NodeInfo {
	ni, ok := c.nodes[name]
	if !ok {
		ni = framework.NewNodeInfo()
		c.nodes[name] = ni
	}
	return ni
}

func (c *Cache) addPodLocked(pod *v1.Pod, assumed bool) {
	ni := c.nodeInfo(pod.Spec.NodeName)
	pi, _ := framework.NewPodInfo(pod)
	ni.AddPodInfo(pi)
	c.touch(ni)
	c.pods[pod.UID] = &podState{pod: pod, assumed: assumed}
}

func (c *Cache) removePodLocked(logger klog.Logger, pod *v1.Pod) {
	if ni, ok := c.nodes[pod.Spec.NodeName]; ok {
		if err := ni.RemovePod(pod); err != nil {
			logger.Error(err, "Pod missing from its node in the scheduler cache", "pod", klog.KObj(pod))
		}
		c.touch(ni)
		if len(ni.Pods) == 0 && ni.Node() == nil {
			delete(c.nodes, pod.Spec.NodeName)
			c.nodeSetGeneration++
		}
	}
	delete(c.pods, pod.UID)
}

// AssumePod counts pod, which must have spec.nodeName set, on its node
// before the binding is confirmed.
func (c *Cache) AssumePod(pod *v1.Pod) error {
	if pod.Spec.NodeName == "" {
		return fmt.Errorf("assuming pod %s/%s without a node", pod.Namespace, pod.Name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pods[pod.UID]; ok {
		return fmt.Errorf("pod %s/%s (uid %s) is already in the cache, so can't be assumed", pod.Namespace, pod.Name, pod.UID)
	}
	c.addPodLocked(pod, true)
	return nil
}

// ForgetPod undoes AssumePod after a failed binding.
func (c *Cache) ForgetPod(logger klog.Logger, pod *v1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[pod.UID]
	if !ok {
		return nil
	}
	if !ps.assumed {
		return fmt.Errorf("pod %s/%s was added, not assumed, so can't be forgotten", pod.Namespace, pod.Name)
	}
	if ps.pod.Spec.NodeName != pod.Spec.NodeName {
		return fmt.Errorf("pod %s/%s was assumed on %q but is forgotten on %q", pod.Namespace, pod.Name, ps.pod.Spec.NodeName, pod.Spec.NodeName)
	}
	c.removePodLocked(logger, ps.pod)
	return nil
}

// IsAssumedPod reports whether the pod is assumed and not yet confirmed.
func (c *Cache) IsAssumedPod(pod *v1.Pod) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ps, ok := c.pods[pod.UID]
	return ok && ps.assumed
}

// GetPod returns the cached version of pod.
func (c *Cache) GetPod(pod *v1.Pod) (*v1.Pod, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ps, ok := c.pods[pod.UID]
	if !ok {
		return nil, false
	}
	return ps.pod, true
}

// AddPod counts an assigned pod the informer reports, confirming it if it was assumed.
func (c *Cache) AddPod(logger klog.Logger, pod *v1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[pod.UID]
	switch {
	case ok && ps.assumed:
		// The informer's copy replaces the assumed one, on whatever node it was bound to.
		c.removePodLocked(logger, ps.pod)
		c.addPodLocked(pod, false)
	case !ok:
		c.addPodLocked(pod, false)
	default:
		return fmt.Errorf("pod %s/%s (uid %s) was already added to the cache", pod.Namespace, pod.Name, pod.UID)
	}
	return nil
}

// UpdatePod replaces an assigned pod.
func (c *Cache) UpdatePod(logger klog.Logger, oldPod, newPod *v1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[oldPod.UID]
	if !ok {
		// An update of a pod the cache never saw (e.g. a missed add) adds it.
		c.addPodLocked(newPod, false)
		return nil
	}
	c.removePodLocked(logger, ps.pod)
	c.addPodLocked(newPod, false)
	return nil
}

// RemovePod stops counting a pod, assumed or not.
func (c *Cache) RemovePod(logger klog.Logger, pod *v1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[pod.UID]; ok {
		c.removePodLocked(logger, ps.pod)
	}
}

// AddNode adds or replaces a node.
func (c *Cache) AddNode(node *v1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni, known := c.nodes[node.Name]
	if !known || ni.Node() == nil {
		c.nodeSetGeneration++
	}
	ni = c.nodeInfo(node.Name)
	if old := ni.Node(); old != nil {
		if zoneKey(old) != zoneKey(node) {
			c.nodeSetGeneration++
		}
		c.removeImages(old)
	}
	c.addImages(node)
	ni.SetNode(node)
	c.touch(ni)
}

// UpdateNode replaces a node.
func (c *Cache) UpdateNode(_, newNode *v1.Node) { c.AddNode(newNode) }

// RemoveNode forgets a node. Pods still counted on it stay until removed,
// but the node is no longer offered to pods.
func (c *Cache) RemoveNode(node *v1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni, ok := c.nodes[node.Name]
	if !ok {
		return
	}
	if old := ni.Node(); old != nil {
		c.removeImages(old)
	}
	ni.RemoveNode()
	c.touch(ni)
	if len(ni.Pods) == 0 {
		delete(c.nodes, node.Name)
	}
	c.nodeSetGeneration++
}

func (c *Cache) addImages(node *v1.Node) {
	for _, img := range node.Status.Images {
		for _, name := range img.Names {
			s, ok := c.images[name]
			if !ok {
				s = &imageState{size: img.SizeBytes, nodes: sets.New[string]()}
				c.images[name] = s
			}
			s.nodes.Insert(node.Name)
		}
	}
	if len(node.Status.Images) > 0 {
		c.imagesGeneration++
	}
}

func (c *Cache) removeImages(node *v1.Node) {
	for _, img := range node.Status.Images {
		for _, name := range img.Names {
			if s, ok := c.images[name]; ok {
				s.nodes.Delete(node.Name)
				if s.nodes.Len() == 0 {
					delete(c.images, name)
				}
			}
		}
	}
	if len(node.Status.Images) > 0 {
		c.imagesGeneration++
	}
}

// Counts returns how many nodes and pods the cache holds, for tests and logs.
func (c *Cache) Counts() (nodes, pods int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, ni := range c.nodes {
		if ni.Node() != nil {
			nodes++
		}
	}
	return nodes, len(c.pods)
}
