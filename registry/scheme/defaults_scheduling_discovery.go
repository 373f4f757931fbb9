package scheme

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// addSchedulingDefaults registers the scheduling.k8s.io/v1 defaulters.
func addSchedulingDefaults(s *runtime.Scheme) {
	addGroupDefaulter(s, defaultPriorityClass)
	addGroupDefaulter(s, func(l *schedulingv1.PriorityClassList) { defaultEach(l.Items, defaultPriorityClass) })
}

func defaultPriorityClass(pc *schedulingv1.PriorityClass) {
	if pc.PreemptionPolicy == nil {
		pc.PreemptionPolicy = new(corev1.PreemptLowerPriority)
	}
}

// addDiscoveryDefaults registers the discovery.k8s.io/v1 defaulters.
func addDiscoveryDefaults(s *runtime.Scheme) {
	addGroupDefaulter(s, defaultEndpointSlice)
	addGroupDefaulter(s, func(l *discoveryv1.EndpointSliceList) { defaultEach(l.Items, defaultEndpointSlice) })
}

// defaultEndpointSlice gives every port an explicit (empty) name and TCP.
func defaultEndpointSlice(es *discoveryv1.EndpointSlice) {
	for i := range es.Ports {
		p := &es.Ports[i]
		if p.Name == nil {
			p.Name = new("")
		}
		if p.Protocol == nil {
			p.Protocol = new(corev1.ProtocolTCP)
		}
	}
}
