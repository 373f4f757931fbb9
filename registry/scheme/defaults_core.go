package scheme

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// addCoreDefaults registers the defaulting of core/v1 kinds.
//
// The behaviour follows Kubernetes 1.37: the hand-written SetDefaults_* of
// pkg/apis/core/v1 together with the declarative (+default) markers of
// k8s.io/api/core/v1, applied recursively to every nested struct the way
// upstream's generated defaulters do. Feature gates are taken at their 1.37
// defaults (GA and default-on beta enabled, alpha disabled).
//
// Every top-level kind and list kind gets a function, including the kinds
// upstream leaves alone (Event, ServiceAccount, ...), whose function does
// nothing; the list functions default each item.
func addCoreDefaults(s *runtime.Scheme) {
	add := func(obj runtime.Object, fn func(obj interface{})) { s.AddTypeDefaultingFunc(obj, fn) }

	add(&corev1.Pod{}, func(o interface{}) { defaultCorePod(o.(*corev1.Pod)) })
	add(&corev1.PodList{}, func(o interface{}) {
		l := o.(*corev1.PodList)
		for i := range l.Items {
			defaultCorePod(&l.Items[i])
		}
	})
	add(&corev1.PodTemplate{}, func(o interface{}) { DefaultPodTemplateSpec(&o.(*corev1.PodTemplate).Template) })
	add(&corev1.PodTemplateList{}, func(o interface{}) {
		l := o.(*corev1.PodTemplateList)
		for i := range l.Items {
			DefaultPodTemplateSpec(&l.Items[i].Template)
		}
	})
	add(&corev1.ReplicationController{}, func(o interface{}) { defaultCoreReplicationController(o.(*corev1.ReplicationController)) })
	add(&corev1.ReplicationControllerList{}, func(o interface{}) {
		l := o.(*corev1.ReplicationControllerList)
		for i := range l.Items {
			defaultCoreReplicationController(&l.Items[i])
		}
	})
	add(&corev1.Service{}, func(o interface{}) { defaultCoreService(o.(*corev1.Service)) })
	add(&corev1.ServiceList{}, func(o interface{}) {
		l := o.(*corev1.ServiceList)
		for i := range l.Items {
			defaultCoreService(&l.Items[i])
		}
	})
	add(&corev1.Endpoints{}, func(o interface{}) { defaultCoreEndpoints(o.(*corev1.Endpoints)) })
	add(&corev1.EndpointsList{}, func(o interface{}) {
		l := o.(*corev1.EndpointsList)
		for i := range l.Items {
			defaultCoreEndpoints(&l.Items[i])
		}
	})
	add(&corev1.Namespace{}, func(o interface{}) { defaultCoreNamespace(o.(*corev1.Namespace)) })
	add(&corev1.NamespaceList{}, func(o interface{}) {
		l := o.(*corev1.NamespaceList)
		for i := range l.Items {
			defaultCoreNamespace(&l.Items[i])
		}
	})
	add(&corev1.Node{}, func(o interface{}) { defaultCoreNode(o.(*corev1.Node)) })
	add(&corev1.NodeList{}, func(o interface{}) {
		l := o.(*corev1.NodeList)
		for i := range l.Items {
			defaultCoreNode(&l.Items[i])
		}
	})
	add(&corev1.PersistentVolume{}, func(o interface{}) { defaultCorePersistentVolume(o.(*corev1.PersistentVolume)) })
	add(&corev1.PersistentVolumeList{}, func(o interface{}) {
		l := o.(*corev1.PersistentVolumeList)
		for i := range l.Items {
			defaultCorePersistentVolume(&l.Items[i])
		}
	})
	add(&corev1.PersistentVolumeClaim{}, func(o interface{}) { DefaultPersistentVolumeClaim(o.(*corev1.PersistentVolumeClaim)) })
	add(&corev1.PersistentVolumeClaimList{}, func(o interface{}) {
		l := o.(*corev1.PersistentVolumeClaimList)
		for i := range l.Items {
			DefaultPersistentVolumeClaim(&l.Items[i])
		}
	})
	add(&corev1.LimitRange{}, func(o interface{}) { defaultCoreLimitRange(o.(*corev1.LimitRange)) })
	add(&corev1.LimitRangeList{}, func(o interface{}) {
		l := o.(*corev1.LimitRangeList)
		for i := range l.Items {
			defaultCoreLimitRange(&l.Items[i])
		}
	})
	add(&corev1.ResourceQuota{}, func(o interface{}) { defaultCoreResourceQuota(o.(*corev1.ResourceQuota)) })
	add(&corev1.ResourceQuotaList{}, func(o interface{}) {
		l := o.(*corev1.ResourceQuotaList)
		for i := range l.Items {
			defaultCoreResourceQuota(&l.Items[i])
		}
	})
	add(&corev1.Secret{}, func(o interface{}) { defaultCoreSecret(o.(*corev1.Secret)) })
	add(&corev1.SecretList{}, func(o interface{}) {
		l := o.(*corev1.SecretList)
		for i := range l.Items {
			defaultCoreSecret(&l.Items[i])
		}
	})
	add(&corev1.ConfigMap{}, func(o interface{}) { defaultCoreConfigMap(o.(*corev1.ConfigMap)) })
	add(&corev1.ConfigMapList{}, func(o interface{}) {
		l := o.(*corev1.ConfigMapList)
		for i := range l.Items {
			defaultCoreConfigMap(&l.Items[i])
		}
	})

	// Kinds upstream has no defaulting for. Registered so that every core
	// kind has an entry; they leave the object as it is.
	noop := func(interface{}) {}
	for _, obj := range []runtime.Object{
		&corev1.Binding{},
		&corev1.ComponentStatus{}, &corev1.ComponentStatusList{},
		&corev1.Event{}, &corev1.EventList{},
		&corev1.ServiceAccount{}, &corev1.ServiceAccountList{},
		&corev1.RangeAllocation{},
	} {
		add(obj, noop)
	}
}

// DefaultResourceList rounds every quantity of the list up to milli-units,
// as upstream does for every resource list it defaults.
func DefaultResourceList(list *corev1.ResourceList) {
	for name, q := range *list {
		q.RoundUp(-3)
		(*list)[name] = q
	}
}

func defaultCoreReplicationController(rc *corev1.ReplicationController) {
	// Selector and the RC's own labels come from the template's labels when
	// unset; a template without labels leaves both alone.
	if rc.Spec.Template != nil && rc.Spec.Template.Labels != nil {
		labels := rc.Spec.Template.Labels
		if len(rc.Spec.Selector) == 0 {
			rc.Spec.Selector = labels
		}
		if len(rc.Labels) == 0 {
			rc.Labels = labels
		}
	}
	if rc.Spec.Replicas == nil {
		one := int32(1)
		rc.Spec.Replicas = &one
	}
	if rc.Spec.Template != nil {
		DefaultPodTemplateSpec(rc.Spec.Template)
	}
}

// coreServiceExternallyAccessible reports whether traffic from outside the
// cluster can reach the service: node ports, load balancers, or a ClusterIP
// service with external IPs.
func coreServiceExternallyAccessible(svc *corev1.Service) bool {
	switch svc.Spec.Type {
	case corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort:
		return true
	case corev1.ServiceTypeClusterIP:
		return len(svc.Spec.ExternalIPs) > 0
	}
	return false
}

// defaultCoreService defaults a Service. IP families, the IP family policy,
// cluster IPs, node ports and the health check node port are not touched
// here: upstream allocates and defaults those in the service registry.
func defaultCoreService(svc *corev1.Service) {
	spec := &svc.Spec
	switch spec.SessionAffinity {
	case "":
		spec.SessionAffinity = corev1.ServiceAffinityNone
		spec.SessionAffinityConfig = nil
	case corev1.ServiceAffinityNone:
		spec.SessionAffinityConfig = nil
	case corev1.ServiceAffinityClientIP:
		c := spec.SessionAffinityConfig
		if c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil {
			timeout := corev1.DefaultClientIPServiceAffinitySeconds
			spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{
				ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: &timeout},
			}
		}
	}
	if spec.Type == "" {
		spec.Type = corev1.ServiceTypeClusterIP
	}
	for i := range spec.Ports {
		p := &spec.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		unsetTarget := (p.TargetPort.Type == intstr.Int && p.TargetPort.IntVal == 0) ||
			(p.TargetPort.Type == intstr.String && p.TargetPort.StrVal == "")
		if unsetTarget {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	if coreServiceExternallyAccessible(svc) && spec.ExternalTrafficPolicy == "" {
		spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	if spec.InternalTrafficPolicy == nil {
		switch spec.Type {
		case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
			itp := corev1.ServiceInternalTrafficPolicyCluster
			spec.InternalTrafficPolicy = &itp
		}
	}
	if spec.Type == corev1.ServiceTypeLoadBalancer {
		if spec.AllocateLoadBalancerNodePorts == nil {
			allocate := true
			spec.AllocateLoadBalancerNodePorts = &allocate
		}
		for i := range svc.Status.LoadBalancer.Ingress {
			ing := &svc.Status.LoadBalancer.Ingress[i]
			if ing.IP != "" && ing.IPMode == nil {
				mode := corev1.LoadBalancerIPModeVIP
				ing.IPMode = &mode
			}
		}
	}
}

func defaultCoreEndpoints(ep *corev1.Endpoints) {
	for i := range ep.Subsets {
		ports := ep.Subsets[i].Ports
		for j := range ports {
			if ports[j].Protocol == "" {
				ports[j].Protocol = corev1.ProtocolTCP
			}
		}
	}
}

// defaultCoreNamespace labels a named namespace with its own name and sets
// the phase of a namespace without one to Active, as upstream defaulting does
// (the registry's create strategy sets the phase again regardless).
func defaultCoreNamespace(ns *corev1.Namespace) {
	if ns.Name != "" {
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[corev1.LabelMetadataName] = ns.Name
	}
	if ns.Status.Phase == "" {
		ns.Status.Phase = corev1.NamespaceActive
	}
}

func defaultCoreNode(node *corev1.Node) {
	st := &node.Status
	if st.Allocatable == nil && st.Capacity != nil {
		st.Allocatable = make(corev1.ResourceList, len(st.Capacity))
		for name, q := range st.Capacity {
			st.Allocatable[name] = q.DeepCopy()
		}
	}
	DefaultResourceList(&st.Capacity)
	DefaultResourceList(&st.Allocatable)
}

func defaultCorePersistentVolume(pv *corev1.PersistentVolume) {
	if pv.Status.Phase == "" {
		pv.Status.Phase = corev1.VolumePending
	}
	if pv.Spec.PersistentVolumeReclaimPolicy == "" {
		pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	}
	if pv.Spec.VolumeMode == nil {
		mode := corev1.PersistentVolumeFilesystem
		pv.Spec.VolumeMode = &mode
	}
	DefaultResourceList(&pv.Spec.Capacity)
	src := &pv.Spec.PersistentVolumeSource
	if src.HostPath != nil {
		defaultCoreHostPath(src.HostPath)
	}
	if rbd := src.RBD; rbd != nil {
		defaultCoreRBD(&rbd.RBDPool, &rbd.RadosUser, &rbd.Keyring)
	}
	if iscsi := src.ISCSI; iscsi != nil && iscsi.ISCSIInterface == "" {
		iscsi.ISCSIInterface = "default"
	}
	if src.AzureDisk != nil {
		defaultCoreAzureDisk(src.AzureDisk)
	}
	if sio := src.ScaleIO; sio != nil {
		defaultCoreScaleIO(&sio.StorageMode, &sio.FSType)
	}
}

// DefaultPersistentVolumeClaim defaults a whole claim: its phase, its spec
// and its resource lists. StatefulSet volume claim templates are defaulted
// with it too.
func DefaultPersistentVolumeClaim(pvc *corev1.PersistentVolumeClaim) {
	if pvc.Status.Phase == "" {
		pvc.Status.Phase = corev1.ClaimPending
	}
	DefaultPersistentVolumeClaimSpec(&pvc.Spec)
	DefaultResourceList(&pvc.Status.Capacity)
	DefaultResourceList(&pvc.Status.AllocatedResources)
}

// DefaultPersistentVolumeClaimSpec defaults the volume mode to Filesystem and
// rounds the requested resources.
func DefaultPersistentVolumeClaimSpec(spec *corev1.PersistentVolumeClaimSpec) {
	if spec.VolumeMode == nil {
		mode := corev1.PersistentVolumeFilesystem
		spec.VolumeMode = &mode
	}
	DefaultResourceList(&spec.Resources.Limits)
	DefaultResourceList(&spec.Resources.Requests)
}

// defaultCoreLimitRange fills, for container limits only, the default limit
// from max and the default request from the default limit, then from min.
func defaultCoreLimitRange(lr *corev1.LimitRange) {
	for i := range lr.Spec.Limits {
		item := &lr.Spec.Limits[i]
		if item.Type == corev1.LimitTypeContainer {
			if item.Default == nil {
				item.Default = corev1.ResourceList{}
			}
			if item.DefaultRequest == nil {
				item.DefaultRequest = corev1.ResourceList{}
			}
			coreFillMissing(item.Default, item.Max)
			coreFillMissing(item.DefaultRequest, item.Default)
			coreFillMissing(item.DefaultRequest, item.Min)
		}
		DefaultResourceList(&item.Max)
		DefaultResourceList(&item.Min)
		DefaultResourceList(&item.Default)
		DefaultResourceList(&item.DefaultRequest)
		DefaultResourceList(&item.MaxLimitRequestRatio)
	}
}

// coreFillMissing copies into dst every quantity of src whose resource dst lacks.
func coreFillMissing(dst, src corev1.ResourceList) {
	for name, q := range src {
		if _, ok := dst[name]; !ok {
			dst[name] = q.DeepCopy()
		}
	}
}

func defaultCoreResourceQuota(rq *corev1.ResourceQuota) {
	DefaultResourceList(&rq.Spec.Hard)
	DefaultResourceList(&rq.Status.Hard)
	DefaultResourceList(&rq.Status.Used)
}

func defaultCoreSecret(s *corev1.Secret) {
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
}

func defaultCoreConfigMap(cm *corev1.ConfigMap) {
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
}
