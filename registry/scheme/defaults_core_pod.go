package scheme

import (
	"reflect"

	corev1 "k8s.io/api/core/v1"
)

// defaultCorePod defaults a Pod. Beyond what every pod template gets
// (DefaultPodSpec), a Pod itself gets container requests copied from
// limits, enableServiceLinks, host ports on host-network pods and the
// rounding of its status resource lists.
//
// Pod-level resources (spec.resources) are rounded here but not filled in:
// since 1.37 upstream fills them in the pod create strategy instead (see
// DefaultPodLevelResources).
func defaultCorePod(pod *corev1.Pod) {
	spec := &pod.Spec
	// Only a Pod, never a template, gets requests from its limits.
	for i := range spec.Containers {
		coreRequestsFromLimits(&spec.Containers[i].Resources)
	}
	for i := range spec.InitContainers {
		coreRequestsFromLimits(&spec.InitContainers[i].Resources)
	}
	if spec.EnableServiceLinks == nil {
		links := corev1.DefaultEnableServiceLinks
		spec.EnableServiceLinks = &links
	}
	if spec.HostNetwork {
		coreHostPortsFromContainerPorts(spec.Containers)
		coreHostPortsFromContainerPorts(spec.InitContainers)
	}

	DefaultPodSpec(spec)
	defaultCorePodStatus(&pod.Status)
}

func defaultCorePodStatus(st *corev1.PodStatus) {
	for _, statuses := range [][]corev1.ContainerStatus{st.InitContainerStatuses, st.ContainerStatuses, st.EphemeralContainerStatuses} {
		for i := range statuses {
			cs := &statuses[i]
			DefaultResourceList(&cs.AllocatedResources)
			if cs.Resources != nil {
				DefaultResourceList(&cs.Resources.Limits)
				DefaultResourceList(&cs.Resources.Requests)
			}
		}
	}
	DefaultResourceList(&st.AllocatedResources)
	if st.Resources != nil {
		DefaultResourceList(&st.Resources.Limits)
		DefaultResourceList(&st.Resources.Requests)
	}
}

// coreRequestsFromLimits sets the request of every resource that has a limit
// but no request to that limit.
func coreRequestsFromLimits(r *corev1.ResourceRequirements) {
	if r.Limits == nil {
		return
	}
	if r.Requests == nil {
		r.Requests = corev1.ResourceList{}
	}
	coreFillMissing(r.Requests, r.Limits)
}

// coreHostPortsFromContainerPorts makes every port of a host-network pod's
// containers a host port on the same number.
func coreHostPortsFromContainerPorts(containers []corev1.Container) {
	for i := range containers {
		ports := containers[i].Ports
		for j := range ports {
			if ports[j].HostPort == 0 {
				ports[j].HostPort = ports[j].ContainerPort
			}
		}
	}
}

// DefaultPodTemplateSpec defaults the pod template of a PodTemplate, a
// ReplicationController or any workload of another group. Templates get the
// PodSpec defaults only: no Pod-only defaults and nothing in their metadata.
func DefaultPodTemplateSpec(t *corev1.PodTemplateSpec) {
	DefaultPodSpec(&t.Spec)
}

// DefaultPodSpec applies the defaults every PodSpec gets, wherever it is
// embedded, and recursively those of its volumes and containers.
func DefaultPodSpec(spec *corev1.PodSpec) {
	if spec.DNSPolicy == "" {
		spec.DNSPolicy = corev1.DNSClusterFirst
	}
	if spec.RestartPolicy == "" {
		spec.RestartPolicy = corev1.RestartPolicyAlways
	}
	if spec.SecurityContext == nil {
		spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	if spec.TerminationGracePeriodSeconds == nil {
		grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
		spec.TerminationGracePeriodSeconds = &grace
	}
	if spec.SchedulerName == "" {
		spec.SchedulerName = corev1.DefaultSchedulerName
	}

	for i := range spec.Volumes {
		defaultCoreVolume(&spec.Volumes[i])
	}
	for i := range spec.InitContainers {
		defaultCoreContainer(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		defaultCoreContainer(&spec.Containers[i])
	}
	for i := range spec.EphemeralContainers {
		// EphemeralContainerCommon has exactly the fields of Container.
		defaultCoreContainer((*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
	DefaultResourceList(&spec.Overhead)
	if spec.Resources != nil {
		DefaultResourceList(&spec.Resources.Limits)
		DefaultResourceList(&spec.Resources.Requests)
	}
}

// defaultCoreContainer defaults one container (regular, init or ephemeral) and
// everything nested in it.
func defaultCoreContainer(c *corev1.Container) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = corePullPolicyForImage(c.Image)
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
	}
	for i := range c.Env {
		from := c.Env[i].ValueFrom
		if from == nil {
			continue
		}
		if from.FieldRef != nil {
			defaultCoreFieldSelector(from.FieldRef)
		}
		if from.FileKeyRef != nil && from.FileKeyRef.Optional == nil {
			optional := false
			from.FileKeyRef.Optional = &optional
		}
	}
	DefaultResourceList(&c.Resources.Limits)
	DefaultResourceList(&c.Resources.Requests)
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if p != nil {
			defaultCoreProbe(p)
		}
	}
	if lc := c.Lifecycle; lc != nil {
		for _, h := range []*corev1.LifecycleHandler{lc.PostStart, lc.PreStop} {
			if h != nil && h.HTTPGet != nil {
				defaultCoreHTTPGetAction(h.HTTPGet)
			}
		}
	}
}

// corePullPolicyForImage is Always for an image whose tag is, or defaults to,
// "latest", and IfNotPresent for any other image, including one pinned by
// digest alone and one that is not a valid reference at all.
func corePullPolicyForImage(image string) corev1.PullPolicy {
	if tag, ok := coreImageReferenceTag(image); ok && tag == "latest" {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}

func defaultCoreProbe(p *corev1.Probe) {
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
	if p.HTTPGet != nil {
		defaultCoreHTTPGetAction(p.HTTPGet)
	}
	if p.GRPC != nil && p.GRPC.Service == nil {
		service := ""
		p.GRPC.Service = &service
	}
}

func defaultCoreHTTPGetAction(a *corev1.HTTPGetAction) {
	if a.Path == "" {
		a.Path = "/"
	}
	if a.Scheme == "" {
		a.Scheme = corev1.URISchemeHTTP
	}
}

func defaultCoreFieldSelector(s *corev1.ObjectFieldSelector) {
	if s.APIVersion == "" {
		s.APIVersion = "v1"
	}
}

// coreNoVolumeSource reports whether no field of the volume source is set: every
// one of them is a pointer.
func coreNoVolumeSource(src *corev1.VolumeSource) bool {
	v := reflect.ValueOf(src).Elem()
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			return false
		}
	}
	return true
}

func defaultCoreVolume(vol *corev1.Volume) {
	if coreNoVolumeSource(&vol.VolumeSource) {
		vol.VolumeSource = corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
	}
	src := &vol.VolumeSource
	// ImageVolume is beta and on by default since 1.35.
	if src.Image != nil && src.Image.PullPolicy == "" {
		src.Image.PullPolicy = corePullPolicyForImage(src.Image.Reference)
	}
	if src.HostPath != nil {
		defaultCoreHostPath(src.HostPath)
	}
	if src.Secret != nil && src.Secret.DefaultMode == nil {
		mode := corev1.SecretVolumeSourceDefaultMode
		src.Secret.DefaultMode = &mode
	}
	if iscsi := src.ISCSI; iscsi != nil && iscsi.ISCSIInterface == "" {
		iscsi.ISCSIInterface = "default"
	}
	if rbd := src.RBD; rbd != nil {
		defaultCoreRBD(&rbd.RBDPool, &rbd.RadosUser, &rbd.Keyring)
	}
	if d := src.DownwardAPI; d != nil {
		if d.DefaultMode == nil {
			mode := corev1.DownwardAPIVolumeSourceDefaultMode
			d.DefaultMode = &mode
		}
		defaultCoreDownwardAPIFiles(d.Items)
	}
	if src.ConfigMap != nil && src.ConfigMap.DefaultMode == nil {
		mode := corev1.ConfigMapVolumeSourceDefaultMode
		src.ConfigMap.DefaultMode = &mode
	}
	if src.AzureDisk != nil {
		defaultCoreAzureDisk(src.AzureDisk)
	}
	if p := src.Projected; p != nil {
		if p.DefaultMode == nil {
			mode := corev1.ProjectedVolumeSourceDefaultMode
			p.DefaultMode = &mode
		}
		for i := range p.Sources {
			s := &p.Sources[i]
			if s.DownwardAPI != nil {
				defaultCoreDownwardAPIFiles(s.DownwardAPI.Items)
			}
			if t := s.ServiceAccountToken; t != nil && t.ExpirationSeconds == nil {
				hour := int64(3600)
				t.ExpirationSeconds = &hour
			}
		}
	}
	if sio := src.ScaleIO; sio != nil {
		defaultCoreScaleIO(&sio.StorageMode, &sio.FSType)
	}
	if e := src.Ephemeral; e != nil && e.VolumeClaimTemplate != nil {
		DefaultPersistentVolumeClaimSpec(&e.VolumeClaimTemplate.Spec)
	}
}

func defaultCoreDownwardAPIFiles(files []corev1.DownwardAPIVolumeFile) {
	for i := range files {
		if files[i].FieldRef != nil {
			defaultCoreFieldSelector(files[i].FieldRef)
		}
	}
}

func defaultCoreHostPath(h *corev1.HostPathVolumeSource) {
	if h.Type == nil {
		unset := corev1.HostPathUnset
		h.Type = &unset
	}
}

// defaultCoreRBD fills the pool, user and keyring of an RBD volume (pod or
// persistent).
func defaultCoreRBD(pool, user, keyring *string) {
	if *pool == "" {
		*pool = "rbd"
	}
	if *user == "" {
		*user = "admin"
	}
	if *keyring == "" {
		*keyring = "/etc/ceph/keyring"
	}
}

// defaultCoreScaleIO fills the storage mode and filesystem of a ScaleIO volume
// (pod or persistent).
func defaultCoreScaleIO(storageMode, fsType *string) {
	if *storageMode == "" {
		*storageMode = "ThinProvisioned"
	}
	if *fsType == "" {
		*fsType = "xfs"
	}
}

func defaultCoreAzureDisk(a *corev1.AzureDiskVolumeSource) {
	if a.CachingMode == nil {
		mode := corev1.AzureDataDiskCachingReadWrite
		a.CachingMode = &mode
	}
	if a.FSType == nil {
		fs := "ext4"
		a.FSType = &fs
	}
	if a.ReadOnly == nil {
		readOnly := false
		a.ReadOnly = &readOnly
	}
	if a.Kind == nil {
		kind := corev1.AzureSharedBlobDisk
		a.Kind = &kind
	}
}
