// Package schedulertest builds the pods, nodes and node snapshots that the
// scheduler's tests are made of.
package schedulertest

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"

	"github.com/capstan-dev/capstan/scheduler/framework"
)

// PodWrapper builds a pod.
type PodWrapper struct{ v1.Pod }

// MakePod starts a pod named name in namespace "default" with one container.
func MakePod(name string) *PodWrapper {
	return &PodWrapper{v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID(name)},
		Spec: v1.PodSpec{
			SchedulerName: v1.DefaultSchedulerName,
			Containers:    []v1.Container{{Name: "c", Image: "pause"}},
		},
	}}
}

// Obj returns the pod.
func (p *PodWrapper) Obj() *v1.Pod { return &p.Pod }

// Namespace sets the namespace.
func (p *PodWrapper) Namespace(ns string) *PodWrapper { p.Pod.Namespace = ns; return p }

// UID sets the UID.
func (p *PodWrapper) UID(uid string) *PodWrapper { p.Pod.UID = types.UID(uid); return p }

// Labels sets labels.
func (p *PodWrapper) Labels(l map[string]string) *PodWrapper { p.Pod.Labels = l; return p }

// Node assigns the pod to node.
func (p *PodWrapper) Node(node string) *PodWrapper { p.Spec.NodeName = node; return p }

// Priority sets spec.priority.
func (p *PodWrapper) Priority(prio int32) *PodWrapper { p.Spec.Priority = ptr.To(prio); return p }

// Req sets the first container's requests from name/quantity pairs, e.g. Req("cpu", "1", "memory", "1Gi").
func (p *PodWrapper) Req(kv ...string) *PodWrapper {
	p.Spec.Containers[0].Resources.Requests = List(kv...)
	return p
}

// Container adds a container with requests.
func (p *PodWrapper) Container(image string, kv ...string) *PodWrapper {
	p.Spec.Containers = append(p.Spec.Containers, v1.Container{Name: fmt.Sprintf("c%d", len(p.Spec.Containers)), Image: image,
		Resources: v1.ResourceRequirements{Requests: List(kv...)}})
	return p
}

// Image sets the first container's image.
func (p *PodWrapper) Image(image string) *PodWrapper { p.Spec.Containers[0].Image = image; return p }

// Init adds an init container with requests.
func (p *PodWrapper) Init(kv ...string) *PodWrapper {
	p.Spec.InitContainers = append(p.Spec.InitContainers, v1.Container{Name: "init", Image: "init", Resources: v1.ResourceRequirements{Requests: List(kv...)}})
	return p
}

// Sidecar adds a restartable init container with requests.
func (p *PodWrapper) Sidecar(kv ...string) *PodWrapper {
	p.Spec.InitContainers = append(p.Spec.InitContainers, v1.Container{Name: "sidecar", Image: "sidecar",
		RestartPolicy: ptr.To(v1.ContainerRestartPolicyAlways), Resources: v1.ResourceRequirements{Requests: List(kv...)}})
	return p
}

// Overhead sets spec.overhead.
func (p *PodWrapper) Overhead(kv ...string) *PodWrapper { p.Spec.Overhead = List(kv...); return p }

// HostPort adds a host port to the first container.
func (p *PodWrapper) HostPort(ip string, protocol v1.Protocol, port int32) *PodWrapper {
	p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, v1.ContainerPort{HostIP: ip, Protocol: protocol, HostPort: port, ContainerPort: port})
	return p
}

// NodeSelector sets spec.nodeSelector.
func (p *PodWrapper) NodeSelector(s map[string]string) *PodWrapper { p.Spec.NodeSelector = s; return p }

// Affinity sets spec.affinity.
func (p *PodWrapper) Affinity(a *v1.Affinity) *PodWrapper { p.Spec.Affinity = a; return p }

// Toleration adds a toleration.
func (p *PodWrapper) Toleration(t v1.Toleration) *PodWrapper {
	p.Spec.Tolerations = append(p.Spec.Tolerations, t)
	return p
}

// Gate adds a scheduling gate.
func (p *PodWrapper) Gate(name string) *PodWrapper {
	p.Spec.SchedulingGates = append(p.Spec.SchedulingGates, v1.PodSchedulingGate{Name: name})
	return p
}

// Spread adds a topology spread constraint selecting pods with labels.
func (p *PodWrapper) Spread(maxSkew int32, key string, action v1.UnsatisfiableConstraintAction, selector map[string]string) *PodWrapper {
	p.Spec.TopologySpreadConstraints = append(p.Spec.TopologySpreadConstraints, v1.TopologySpreadConstraint{
		MaxSkew: maxSkew, TopologyKey: key, WhenUnsatisfiable: action, LabelSelector: &metav1.LabelSelector{MatchLabels: selector},
	})
	return p
}

// PodAntiAffinity adds a required anti-affinity term on key to pods with labels.
func (p *PodWrapper) PodAntiAffinity(key string, selector map[string]string) *PodWrapper {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &v1.Affinity{}
	}
	if p.Spec.Affinity.PodAntiAffinity == nil {
		p.Spec.Affinity.PodAntiAffinity = &v1.PodAntiAffinity{}
	}
	a := p.Spec.Affinity.PodAntiAffinity
	a.RequiredDuringSchedulingIgnoredDuringExecution = append(a.RequiredDuringSchedulingIgnoredDuringExecution,
		v1.PodAffinityTerm{TopologyKey: key, LabelSelector: &metav1.LabelSelector{MatchLabels: selector}})
	return p
}

// PodAffinity adds a required affinity term on key to pods with labels.
func (p *PodWrapper) PodAffinity(key string, selector map[string]string) *PodWrapper {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &v1.Affinity{}
	}
	if p.Spec.Affinity.PodAffinity == nil {
		p.Spec.Affinity.PodAffinity = &v1.PodAffinity{}
	}
	a := p.Spec.Affinity.PodAffinity
	a.RequiredDuringSchedulingIgnoredDuringExecution = append(a.RequiredDuringSchedulingIgnoredDuringExecution,
		v1.PodAffinityTerm{TopologyKey: key, LabelSelector: &metav1.LabelSelector{MatchLabels: selector}})
	return p
}

// PreferredPodAffinity adds a preferred affinity (weight > 0) or
// anti-affinity (anti) term on key to pods with labels.
func (p *PodWrapper) PreferredPodAffinity(anti bool, weight int32, key string, selector map[string]string) *PodWrapper {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &v1.Affinity{}
	}
	term := v1.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: v1.PodAffinityTerm{TopologyKey: key, LabelSelector: &metav1.LabelSelector{MatchLabels: selector}}}
	if anti {
		if p.Spec.Affinity.PodAntiAffinity == nil {
			p.Spec.Affinity.PodAntiAffinity = &v1.PodAntiAffinity{}
		}
		p.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(p.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution, term)
		return p
	}
	if p.Spec.Affinity.PodAffinity == nil {
		p.Spec.Affinity.PodAffinity = &v1.PodAffinity{}
	}
	p.Spec.Affinity.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(p.Spec.Affinity.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution, term)
	return p
}

// NodeWrapper builds a node.
type NodeWrapper struct{ v1.Node }

// MakeNode starts a node with room for 110 pods and nothing else.
func MakeNode(name string) *NodeWrapper {
	n := &NodeWrapper{v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{v1.LabelHostname: name}}}}
	n.Status.Allocatable = List("pods", "110")
	n.Status.Capacity = List("pods", "110")
	return n
}

// Obj returns the node.
func (n *NodeWrapper) Obj() *v1.Node { return &n.Node }

// Capacity sets allocatable (and capacity) from name/quantity pairs; pods stays 110 unless given.
func (n *NodeWrapper) Capacity(kv ...string) *NodeWrapper {
	l := List(append([]string{"pods", "110"}, kv...)...)
	n.Status.Allocatable = l
	n.Status.Capacity = l.DeepCopy()
	return n
}

// Label sets a label.
func (n *NodeWrapper) Label(k, v string) *NodeWrapper { n.Labels[k] = v; return n }

// Taint adds a taint.
func (n *NodeWrapper) Taint(key, value string, effect v1.TaintEffect) *NodeWrapper {
	n.Spec.Taints = append(n.Spec.Taints, v1.Taint{Key: key, Value: value, Effect: effect})
	return n
}

// Unschedulable cordons the node.
func (n *NodeWrapper) Unschedulable() *NodeWrapper { n.Spec.Unschedulable = true; return n }

// Images lists images on the node: names with sizes in bytes.
func (n *NodeWrapper) Images(images map[string]int64) *NodeWrapper {
	for name, size := range images {
		n.Status.Images = append(n.Status.Images, v1.ContainerImage{Names: []string{name}, SizeBytes: size})
	}
	return n
}

// List parses name/quantity pairs into a resource list.
func List(kv ...string) v1.ResourceList {
	l := v1.ResourceList{}
	for i := 0; i+1 < len(kv); i += 2 {
		l[v1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

// NodeInfo builds the node info of node with pods on it.
func NodeInfo(node *v1.Node, pods ...*v1.Pod) *framework.NodeInfo {
	ni := framework.NewNodeInfo(pods...)
	ni.SetNode(node)
	return ni
}

// Lister is a fixed snapshot of node infos.
type Lister []*framework.NodeInfo

var _ framework.NodeInfoLister = Lister(nil)

// List implements framework.NodeInfoLister.
func (l Lister) List() []*framework.NodeInfo { return l }

// HavePodsWithAffinityList implements framework.NodeInfoLister.
func (l Lister) HavePodsWithAffinityList() []*framework.NodeInfo {
	var out []*framework.NodeInfo
	for _, ni := range l {
		if len(ni.PodsWithAffinity) > 0 {
			out = append(out, ni)
		}
	}
	return out
}

// HavePodsWithRequiredAntiAffinityList implements framework.NodeInfoLister.
func (l Lister) HavePodsWithRequiredAntiAffinityList() []*framework.NodeInfo {
	var out []*framework.NodeInfo
	for _, ni := range l {
		if len(ni.PodsWithRequiredAntiAffinity) > 0 {
			out = append(out, ni)
		}
	}
	return out
}

// Get implements framework.NodeInfoLister.
func (l Lister) Get(name string) (*framework.NodeInfo, error) {
	for _, ni := range l {
		if ni.Node().Name == name {
			return ni, nil
		}
	}
	return nil, errNotFound(name)
}

type errNotFound string

func (e errNotFound) Error() string { return "node " + string(e) + " not found" }

// Snapshot builds a lister of nodes with pods placed by spec.nodeName.
func Snapshot(nodes []*v1.Node, pods ...*v1.Pod) Lister {
	var l Lister
	for _, n := range nodes {
		ni := framework.NewNodeInfo()
		ni.SetNode(n)
		for _, p := range pods {
			if p.Spec.NodeName == n.Name {
				ni.AddPod(p)
			}
		}
		l = append(l, ni)
	}
	return l
}

// Handle is a framework.Handle over a fixed snapshot, for plugin tests.
// Filter is what RunFilterPlugins runs (nil: every node fits).
type Handle struct {
	Nodes     Lister
	Informers informers.SharedInformerFactory
	Filter    func(ctx context.Context, state *framework.CycleState, pod *v1.Pod, ni *framework.NodeInfo) *framework.Status
	Plugins   []framework.PreFilterExtensions
}

var _ framework.Handle = &Handle{}

// SnapshotSharedLister implements framework.Handle.
func (h *Handle) SnapshotSharedLister() framework.NodeInfoLister { return h.Nodes }

// SharedInformerFactory implements framework.Handle.
func (h *Handle) SharedInformerFactory() informers.SharedInformerFactory { return h.Informers }

// RunFilterPlugins implements framework.Handle.
func (h *Handle) RunFilterPlugins(ctx context.Context, state *framework.CycleState, pod *v1.Pod, ni *framework.NodeInfo) *framework.Status {
	if h.Filter == nil {
		return nil
	}
	return h.Filter(ctx, state, pod, ni)
}

// RunPreFilterExtensionRemovePod implements framework.Handle.
func (h *Handle) RunPreFilterExtensionRemovePod(ctx context.Context, state *framework.CycleState, pod *v1.Pod, pi *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	for _, p := range h.Plugins {
		if s := p.RemovePod(ctx, state, pod, pi, ni); !s.IsSuccess() {
			return s
		}
	}
	return nil
}

// Parallelize implements framework.Handle.
func (h *Handle) Parallelize(ctx context.Context, n int, fn func(int)) {
	workqueue.ParallelizeUntil(ctx, 4, n, fn)
}
