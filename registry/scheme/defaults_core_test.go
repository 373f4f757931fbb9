package scheme

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func corePtr[T any](v T) *T { return &v }

// decodeCore decodes a JSON body the way the API server does, defaulting
// included, and drops the type meta the decoder sets.
func decodeCore(t *testing.T, body string) runtime.Object {
	t.Helper()
	obj, err := runtime.Decode(Codecs.UniversalDecoder(corev1.SchemeGroupVersion), []byte(body))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	return obj
}

// minimalContainer is a container named c running image as defaulting
// leaves it.
func minimalContainer(image string, policy corev1.PullPolicy) corev1.Container {
	return corev1.Container{
		Name:                     "c",
		Image:                    image,
		ImagePullPolicy:          policy,
		TerminationMessagePath:   "/dev/termination-log",
		TerminationMessagePolicy: corev1.TerminationMessageReadFile,
	}
}

// defaultedSpec is the PodSpec every template gets around containers.
func defaultedSpec(containers ...corev1.Container) corev1.PodSpec {
	return corev1.PodSpec{
		Containers:                    containers,
		RestartPolicy:                 corev1.RestartPolicyAlways,
		TerminationGracePeriodSeconds: corePtr(int64(30)),
		DNSPolicy:                     corev1.DNSClusterFirst,
		SecurityContext:               &corev1.PodSecurityContext{},
		SchedulerName:                 "default-scheduler",
	}
}

// defaultedPodSpec is defaultedSpec plus what only a Pod gets.
func defaultedPodSpec(containers ...corev1.Container) corev1.PodSpec {
	s := defaultedSpec(containers...)
	s.EnableServiceLinks = corePtr(true)
	return s
}

func TestCoreDefaultsDecode(t *testing.T) {
	tests := []struct {
		name string
		body string
		want runtime.Object
	}{
		{
			name: "minimal pod",
			body: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}`,
			want: &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "p"},
				Spec:       defaultedPodSpec(minimalContainer("nginx", corev1.PullAlways)),
			},
		},
		{
			name: "pod with limits only gets requests, rounded to milli-units",
			body: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{
				"initContainers":[{"name":"i","image":"busybox:1.36","resources":{"limits":{"cpu":"0.0001"}}}],
				"containers":[{"name":"c","image":"nginx:1.27","resources":{"limits":{"cpu":"500m","memory":"64Mi"},"requests":{"cpu":"100m"}}}]}}`,
			want: &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "p"},
				Spec: func() corev1.PodSpec {
					c := minimalContainer("nginx:1.27", corev1.PullIfNotPresent)
					c.Resources = corev1.ResourceRequirements{
						Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
					}
					i := minimalContainer("busybox:1.36", corev1.PullIfNotPresent)
					i.Name = "i"
					i.Resources = corev1.ResourceRequirements{
						Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1m")},
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1m")},
					}
					s := defaultedPodSpec(c)
					s.InitContainers = []corev1.Container{i}
					return s
				}(),
			},
		},
		{
			name: "host network pod gets host ports, ports get TCP",
			body: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"hostNetwork":true,"enableServiceLinks":false,"dnsPolicy":"Default","restartPolicy":"Never","schedulerName":"other","terminationGracePeriodSeconds":5,
				"containers":[{"name":"c","image":"nginx","imagePullPolicy":"Never","ports":[{"containerPort":80},{"containerPort":53,"hostPort":5353,"protocol":"UDP"}]}]}}`,
			want: &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "p"},
				Spec: func() corev1.PodSpec {
					c := minimalContainer("nginx", corev1.PullNever)
					c.Ports = []corev1.ContainerPort{
						{ContainerPort: 80, HostPort: 80, Protocol: corev1.ProtocolTCP},
						{ContainerPort: 53, HostPort: 5353, Protocol: corev1.ProtocolUDP},
					}
					s := defaultedPodSpec(c)
					s.HostNetwork = true
					s.EnableServiceLinks = corePtr(false)
					s.DNSPolicy = corev1.DNSDefault
					s.RestartPolicy = corev1.RestartPolicyNever
					s.SchedulerName = "other"
					s.TerminationGracePeriodSeconds = corePtr(int64(5))
					return s
				}(),
			},
		},
		{
			name: "probes, lifecycle handlers and env",
			body: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx",
				"livenessProbe":{"httpGet":{"port":8080}},
				"readinessProbe":{"grpc":{"port":9090},"periodSeconds":3},
				"startupProbe":{"exec":{"command":["true"]},"failureThreshold":30},
				"lifecycle":{"postStart":{"httpGet":{"port":80,"path":"/x"}},"preStop":{"httpGet":{"port":80,"scheme":"HTTPS"}}},
				"env":[{"name":"N","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}},{"name":"F","valueFrom":{"fileKeyRef":{"volumeName":"v","path":"p","key":"k"}}}]}]}}`,
			want: &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "p"},
				Spec: defaultedPodSpec(func() corev1.Container {
					c := minimalContainer("nginx", corev1.PullAlways)
					c.LivenessProbe = &corev1.Probe{
						ProbeHandler:   corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(8080), Path: "/", Scheme: corev1.URISchemeHTTP}},
						TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3,
					}
					c.ReadinessProbe = &corev1.Probe{
						ProbeHandler:   corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9090, Service: corePtr("")}},
						TimeoutSeconds: 1, PeriodSeconds: 3, SuccessThreshold: 1, FailureThreshold: 3,
					}
					c.StartupProbe = &corev1.Probe{
						ProbeHandler:   corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}},
						TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 30,
					}
					c.Lifecycle = &corev1.Lifecycle{
						PostStart: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(80), Path: "/x", Scheme: corev1.URISchemeHTTP}},
						PreStop:   &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(80), Path: "/", Scheme: corev1.URISchemeHTTPS}},
					}
					c.Env = []corev1.EnvVar{
						{Name: "N", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
						{Name: "F", ValueFrom: &corev1.EnvVarSource{FileKeyRef: &corev1.FileKeySelector{VolumeName: "v", Path: "p", Key: "k", Optional: corePtr(false)}}},
					}
					return c
				}()),
			},
		},
		{
			name: "volumes of every defaulted kind",
			body: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx"}],"volumes":[
				{"name":"empty"},
				{"name":"secret","secret":{"secretName":"s"}},
				{"name":"cm","configMap":{"name":"cm","defaultMode":256}},
				{"name":"dapi","downwardAPI":{"items":[{"path":"n","fieldRef":{"fieldPath":"metadata.name"}}]}},
				{"name":"proj","projected":{"sources":[{"serviceAccountToken":{"path":"t"}},{"downwardAPI":{"items":[{"path":"n","fieldRef":{"fieldPath":"metadata.name"}}]}}]}},
				{"name":"hp","hostPath":{"path":"/tmp"}},
				{"name":"rbd","rbd":{"monitors":["m"],"image":"i"}},
				{"name":"iscsi","iscsi":{"targetPortal":"t","iqn":"q","lun":0}},
				{"name":"az","azureDisk":{"diskName":"d","diskURI":"u"}},
				{"name":"sio","scaleIO":{"gateway":"g","system":"s","secretRef":{"name":"x"}}},
				{"name":"eph","ephemeral":{"volumeClaimTemplate":{"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}}},
				{"name":"img","image":{"reference":"quay.io/x/y:v1"}},
				{"name":"img2","image":{"reference":"quay.io/x/y"}}]}}`,
			want: &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "p"},
				Spec: func() corev1.PodSpec {
					s := defaultedPodSpec(minimalContainer("nginx", corev1.PullAlways))
					fieldRef := func() []corev1.DownwardAPIVolumeFile {
						return []corev1.DownwardAPIVolumeFile{{Path: "n", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}}
					}
					s.Volumes = []corev1.Volume{
						{Name: "empty", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
						{Name: "secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s", DefaultMode: corePtr(int32(0644))}}},
						{Name: "cm", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}, DefaultMode: corePtr(int32(0400))}}},
						{Name: "dapi", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: fieldRef(), DefaultMode: corePtr(int32(0644))}}},
						{Name: "proj", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
							DefaultMode: corePtr(int32(0644)),
							Sources: []corev1.VolumeProjection{
								{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "t", ExpirationSeconds: corePtr(int64(3600))}},
								{DownwardAPI: &corev1.DownwardAPIProjection{Items: fieldRef()}},
							},
						}}},
						{Name: "hp", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp", Type: corePtr(corev1.HostPathUnset)}}},
						{Name: "rbd", VolumeSource: corev1.VolumeSource{RBD: &corev1.RBDVolumeSource{CephMonitors: []string{"m"}, RBDImage: "i", RBDPool: "rbd", RadosUser: "admin", Keyring: "/etc/ceph/keyring"}}},
						{Name: "iscsi", VolumeSource: corev1.VolumeSource{ISCSI: &corev1.ISCSIVolumeSource{TargetPortal: "t", IQN: "q", ISCSIInterface: "default"}}},
						{Name: "az", VolumeSource: corev1.VolumeSource{AzureDisk: &corev1.AzureDiskVolumeSource{
							DiskName: "d", DataDiskURI: "u", CachingMode: corePtr(corev1.AzureDataDiskCachingReadWrite),
							FSType: corePtr("ext4"), ReadOnly: corePtr(false), Kind: corePtr(corev1.AzureSharedBlobDisk),
						}}},
						{Name: "sio", VolumeSource: corev1.VolumeSource{ScaleIO: &corev1.ScaleIOVolumeSource{
							Gateway: "g", System: "s", SecretRef: &corev1.LocalObjectReference{Name: "x"}, StorageMode: "ThinProvisioned", FSType: "xfs",
						}}},
						{Name: "eph", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{
							Spec: corev1.PersistentVolumeClaimSpec{
								AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
								Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
								VolumeMode:  corePtr(corev1.PersistentVolumeFilesystem),
							},
						}}}},
						{Name: "img", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "quay.io/x/y:v1", PullPolicy: corev1.PullIfNotPresent}}},
						{Name: "img2", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "quay.io/x/y", PullPolicy: corev1.PullAlways}}},
					}
					return s
				}(),
			},
		},
		{
			name: "ephemeral containers and status resources",
			body: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx"}],
				"ephemeralContainers":[{"name":"dbg","image":"busybox","ports":[{"containerPort":1}]}],
				"overhead":{"cpu":"0.00001"},"resources":{"limits":{"cpu":"1"}}},
				"status":{"containerStatuses":[{"name":"c","image":"nginx","imageID":"","ready":true,"restartCount":0,"allocatedResources":{"cpu":"0.0005"}}]}}`,
			want: &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "p"},
				Spec: func() corev1.PodSpec {
					s := defaultedPodSpec(minimalContainer("nginx", corev1.PullAlways))
					e := minimalContainer("busybox", corev1.PullAlways)
					e.Name = "dbg"
					e.Ports = []corev1.ContainerPort{{ContainerPort: 1, Protocol: corev1.ProtocolTCP}}
					s.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon(e)}}
					s.Overhead = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1m")}
					// Scheme defaulting leaves pod-level resources as given.
					s.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}
					return s
				}(),
				Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
					Name: "c", Image: "nginx", Ready: true,
					AllocatedResources: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1m")},
				}}},
			},
		},
		{
			name: "pod template gets no pod-only defaults",
			body: `{"apiVersion":"v1","kind":"PodTemplate","metadata":{"name":"t"},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"hostNetwork":true,
				"containers":[{"name":"c","image":"nginx","ports":[{"containerPort":80}],"resources":{"limits":{"cpu":"1"}}}]}}}`,
			want: &corev1.PodTemplate{
				ObjectMeta: metav1.ObjectMeta{Name: "t"},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}},
					Spec: func() corev1.PodSpec {
						c := minimalContainer("nginx", corev1.PullAlways)
						c.Ports = []corev1.ContainerPort{{ContainerPort: 80, Protocol: corev1.ProtocolTCP}}
						c.Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
						s := defaultedSpec(c)
						s.HostNetwork = true
						return s
					}(),
				},
			},
		},
		{
			name: "replication controller takes selector and labels from its template",
			body: `{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"rc"},"spec":{"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}`,
			want: &corev1.ReplicationController{
				ObjectMeta: metav1.ObjectMeta{Name: "rc", Labels: map[string]string{"app": "web"}},
				Spec: corev1.ReplicationControllerSpec{
					Replicas: corePtr(int32(1)),
					Selector: map[string]string{"app": "web"},
					Template: &corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
						Spec:       defaultedSpec(minimalContainer("nginx", corev1.PullAlways)),
					},
				},
			},
		},
		{
			name: "replication controller keeps its own selector, labels and replicas",
			body: `{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"rc","labels":{"team":"x"}},"spec":{"replicas":0,"selector":{"app":"web"},"template":{"metadata":{"labels":{"app":"web","v":"2"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}`,
			want: &corev1.ReplicationController{
				ObjectMeta: metav1.ObjectMeta{Name: "rc", Labels: map[string]string{"team": "x"}},
				Spec: corev1.ReplicationControllerSpec{
					Replicas: corePtr(int32(0)),
					Selector: map[string]string{"app": "web"},
					Template: &corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "v": "2"}},
						Spec:       defaultedSpec(minimalContainer("nginx", corev1.PullAlways)),
					},
				},
			},
		},
		{
			name: "replication controller without template",
			body: `{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"rc"},"spec":{}}`,
			want: &corev1.ReplicationController{
				ObjectMeta: metav1.ObjectMeta{Name: "rc"},
				Spec:       corev1.ReplicationControllerSpec{Replicas: corePtr(int32(1))},
			},
		},
		{
			name: "ClusterIP service",
			body: `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"selector":{"app":"web"},"ports":[{"port":80},{"name":"dns","port":53,"protocol":"UDP","targetPort":"dns"}]}}`,
			want: &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: "s"},
				Spec: corev1.ServiceSpec{
					Selector: map[string]string{"app": "web"},
					Ports: []corev1.ServicePort{
						{Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(80)},
						{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromString("dns")},
					},
					Type:                  corev1.ServiceTypeClusterIP,
					SessionAffinity:       corev1.ServiceAffinityNone,
					InternalTrafficPolicy: corePtr(corev1.ServiceInternalTrafficPolicyCluster),
				},
			},
		},
		{
			name: "ClusterIP service with external IPs and ClientIP affinity",
			body: `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"externalIPs":["1.2.3.4"],"sessionAffinity":"ClientIP","ports":[{"port":80,"targetPort":8080}]}}`,
			want: &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: "s"},
				Spec: corev1.ServiceSpec{
					ExternalIPs:           []string{"1.2.3.4"},
					Ports:                 []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)}},
					Type:                  corev1.ServiceTypeClusterIP,
					SessionAffinity:       corev1.ServiceAffinityClientIP,
					SessionAffinityConfig: &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: corePtr(int32(10800))}},
					ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyCluster,
					InternalTrafficPolicy: corePtr(corev1.ServiceInternalTrafficPolicyCluster),
				},
			},
		},
		{
			name: "NodePort service drops the affinity config of affinity None",
			body: `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"type":"NodePort","sessionAffinity":"None","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":5}},"ports":[{"port":80,"nodePort":30080}]}}`,
			want: &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: "s"},
				Spec: corev1.ServiceSpec{
					Ports:                 []corev1.ServicePort{{Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(80)}},
					Type:                  corev1.ServiceTypeNodePort,
					SessionAffinity:       corev1.ServiceAffinityNone,
					ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyCluster,
					InternalTrafficPolicy: corePtr(corev1.ServiceInternalTrafficPolicyCluster),
				},
			},
		},
		{
			name: "LoadBalancer service",
			body: `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"type":"LoadBalancer","externalTrafficPolicy":"Local","healthCheckNodePort":31000,"ports":[{"port":443,"protocol":"SCTP"}]},
				"status":{"loadBalancer":{"ingress":[{"ip":"10.0.0.1"},{"hostname":"lb.example.com"},{"ip":"10.0.0.2","ipMode":"Proxy"}]}}}`,
			want: &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: "s"},
				Spec: corev1.ServiceSpec{
					Ports:                         []corev1.ServicePort{{Port: 443, Protocol: corev1.ProtocolSCTP, TargetPort: intstr.FromInt32(443)}},
					Type:                          corev1.ServiceTypeLoadBalancer,
					SessionAffinity:               corev1.ServiceAffinityNone,
					ExternalTrafficPolicy:         corev1.ServiceExternalTrafficPolicyLocal,
					HealthCheckNodePort:           31000,
					InternalTrafficPolicy:         corePtr(corev1.ServiceInternalTrafficPolicyCluster),
					AllocateLoadBalancerNodePorts: corePtr(true),
				},
				Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{
					{IP: "10.0.0.1", IPMode: corePtr(corev1.LoadBalancerIPModeVIP)},
					{Hostname: "lb.example.com"},
					{IP: "10.0.0.2", IPMode: corePtr(corev1.LoadBalancerIPModeProxy)},
				}}},
			},
		},
		{
			name: "ExternalName service gets no traffic policies",
			body: `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"type":"ExternalName","externalName":"example.com"}}`,
			want: &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: "s"},
				Spec: corev1.ServiceSpec{
					Type:            corev1.ServiceTypeExternalName,
					ExternalName:    "example.com",
					SessionAffinity: corev1.ServiceAffinityNone,
				},
			},
		},
		{
			name: "headless dual-stack service keeps its IP family fields as given",
			body: `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"clusterIP":"None","ipFamilies":["IPv6"]}}`,
			want: &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: "s"},
				Spec: corev1.ServiceSpec{
					ClusterIP:             "None",
					IPFamilies:            []corev1.IPFamily{corev1.IPv6Protocol},
					Type:                  corev1.ServiceTypeClusterIP,
					SessionAffinity:       corev1.ServiceAffinityNone,
					InternalTrafficPolicy: corePtr(corev1.ServiceInternalTrafficPolicyCluster),
				},
			},
		},
		{
			name: "limit range",
			body: `{"apiVersion":"v1","kind":"LimitRange","metadata":{"name":"l"},"spec":{"limits":[
				{"type":"Container","max":{"cpu":"2","memory":"1Gi"},"min":{"cpu":"100m","ephemeral-storage":"1Mi"},"default":{"memory":"512Mi"}},
				{"type":"Pod","max":{"cpu":"0.0001"}},
				{"type":"Container"}]}}`,
			want: &corev1.LimitRange{
				ObjectMeta: metav1.ObjectMeta{Name: "l"},
				Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{
					{
						Type:    corev1.LimitTypeContainer,
						Max:     corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("1Gi")},
						Min:     corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceEphemeralStorage: resource.MustParse("1Mi")},
						Default: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("512Mi")},
						DefaultRequest: corev1.ResourceList{
							corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("512Mi"),
							corev1.ResourceEphemeralStorage: resource.MustParse("1Mi"),
						},
					},
					{Type: corev1.LimitTypePod, Max: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1m")}},
					{Type: corev1.LimitTypeContainer, Default: corev1.ResourceList{}, DefaultRequest: corev1.ResourceList{}},
				}},
			},
		},
		{
			name: "persistent volume",
			body: `{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv"},"spec":{"capacity":{"storage":"1Gi"},"accessModes":["ReadWriteOnce"],"hostPath":{"path":"/data"}}}`,
			want: &corev1.PersistentVolume{
				ObjectMeta: metav1.ObjectMeta{Name: "pv"},
				Spec: corev1.PersistentVolumeSpec{
					Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
					AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data", Type: corePtr(corev1.HostPathUnset)}},
					PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
					VolumeMode:                    corePtr(corev1.PersistentVolumeFilesystem),
				},
				Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumePending},
			},
		},
		{
			name: "persistent volume keeps explicit policy and mode",
			body: `{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv"},"spec":{"persistentVolumeReclaimPolicy":"Delete","volumeMode":"Block","rbd":{"monitors":["m"],"image":"i","pool":"p"}},"status":{"phase":"Bound"}}`,
			want: &corev1.PersistentVolume{
				ObjectMeta: metav1.ObjectMeta{Name: "pv"},
				Spec: corev1.PersistentVolumeSpec{
					PersistentVolumeSource: corev1.PersistentVolumeSource{RBD: &corev1.RBDPersistentVolumeSource{
						CephMonitors: []string{"m"}, RBDImage: "i", RBDPool: "p", RadosUser: "admin", Keyring: "/etc/ceph/keyring",
					}},
					PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
					VolumeMode:                    corePtr(corev1.PersistentVolumeBlock),
				},
				Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeBound},
			},
		},
		{
			name: "persistent volume claim",
			body: `{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"c"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"0.5Gi"}}}}`,
			want: &corev1.PersistentVolumeClaim{
				ObjectMeta: metav1.ObjectMeta{Name: "c"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("512Mi")}},
					VolumeMode:  corePtr(corev1.PersistentVolumeFilesystem),
				},
				Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending},
			},
		},
		{
			name: "namespace",
			body: `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a","labels":{"kubernetes.io/metadata.name":"wrong","x":"y"}}}`,
			want: &corev1.Namespace{
				ObjectMeta: metav1.ObjectMeta{Name: "team-a", Labels: map[string]string{"kubernetes.io/metadata.name": "team-a", "x": "y"}},
				Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
			},
		},
		{
			name: "namespace with generateName only",
			body: `{"apiVersion":"v1","kind":"Namespace","metadata":{"generateName":"tmp-"}}`,
			want: &corev1.Namespace{
				ObjectMeta: metav1.ObjectMeta{GenerateName: "tmp-"},
				Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
			},
		},
		{
			name: "node allocatable defaults to capacity",
			body: `{"apiVersion":"v1","kind":"Node","metadata":{"name":"n"},"status":{"capacity":{"cpu":"4","pods":"110"}}}`,
			want: &corev1.Node{
				ObjectMeta: metav1.ObjectMeta{Name: "n"},
				Status: corev1.NodeStatus{
					Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourcePods: resource.MustParse("110")},
					Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourcePods: resource.MustParse("110")},
				},
			},
		},
		{
			name: "endpoints ports get TCP",
			body: `{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"e"},"subsets":[{"addresses":[{"ip":"10.0.0.1"}],"ports":[{"port":80},{"port":53,"protocol":"UDP"}]}]}`,
			want: &corev1.Endpoints{
				ObjectMeta: metav1.ObjectMeta{Name: "e"},
				Subsets: []corev1.EndpointSubset{{
					Addresses: []corev1.EndpointAddress{{IP: "10.0.0.1"}},
					Ports:     []corev1.EndpointPort{{Port: 80, Protocol: corev1.ProtocolTCP}, {Port: 53, Protocol: corev1.ProtocolUDP}},
				}},
			},
		},
		{
			name: "secret type",
			body: `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"stringData":{"a":"b"}}`,
			want: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}, StringData: map[string]string{"a": "b"}, Type: corev1.SecretTypeOpaque},
		},
		{
			name: "config map data",
			body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}`,
			want: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Data: map[string]string{}},
		},
		{
			name: "resource quota quantities are rounded",
			body: `{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"q"},"spec":{"hard":{"cpu":"0.0001","pods":"10"}}}`,
			want: &corev1.ResourceQuota{
				ObjectMeta: metav1.ObjectMeta{Name: "q"},
				Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1m"), corev1.ResourcePods: resource.MustParse("10")}},
			},
		},
		{
			name: "service account is left alone",
			body: `{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa"}}`,
			want: &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "sa"}},
		},
		{
			name: "event is left alone",
			body: `{"apiVersion":"v1","kind":"Event","metadata":{"name":"e"},"reason":"R"}`,
			want: &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e"}, Reason: "R"},
		},
		{
			name: "list items are defaulted",
			body: `{"apiVersion":"v1","kind":"SecretList","metadata":{},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"},"type":"kubernetes.io/tls"}]}`,
			want: &corev1.SecretList{Items: []corev1.Secret{
				{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Type: corev1.SecretTypeOpaque},
				{ObjectMeta: metav1.ObjectMeta{Name: "b"}, Type: corev1.SecretTypeTLS},
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeCore(t, tc.body)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("defaulted object (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCoreDefaultsSchemeDefault checks that Scheme.Default reaches every
// list kind's items and that defaulting twice changes nothing more.
func TestCoreDefaultsSchemeDefault(t *testing.T) {
	tests := []struct {
		name string
		obj  runtime.Object
		want runtime.Object
	}{
		{
			name: "pod list",
			obj:  &corev1.PodList{Items: []corev1.Pod{{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:latest"}}}}}},
			want: &corev1.PodList{Items: []corev1.Pod{{Spec: defaultedPodSpec(minimalContainer("nginx:latest", corev1.PullAlways))}}},
		},
		{
			name: "replication controller list",
			obj:  &corev1.ReplicationControllerList{Items: []corev1.ReplicationController{{}}},
			want: &corev1.ReplicationControllerList{Items: []corev1.ReplicationController{{Spec: corev1.ReplicationControllerSpec{Replicas: corePtr(int32(1))}}}},
		},
		{
			name: "service list",
			obj:  &corev1.ServiceList{Items: []corev1.Service{{}}},
			want: &corev1.ServiceList{Items: []corev1.Service{{Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeClusterIP, SessionAffinity: corev1.ServiceAffinityNone,
				InternalTrafficPolicy: corePtr(corev1.ServiceInternalTrafficPolicyCluster),
			}}}},
		},
		{
			name: "persistent volume claim list",
			obj:  &corev1.PersistentVolumeClaimList{Items: []corev1.PersistentVolumeClaim{{}}},
			want: &corev1.PersistentVolumeClaimList{Items: []corev1.PersistentVolumeClaim{{
				Spec:   corev1.PersistentVolumeClaimSpec{VolumeMode: corePtr(corev1.PersistentVolumeFilesystem)},
				Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending},
			}}},
		},
		{
			name: "config map list",
			obj:  &corev1.ConfigMapList{Items: []corev1.ConfigMap{{}}},
			want: &corev1.ConfigMapList{Items: []corev1.ConfigMap{{Data: map[string]string{}}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			Scheme.Default(tc.obj)
			if diff := cmp.Diff(tc.want, tc.obj); diff != "" {
				t.Errorf("defaulted object (-want +got):\n%s", diff)
			}
			Scheme.Default(tc.obj)
			if diff := cmp.Diff(tc.want, tc.obj); diff != "" {
				t.Errorf("defaulted twice (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCoreImagePullPolicy(t *testing.T) {
	digest := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		image string
		want  corev1.PullPolicy
	}{
		{"nginx", corev1.PullAlways},
		{"nginx:latest", corev1.PullAlways},
		{"nginx:1.27", corev1.PullIfNotPresent},
		{"library/nginx", corev1.PullAlways},
		{"docker.io/library/nginx:stable", corev1.PullIfNotPresent},
		{"nginx@" + digest, corev1.PullIfNotPresent},
		{"nginx:latest@" + digest, corev1.PullAlways},
		{"nginx:1.27@" + digest, corev1.PullIfNotPresent},
		{"localhost/app", corev1.PullAlways},
		{"localhost:5000/app:v2", corev1.PullIfNotPresent},
		{"registry.example.com:5000/team/app", corev1.PullAlways},
		{"Registry.Example.com/app", corev1.PullAlways},
		{"[::1]:5000/app:latest", corev1.PullAlways},
		{"my_registry/a__b/c-d", corev1.PullAlways},
		// Not valid references: never "latest".
		{"", corev1.PullIfNotPresent},
		{"NGINX", corev1.PullIfNotPresent},
		{"nginx@sha256:abc", corev1.PullIfNotPresent},
		{"nginx@md5:0123456789abcdef0123456789abcdef", corev1.PullIfNotPresent},
		{"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", corev1.PullIfNotPresent},
		{"nginx:", corev1.PullIfNotPresent},
		{"-nginx", corev1.PullIfNotPresent},
	}
	for _, tc := range tests {
		t.Run(tc.image, func(t *testing.T) {
			if got := corePullPolicyForImage(tc.image); got != tc.want {
				t.Errorf("pull policy of %q = %s, want %s", tc.image, got, tc.want)
			}
		})
	}
}

func TestDefaultPodLevelResources(t *testing.T) {
	rl := func(kv ...string) corev1.ResourceList {
		l := corev1.ResourceList{}
		for i := 0; i < len(kv); i += 2 {
			l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
		}
		return l
	}
	ctr := func(name string, limits, requests corev1.ResourceList) corev1.Container {
		return corev1.Container{Name: name, Resources: corev1.ResourceRequirements{Limits: limits, Requests: requests}}
	}
	always := corev1.ContainerRestartPolicyAlways
	tests := []struct {
		name       string
		pod        corev1.PodSpec
		wantPodRes *corev1.ResourceRequirements
	}{
		{
			name:       "no pod-level resources: nothing changes",
			pod:        corev1.PodSpec{Containers: []corev1.Container{ctr("a", rl("cpu", "1"), rl("cpu", "1"))}},
			wantPodRes: nil,
		},
		{
			name: "pod-level limits only and containers without resources: requests are the limits",
			pod: corev1.PodSpec{
				Resources:  &corev1.ResourceRequirements{Limits: rl("cpu", "2", "memory", "1Gi")},
				Containers: []corev1.Container{ctr("a", nil, nil)},
			},
			wantPodRes: &corev1.ResourceRequirements{Limits: rl("cpu", "2", "memory", "1Gi"), Requests: rl("cpu", "2", "memory", "1Gi")},
		},
		{
			name: "pod-level limits: requests aggregate the containers' requests",
			pod: corev1.PodSpec{
				Resources: &corev1.ResourceRequirements{Limits: rl("cpu", "4", "memory", "1Gi")},
				InitContainers: []corev1.Container{
					func() corev1.Container {
						c := ctr("sidecar", nil, rl("cpu", "100m"))
						c.RestartPolicy = &always
						return c
					}(),
					ctr("init", nil, rl("cpu", "3")),
				},
				Containers: []corev1.Container{ctr("a", nil, rl("cpu", "500m", "example.com/gpu", "1")), ctr("b", nil, rl("cpu", "500m"))},
			},
			// regular 1 + sidecar 0.1 = 1.1, below the init step 3 + 0.1 = 3.1.
			wantPodRes: &corev1.ResourceRequirements{Limits: rl("cpu", "4", "memory", "1Gi"), Requests: rl("cpu", "3100m", "memory", "1Gi")},
		},
		{
			name: "pod-level requests and every container limited: limits aggregate the containers' limits",
			pod: corev1.PodSpec{
				Resources:  &corev1.ResourceRequirements{Requests: rl("cpu", "1")},
				Containers: []corev1.Container{ctr("a", rl("cpu", "1", "memory", "100Mi"), rl("cpu", "1", "memory", "100Mi")), ctr("b", rl("cpu", "2"), rl("cpu", "2"))},
			},
			// memory: not every container has a limit, so no pod-level memory limit.
			wantPodRes: &corev1.ResourceRequirements{Requests: rl("cpu", "1", "memory", "100Mi"), Limits: rl("cpu", "3")},
		},
		{
			name: "pod-level request above the containers' limits raises the limit",
			pod: corev1.PodSpec{
				Resources:  &corev1.ResourceRequirements{Requests: rl("memory", "1Gi")},
				Containers: []corev1.Container{ctr("a", rl("memory", "256Mi"), rl("memory", "256Mi"))},
			},
			wantPodRes: &corev1.ResourceRequirements{Requests: rl("memory", "1Gi"), Limits: rl("memory", "1Gi")},
		},
		{
			name: "hugepage limits come from the containers unless the pod requests them",
			pod: corev1.PodSpec{
				Resources:  &corev1.ResourceRequirements{Limits: rl("memory", "1Gi"), Requests: rl("hugepages-1Gi", "1Gi")},
				Containers: []corev1.Container{ctr("a", rl("hugepages-2Mi", "4Mi", "hugepages-1Gi", "1Gi"), nil)},
			},
			wantPodRes: &corev1.ResourceRequirements{
				Limits:   rl("memory", "1Gi", "hugepages-2Mi", "4Mi"),
				Requests: rl("memory", "1Gi", "hugepages-2Mi", "4Mi", "hugepages-1Gi", "1Gi"),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: tc.pod}
			DefaultPodLevelResources(pod)
			if diff := cmp.Diff(tc.wantPodRes, pod.Spec.Resources); diff != "" {
				t.Errorf("pod-level resources (-want +got):\n%s", diff)
			}
		})
	}
}
