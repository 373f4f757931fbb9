package framework

import (
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	resourcehelper "k8s.io/component-helpers/resource"
)

// Requests the scheduler assumes for a container that sets none, when it
// spreads pods by score (never when it checks fit): without them, any
// number of best-effort pods would look free to stack on one node.
const (
	DefaultMilliCPURequest int64 = 100               // 0.1 core
	DefaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// Resource is a node's allocatable or requested resources in integers:
// millicores for CPU, bytes for memory and storage, counts for the rest.
type Resource struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	// AllowedPodNumber is only meaningful for allocatable: status.allocatable.pods.
	AllowedPodNumber int64
	// ScalarResources holds extended resources, huge pages and attachable volumes.
	ScalarResources map[v1.ResourceName]int64
}

// NewResource converts a resource list.
func NewResource(rl v1.ResourceList) Resource {
	var r Resource
	r.Add(rl)
	return r
}

// Add adds every quantity of rl that the scheduler accounts for.
func (r *Resource) Add(rl v1.ResourceList) {
	for name, q := range rl {
		switch name {
		case v1.ResourceCPU:
			r.MilliCPU += q.MilliValue()
		case v1.ResourceMemory:
			r.Memory += q.Value()
		case v1.ResourcePods:
			r.AllowedPodNumber += q.Value()
		case v1.ResourceEphemeralStorage:
			r.EphemeralStorage += q.Value()
		default:
			if IsScalarResourceName(name) {
				r.AddScalar(name, q.Value())
			}
		}
	}
}

// AddScalar adds quantity of a scalar resource.
func (r *Resource) AddScalar(name v1.ResourceName, quantity int64) {
	if r.ScalarResources == nil {
		r.ScalarResources = map[v1.ResourceName]int64{}
	}
	r.ScalarResources[name] += quantity
}

// Clone returns a deep copy.
func (r Resource) Clone() Resource {
	out := r
	if r.ScalarResources != nil {
		out.ScalarResources = make(map[v1.ResourceName]int64, len(r.ScalarResources))
		for k, v := range r.ScalarResources {
			out.ScalarResources[k] = v
		}
	}
	return out
}

func (r *Resource) addScaled(o Resource, sign int64) {
	r.MilliCPU += sign * o.MilliCPU
	r.Memory += sign * o.Memory
	r.EphemeralStorage += sign * o.EphemeralStorage
	for k, v := range o.ScalarResources {
		r.AddScalar(k, sign*v)
	}
}

// IsScalarResourceName reports resources the scheduler counts besides cpu,
// memory, ephemeral storage and pods: extended resources (example.com/gpu),
// huge pages, attachable volumes and kubernetes.io/-prefixed native resources.
func IsScalarResourceName(name v1.ResourceName) bool {
	s := string(name)
	return isExtendedResourceName(name) || strings.HasPrefix(s, v1.ResourceHugePagesPrefix) ||
		strings.HasPrefix(s, v1.ResourceAttachableVolumesPrefix) || strings.Contains(s, v1.ResourceDefaultNamespacePrefix)
}

func isExtendedResourceName(name v1.ResourceName) bool {
	s := string(name)
	if !strings.Contains(s, "/") || strings.Contains(s, v1.ResourceDefaultNamespacePrefix) || strings.HasPrefix(s, v1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(v1.DefaultResourceRequestsPrefix+s)) == 0
}

// PodRequests is the effective request of a pod that is not yet running:
// the larger of the sum of its regular and sidecar containers and what any
// init container needs while it runs (with the sidecars started before
// it), or the pod-level requests where set, plus the pod overhead.
func PodRequests(pod *v1.Pod) v1.ResourceList {
	return resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{})
}

// nodeAccounting is what an assigned pod takes from its node: its requests,
// using the resources the node agent actually allocated when a resize is in
// progress, and the non-zero CPU and memory used for scoring.
func nodeAccounting(pod *v1.Pod) (Resource, int64, int64) {
	opts := resourcehelper.PodResourcesOptions{UseStatusResources: true}
	reqs := resourcehelper.PodRequests(pod, opts)
	opts.NonMissingContainerRequests = NonMissingRequests(pod, reqs)
	non0 := reqs
	if len(opts.NonMissingContainerRequests) > 0 {
		non0 = resourcehelper.PodRequests(pod, opts)
	}
	cpu, mem := non0[v1.ResourceCPU], non0[v1.ResourceMemory]
	return NewResource(reqs), cpu.MilliValue(), mem.Value()
}

// NonMissingRequests are the default requests substituted for containers
// that set none: both CPU and memory, unless pod-level requests are set, in
// which case only those missing at both levels.
func NonMissingRequests(pod *v1.Pod, reqs v1.ResourceList) v1.ResourceList {
	if !resourcehelper.IsPodLevelRequestsSet(pod) {
		return v1.ResourceList{
			v1.ResourceCPU:    *resource.NewMilliQuantity(DefaultMilliCPURequest, resource.DecimalSI),
			v1.ResourceMemory: *resource.NewQuantity(DefaultMemoryRequest, resource.DecimalSI),
		}
	}
	out := v1.ResourceList{}
	if _, ok := reqs[v1.ResourceCPU]; !ok {
		out[v1.ResourceCPU] = *resource.NewMilliQuantity(DefaultMilliCPURequest, resource.DecimalSI)
	}
	if _, ok := reqs[v1.ResourceMemory]; !ok {
		out[v1.ResourceMemory] = *resource.NewQuantity(DefaultMemoryRequest, resource.DecimalSI)
	}
	return out
}

// PodRequestsWithDefaults is PodRequests with the default requests
// substituted for containers that set no cpu or memory request, as used
// for scoring.
func PodRequestsWithDefaults(pod *v1.Pod) v1.ResourceList {
	return resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{NonMissingContainerRequests: v1.ResourceList{
		v1.ResourceCPU:    *resource.NewMilliQuantity(DefaultMilliCPURequest, resource.DecimalSI),
		v1.ResourceMemory: *resource.NewQuantity(DefaultMemoryRequest, resource.DecimalSI),
	}})
}
