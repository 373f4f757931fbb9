package pod

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Resource name classes as upstream's core helper defines them.

var standardContainerResources = sets.New(
	corev1.ResourceCPU,
	corev1.ResourceMemory,
	corev1.ResourceEphemeralStorage,
)

// standardResources are the single-part names a resource list may use.
var standardResources = sets.New(
	corev1.ResourceCPU,
	corev1.ResourceMemory,
	corev1.ResourceEphemeralStorage,
	corev1.ResourceRequestsCPU,
	corev1.ResourceRequestsMemory,
	corev1.ResourceRequestsEphemeralStorage,
	corev1.ResourceLimitsCPU,
	corev1.ResourceLimitsMemory,
	corev1.ResourceLimitsEphemeralStorage,
	corev1.ResourcePods,
	corev1.ResourceQuotas,
	corev1.ResourceServices,
	corev1.ResourceReplicationControllers,
	corev1.ResourceSecrets,
	corev1.ResourcePersistentVolumeClaims,
	corev1.ResourceConfigMaps,
	corev1.ResourceStorage,
	corev1.ResourceRequestsStorage,
	corev1.ResourceServicesNodePorts,
	corev1.ResourceServicesLoadBalancers,
)

var integerResources = sets.New(
	corev1.ResourcePods,
	corev1.ResourceQuotas,
	corev1.ResourceServices,
	corev1.ResourceReplicationControllers,
	corev1.ResourceSecrets,
	corev1.ResourceConfigMaps,
	corev1.ResourcePersistentVolumeClaims,
	corev1.ResourceServicesNodePorts,
	corev1.ResourceServicesLoadBalancers,
)

// podLevelResources are the resources spec.resources may name.
var podLevelResources = sets.New(corev1.ResourceCPU, corev1.ResourceMemory)

func isHugePageResourceName(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

func isQuotaHugePageResourceName(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix) ||
		strings.HasPrefix(string(name), corev1.ResourceRequestsHugePagesPrefix)
}

// isNativeResource: unprefixed, or prefixed with a kubernetes.io domain.
func isNativeResource(name corev1.ResourceName) bool {
	return !strings.Contains(string(name), "/") || strings.Contains(string(name), corev1.ResourceDefaultNamespacePrefix)
}

// isExtendedResourceName: a fully qualified, non-native name that still
// forms a valid quota name with the "requests." prefix.
func isExtendedResourceName(name corev1.ResourceName) bool {
	if isNativeResource(name) || strings.HasPrefix(string(name), corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+string(name))) == 0
}

func isStandardResourceName(name corev1.ResourceName) bool {
	return standardResources.Has(name) || isQuotaHugePageResourceName(name)
}

func isStandardContainerResourceName(name corev1.ResourceName) bool {
	return standardContainerResources.Has(name) || isHugePageResourceName(name)
}

func isIntegerResourceName(name corev1.ResourceName) bool {
	return integerResources.Has(name) || isExtendedResourceName(name)
}

// isOvercommitAllowed: requests may be lower than limits for native,
// non-hugepage resources only.
func isOvercommitAllowed(name corev1.ResourceName) bool {
	return isNativeResource(name) && !isHugePageResourceName(name)
}

func isSupportedPodLevelResource(name corev1.ResourceName) bool {
	return podLevelResources.Has(name) || isHugePageResourceName(name)
}

// hugePageValueDivisible reports whether q is a whole number of pages of
// the size named by the hugepages-<size> resource.
func hugePageValueDivisible(name corev1.ResourceName, q resource.Quantity) bool {
	size, err := resource.ParseQuantity(strings.TrimPrefix(string(name), corev1.ResourceHugePagesPrefix))
	if err != nil || size.Sign() <= 0 || q.Sign() < 0 {
		return false
	}
	return q.Value()%size.Value() == 0
}

func isRestartableInitContainer(c *corev1.Container) bool {
	return c != nil && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// aggregateContainerRequests sums what a pod's containers request, counting
// sidecars for the whole pod life and other init containers by their peak.
func aggregateContainerRequests(spec *corev1.PodSpec) corev1.ResourceList {
	reqs := corev1.ResourceList{}
	for _, c := range spec.Containers {
		addResources(reqs, c.Resources.Requests)
	}
	sidecars := corev1.ResourceList{}
	initPeak := corev1.ResourceList{}
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		during := corev1.ResourceList{}
		if isRestartableInitContainer(c) {
			addResources(reqs, c.Resources.Requests)
			addResources(sidecars, c.Resources.Requests)
			addResources(during, sidecars)
		} else {
			addResources(during, c.Resources.Requests)
			addResources(during, sidecars)
		}
		maxResources(initPeak, during)
	}
	maxResources(reqs, initPeak)
	return reqs
}

func addResources(dst, src corev1.ResourceList) {
	for name, q := range src {
		sum := q.DeepCopy()
		if cur, ok := dst[name]; ok {
			sum.Add(cur)
		}
		dst[name] = sum
	}
}

func maxResources(dst, src corev1.ResourceList) {
	for name, q := range src {
		if cur, ok := dst[name]; !ok || q.Cmp(cur) > 0 {
			dst[name] = q.DeepCopy()
		}
	}
}

// QOSClass computes a pod's quality of service class as upstream does:
// from the pod-level resources when the pod sets any supported one, and
// otherwise from its app and init containers (never ephemeral ones).
func QOSClass(pod *corev1.Pod) corev1.PodQOSClass {
	requests := corev1.ResourceList{}
	limits := corev1.ResourceList{}
	guaranteed := true
	collect := func(dst, src corev1.ResourceList) sets.Set[corev1.ResourceName] {
		found := sets.New[corev1.ResourceName]()
		for name, q := range src {
			if name != corev1.ResourceCPU && name != corev1.ResourceMemory {
				continue
			}
			if q.Sign() <= 0 {
				continue
			}
			found.Insert(name)
			sum := q.DeepCopy()
			if cur, ok := dst[name]; ok {
				sum.Add(cur)
			}
			dst[name] = sum
		}
		return found
	}
	if podLevelResourcesSet(pod) {
		collect(requests, pod.Spec.Resources.Requests)
		if len(pod.Spec.Resources.Limits) > 0 {
			if !collect(limits, pod.Spec.Resources.Limits).HasAll(corev1.ResourceCPU, corev1.ResourceMemory) {
				guaranteed = false
			}
		}
	} else {
		all := append(append([]corev1.Container{}, pod.Spec.Containers...), pod.Spec.InitContainers...)
		for _, c := range all {
			collect(requests, c.Resources.Requests)
			if !collect(limits, c.Resources.Limits).HasAll(corev1.ResourceCPU, corev1.ResourceMemory) {
				guaranteed = false
			}
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	if guaranteed {
		for name, req := range requests {
			if lim, ok := limits[name]; !ok || lim.Cmp(req) != 0 {
				guaranteed = false
				break
			}
		}
	}
	if guaranteed && len(requests) == len(limits) {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

// podLevelResourcesSet reports whether spec.resources names any supported
// pod-level resource.
func podLevelResourcesSet(pod *corev1.Pod) bool {
	r := pod.Spec.Resources
	if r == nil {
		return false
	}
	for name := range r.Requests {
		if isSupportedPodLevelResource(name) {
			return true
		}
	}
	for name := range r.Limits {
		if isSupportedPodLevelResource(name) {
			return true
		}
	}
	return false
}
