package cache

import (
	"fmt"
	"sort"

	v1 "k8s.io/api/core/v1"

	"github.com/capstan-dev/capstan/scheduler/framework"
)

// Snapshot is a copy of the cache taken before a scheduling cycle; plugins
// read it while the informers keep changing the cache. It implements
// framework.NodeInfoLister.
type Snapshot struct {
	nodes                    map[string]*framework.NodeInfo
	list                     []*framework.NodeInfo
	withAffinity             []*framework.NodeInfo
	withRequiredAntiAffinity []*framework.NodeInfo

	nodeSetGeneration int64
	imagesGeneration  int64
}

var _ framework.NodeInfoLister = &Snapshot{}

// NewEmptySnapshot returns a snapshot of nothing, to be filled by UpdateSnapshot.
func NewEmptySnapshot() *Snapshot {
	return &Snapshot{nodes: map[string]*framework.NodeInfo{}, nodeSetGeneration: -1, imagesGeneration: -1}
}

// NewSnapshot builds a snapshot of nodes with pods on them, for tests.
func NewSnapshot(pods []*v1.Pod, nodes []*v1.Node) *Snapshot {
	c := New()
	for _, n := range nodes {
		c.AddNode(n)
	}
	for _, p := range pods {
		if p.Spec.NodeName != "" {
			c.addPodLocked(p, false)
		}
	}
	s := NewEmptySnapshot()
	c.UpdateSnapshot(s)
	return s
}

// List implements framework.NodeInfoLister.
func (s *Snapshot) List() []*framework.NodeInfo { return s.list }

// HavePodsWithAffinityList implements framework.NodeInfoLister.
func (s *Snapshot) HavePodsWithAffinityList() []*framework.NodeInfo { return s.withAffinity }

// HavePodsWithRequiredAntiAffinityList implements framework.NodeInfoLister.
func (s *Snapshot) HavePodsWithRequiredAntiAffinityList() []*framework.NodeInfo {
	return s.withRequiredAntiAffinity
}

// Get implements framework.NodeInfoLister.
func (s *Snapshot) Get(name string) (*framework.NodeInfo, error) {
	if ni, ok := s.nodes[name]; ok {
		return ni, nil
	}
	return nil, fmt.Errorf("node %q not found in the snapshot", name)
}

// NumNodes counts the nodes pods can be placed on.
func (s *Snapshot) NumNodes() int { return len(s.list) }

// UpdateSnapshot brings s up to date, copying only the node infos that
// changed since s was last updated.
func (c *Cache) UpdateSnapshot(s *Snapshot) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	imagesChanged := s.imagesGeneration != c.imagesGeneration
	changed := false
	for name, ni := range c.nodes {
		if ni.Node() == nil {
			continue
		}
		cur, ok := s.nodes[name]
		if ok && cur.Generation == ni.Generation && !imagesChanged {
			continue
		}
		clone := ni.Clone()
		clone.ImageStates = c.imageSummaries(ni.Node())
		s.nodes[name] = clone
		changed = true
	}
	for name := range s.nodes {
		if ni, ok := c.nodes[name]; !ok || ni.Node() == nil {
			delete(s.nodes, name)
			changed = true
		}
	}
	s.imagesGeneration = c.imagesGeneration
	if !changed && s.nodeSetGeneration == c.nodeSetGeneration {
		return
	}
	if s.nodeSetGeneration != c.nodeSetGeneration {
		s.list = zoneInterleaved(s.nodes)
		s.nodeSetGeneration = c.nodeSetGeneration
	} else {
		// Same nodes, same order: swap in the new copies.
		for i, ni := range s.list {
			s.list[i] = s.nodes[ni.Node().Name]
		}
	}
	s.withAffinity = s.withAffinity[:0]
	s.withRequiredAntiAffinity = s.withRequiredAntiAffinity[:0]
	for _, ni := range s.list {
		if len(ni.PodsWithAffinity) > 0 {
			s.withAffinity = append(s.withAffinity, ni)
		}
		if len(ni.PodsWithRequiredAntiAffinity) > 0 {
			s.withRequiredAntiAffinity = append(s.withRequiredAntiAffinity, ni)
		}
	}
}

func (c *Cache) imageSummaries(node *v1.Node) map[string]*framework.ImageStateSummary {
	out := map[string]*framework.ImageStateSummary{}
	for _, img := range node.Status.Images {
		for _, name := range img.Names {
			if s, ok := c.images[name]; ok {
				out[name] = &framework.ImageStateSummary{Size: s.size, NumNodes: s.nodes.Len()}
			}
		}
	}
	return out
}

// zoneInterleaved orders nodes by name within their zone and takes one
// from each zone in turn, as upstream's node tree does, so that a search
// that stops early (percentageOfNodesToScore) still sees every zone.
func zoneInterleaved(nodes map[string]*framework.NodeInfo) []*framework.NodeInfo {
	byZone := map[string][]*framework.NodeInfo{}
	for _, ni := range nodes {
		z := zoneKey(ni.Node())
		byZone[z] = append(byZone[z], ni)
	}
	zones := make([]string, 0, len(byZone))
	for z, list := range byZone {
		zones = append(zones, z)
		sort.Slice(list, func(i, j int) bool { return list[i].Node().Name < list[j].Node().Name })
	}
	sort.Strings(zones)
	out := make([]*framework.NodeInfo, 0, len(nodes))
	for i := 0; len(out) < len(nodes); i++ {
		for _, z := range zones {
			if i < len(byZone[z]) {
				out = append(out, byZone[z][i])
			}
		}
	}
	return out
}

func zoneKey(n *v1.Node) string {
	region, zone := n.Labels[v1.LabelTopologyRegion], n.Labels[v1.LabelTopologyZone]
	if region == "" && zone == "" {
		return ""
	}
	return region + ":\x00:" + zone
}
