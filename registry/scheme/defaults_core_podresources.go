package scheme

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// DefaultPodLevelResources fills in the pod-level requests and limits
// (spec.resources) of a pod that sets at least one supported pod-level
// resource (cpu, memory, hugepages-*). It is not part of scheme defaulting:
// in Kubernetes 1.37 (PodLevelResources beta and on, with
// PodLevelResourcesFixDefaulting on) this happens in the pod create strategy,
// after admission has had its say about the containers, so the pod registry's
// PrepareForCreate is expected to call it.
//
// For each resource the pod does not set itself, in this order:
//  1. a hugepage limit is the aggregate of the containers' limits for that
//     page size, unless the pod requests that page size;
//  2. a request is the aggregate of the containers' requests for cpu or
//     memory, or else the pod-level limit of the resource;
//  3. a cpu or memory limit is the larger of the pod-level request and the
//     aggregate of the containers' limits, when every container (init ones
//     included) has a limit for it.
//
// Aggregates follow the sidecar formula: regular and restartable init
// containers add up, other init containers count by their maximum.
func DefaultPodLevelResources(pod *corev1.Pod) {
	res := pod.Spec.Resources
	if res == nil || !(coreAnyPodLevelResource(res.Requests) || coreAnyPodLevelResource(res.Limits)) {
		return
	}
	ctrLimits := coreAggregateContainerResources(pod, func(r *corev1.ResourceRequirements) corev1.ResourceList { return r.Limits })
	ctrRequests := coreAggregateContainerResources(pod, func(r *corev1.ResourceRequirements) corev1.ResourceList { return r.Requests })

	limits := res.Limits
	if limits == nil {
		limits = corev1.ResourceList{}
	}
	for name, q := range ctrLimits {
		if !coreIsHugePage(name) {
			continue
		}
		if _, requested := res.Requests[name]; requested {
			continue
		}
		if _, ok := limits[name]; !ok {
			limits[name] = q.DeepCopy()
		}
	}

	requests := res.Requests
	if requests == nil {
		requests = corev1.ResourceList{}
	}
	for name, q := range ctrRequests {
		if _, ok := requests[name]; !ok && coreIsPodLevelResource(name) && coreIsOvercommitAllowed(name) {
			requests[name] = q.DeepCopy()
		}
	}
	for name, q := range limits {
		if _, ok := requests[name]; !ok && coreIsPodLevelResource(name) {
			requests[name] = q.DeepCopy()
		}
	}

	for name, q := range ctrLimits {
		if _, ok := limits[name]; ok {
			continue
		}
		if !coreIsPodLevelResource(name) || !coreIsOvercommitAllowed(name) || !coreEveryContainerLimits(pod, name) {
			continue
		}
		limit := q.DeepCopy()
		if req, ok := requests[name]; ok && req.Cmp(limit) > 0 {
			limit = req.DeepCopy()
		}
		limits[name] = limit
	}

	if len(requests) > 0 {
		res.Requests = requests
	}
	if len(limits) > 0 {
		res.Limits = limits
	}
}

// coreIsPodLevelResource reports whether the resource may be set at pod level:
// cpu, memory and hugepages of any size.
func coreIsPodLevelResource(name corev1.ResourceName) bool {
	return name == corev1.ResourceCPU || name == corev1.ResourceMemory || coreIsHugePage(name)
}

func coreAnyPodLevelResource(list corev1.ResourceList) bool {
	for name := range list {
		if coreIsPodLevelResource(name) {
			return true
		}
	}
	return false
}

// coreAggregateContainerResources adds up what the pod's containers need of
// every resource, the list of one container being picked by pick. Regular
// containers and restartable (sidecar) init containers run together and add
// up; a plain init container runs alone with the sidecars started before it,
// and the pod needs at least the largest such step.
func coreAggregateContainerResources(pod *corev1.Pod, pick func(*corev1.ResourceRequirements) corev1.ResourceList) corev1.ResourceList {
	total := corev1.ResourceList{}
	for i := range pod.Spec.Containers {
		coreAddResources(total, pick(&pod.Spec.Containers[i].Resources))
	}
	sidecars := corev1.ResourceList{}
	initPeak := corev1.ResourceList{}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		own := pick(&c.Resources)
		step := corev1.ResourceList{}
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			coreAddResources(total, own)
			coreAddResources(sidecars, own)
			coreAddResources(step, sidecars)
		} else {
			coreAddResources(step, own)
			coreAddResources(step, sidecars)
		}
		coreMaxResources(initPeak, step)
	}
	coreMaxResources(total, initPeak)
	return total
}

func coreAddResources(dst, src corev1.ResourceList) {
	for name, q := range src {
		if cur, ok := dst[name]; ok {
			cur.Add(q)
			dst[name] = cur
		} else {
			dst[name] = q.DeepCopy()
		}
	}
}

func coreMaxResources(dst, src corev1.ResourceList) {
	for name, q := range src {
		if cur, ok := dst[name]; !ok || q.Cmp(cur) > 0 {
			dst[name] = q.DeepCopy()
		}
	}
}

// coreEveryContainerLimits reports whether every regular and init container of
// the pod has a limit for the resource.
func coreEveryContainerLimits(pod *corev1.Pod, name corev1.ResourceName) bool {
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			if _, ok := cs[i].Resources.Limits[name]; !ok {
				return false
			}
		}
	}
	return true
}

func coreIsHugePage(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

// coreIsOvercommitAllowed reports whether requests of the resource may be lower
// than its limits: true for native resources (unprefixed, or under
// kubernetes.io/) other than hugepages.
func coreIsOvercommitAllowed(name corev1.ResourceName) bool {
	s := string(name)
	native := !strings.Contains(s, "/") || strings.Contains(s, corev1.ResourceDefaultNamespacePrefix)
	return native && !coreIsHugePage(name)
}
