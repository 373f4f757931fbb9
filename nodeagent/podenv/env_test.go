package podenv

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func service(ns, name, ip string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{ClusterIP: ip, Ports: ports},
	}
}

func port(name string, p int32, proto corev1.Protocol) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: p, Protocol: proto}
}

func kubernetesService() *corev1.Service {
	return service("default", "kubernetes", "10.96.0.1", port("https", 443, corev1.ProtocolTCP))
}

// kubernetesVars are the variables of kubernetesService.
var kubernetesVars = []EnvVar{
	{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
	{"KUBERNETES_SERVICE_PORT", "443"},
	{"KUBERNETES_SERVICE_PORT_HTTPS", "443"},
	{"KUBERNETES_PORT", "tcp://10.96.0.1:443"},
	{"KUBERNETES_PORT_443_TCP", "tcp://10.96.0.1:443"},
	{"KUBERNETES_PORT_443_TCP_PROTO", "tcp"},
	{"KUBERNETES_PORT_443_TCP_PORT", "443"},
	{"KUBERNETES_PORT_443_TCP_ADDR", "10.96.0.1"},
}

func configMap(name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Data: data}
}

func secret(name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func testNode() *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "node-1"},
		Status: corev1.NodeStatus{
			Addresses:   []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.1.10"}},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi")},
		},
	}
}

type podOption func(*corev1.Pod)

func withLinks(enabled bool) podOption {
	return func(p *corev1.Pod) { p.Spec.EnableServiceLinks = &enabled }
}

func withEnvFrom(from ...corev1.EnvFromSource) podOption {
	return func(p *corev1.Pod) { p.Spec.Containers[0].EnvFrom = append(p.Spec.Containers[0].EnvFrom, from...) }
}

func withEnv(env ...corev1.EnvVar) podOption {
	return func(p *corev1.Pod) { p.Spec.Containers[0].Env = append(p.Spec.Containers[0].Env, env...) }
}

func testPod(opts ...podOption) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web", UID: "uid-1"},
		Spec: corev1.PodSpec{
			NodeName: "node-1",
			Containers: []corev1.Container{{
				Name:      "app",
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")}},
			}},
		},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func ptr[T any](v T) *T { return &v }

func cmRef(name string, optional bool) *corev1.ConfigMapEnvSource {
	return &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Optional: &optional}
}

func fromValue(name string, from corev1.EnvVarSource) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &from}
}

func TestEnv(t *testing.T) {
	tests := []struct {
		name    string
		objects []runtime.Object
		pod     *corev1.Pod
		noNode  bool
		ips     []string
		want    []EnvVar
		wantErr string
	}{
		{
			name:    "only the master service when links are disabled",
			objects: []runtime.Object{kubernetesService(), service("ns", "db", "10.96.0.9", port("", 5432, ""))},
			pod:     testPod(withLinks(false)),
			want:    kubernetesVars,
		},
		{
			name: "links of the pod's namespace, sorted by service, headless and other namespaces skipped",
			objects: []runtime.Object{
				kubernetesService(),
				service("ns", "my-db", "10.96.0.9", port("", 5432, "")),
				service("ns", "dns", "fd00::a", port("dns", 53, corev1.ProtocolUDP), port("dns-tcp", 53, corev1.ProtocolTCP)),
				service("ns", "headless", "None", port("", 80, "")),
				service("other", "elsewhere", "10.96.0.7", port("", 80, "")),
			},
			pod: testPod(),
			want: append([]EnvVar{
				{"DNS_SERVICE_HOST", "fd00::a"},
				{"DNS_SERVICE_PORT", "53"},
				{"DNS_SERVICE_PORT_DNS", "53"},
				{"DNS_SERVICE_PORT_DNS_TCP", "53"},
				{"DNS_PORT", "udp://[fd00::a]:53"},
				{"DNS_PORT_53_UDP", "udp://[fd00::a]:53"},
				{"DNS_PORT_53_UDP_PROTO", "udp"},
				{"DNS_PORT_53_UDP_PORT", "53"},
				{"DNS_PORT_53_UDP_ADDR", "fd00::a"},
				{"DNS_PORT_53_TCP", "tcp://[fd00::a]:53"},
				{"DNS_PORT_53_TCP_PROTO", "tcp"},
				{"DNS_PORT_53_TCP_PORT", "53"},
				{"DNS_PORT_53_TCP_ADDR", "fd00::a"},
			}, append(kubernetesVars,
				EnvVar{"MY_DB_SERVICE_HOST", "10.96.0.9"},
				EnvVar{"MY_DB_SERVICE_PORT", "5432"},
				EnvVar{"MY_DB_PORT", "tcp://10.96.0.9:5432"},
				EnvVar{"MY_DB_PORT_5432_TCP", "tcp://10.96.0.9:5432"},
				EnvVar{"MY_DB_PORT_5432_TCP_PROTO", "tcp"},
				EnvVar{"MY_DB_PORT_5432_TCP_PORT", "5432"},
				EnvVar{"MY_DB_PORT_5432_TCP_ADDR", "10.96.0.9"},
			)...),
		},
		{
			name:    "a kubernetes service of the pod's namespace wins",
			objects: []runtime.Object{kubernetesService(), service("ns", "kubernetes", "10.96.5.5")},
			pod:     testPod(),
			want:    []EnvVar{{"KUBERNETES_SERVICE_HOST", "10.96.5.5"}},
		},
		{
			name: "envFrom with prefix, secrets as strings, env overrides and moves last",
			objects: []runtime.Object{
				configMap("cfg", map[string]string{"B": "b", "A": "a"}),
				secret("sec", map[string]string{"PASSWORD": "hunter2", "A": "from-secret"}),
			},
			pod: testPod(withLinks(false),
				withEnvFrom(
					corev1.EnvFromSource{ConfigMapRef: cmRef("cfg", false)},
					corev1.EnvFromSource{Prefix: "S_", SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}}},
				),
				withEnv(corev1.EnvVar{Name: "A", Value: "from-env"}, corev1.EnvVar{Name: "C", Value: "$(A)-$(B)-$(S_PASSWORD)"})),
			want: []EnvVar{{"B", "b"}, {"S_A", "from-secret"}, {"S_PASSWORD", "hunter2"}, {"A", "from-env"}, {"C", "from-env-b-hunter2"}},
		},
		{
			name:    "optional missing envFrom sources are skipped",
			objects: []runtime.Object{},
			pod: testPod(withLinks(false), withEnvFrom(
				corev1.EnvFromSource{ConfigMapRef: cmRef("nope", true)},
				corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Optional: ptr(true)}},
			)),
			want: []EnvVar{},
		},
		{
			name:    "missing envFrom config map",
			pod:     testPod(withEnvFrom(corev1.EnvFromSource{ConfigMapRef: cmRef("nope", false)})),
			wantErr: `configmap "nope" not found`,
		},
		{
			name:    "missing envFrom secret",
			pod:     testPod(withEnvFrom(corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}}})),
			wantErr: `secret "nope" not found`,
		},
		{
			name:    "expansion sees earlier variables and service links only",
			objects: []runtime.Object{kubernetesService()},
			pod: testPod(withLinks(false), withEnv(
				corev1.EnvVar{Name: "URL", Value: "https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)/$(LATER)"},
				corev1.EnvVar{Name: "LATER", Value: "x"},
				corev1.EnvVar{Name: "ESCAPED", Value: "$$(LATER)"},
				corev1.EnvVar{Name: "EMPTY"},
			)),
			want: append(append([]EnvVar{}, kubernetesVars...),
				EnvVar{"URL", "https://10.96.0.1:443/$(LATER)"}, EnvVar{"LATER", "x"}, EnvVar{"ESCAPED", "$(LATER)"}, EnvVar{"EMPTY", ""}),
		},
		{
			name: "downward API field and resource references",
			pod: testPod(withLinks(false), withEnv(
				fromValue("POD_NAME", corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}),
				fromValue("POD_IP", corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"}}),
				fromValue("POD_IPS", corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIPs"}}),
				fromValue("HOST_IP", corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.hostIP"}}),
				fromValue("NODE", corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "spec.nodeName"}}),
				fromValue("CPU_LIMIT", corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}}),
				fromValue("MEM_LIMIT", corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}),
			)),
			ips: []string{"fd00::5", "10.0.0.5"},
			want: []EnvVar{
				{"POD_NAME", "web"}, {"POD_IP", "10.0.0.5"}, {"POD_IPS", "10.0.0.5,fd00::5"}, {"HOST_IP", "192.168.1.10"},
				{"NODE", "node-1"}, {"CPU_LIMIT", "2"}, {"MEM_LIMIT", "128"},
			},
		},
		{
			name:    "resource reference without a node",
			pod:     testPod(withEnv(fromValue("CPU", corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}}))),
			noNode:  true,
			wantErr: "failed to find node object, expected a node",
		},
		{
			name: "host IP from the pod's status while the node is unknown",
			pod: testPod(withLinks(false), func(p *corev1.Pod) { p.Status.HostIPs = []corev1.HostIP{{IP: "10.0.0.1"}} },
				withEnv(fromValue("HOST_IP", corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.hostIP"}}))),
			noNode: true,
			want:   []EnvVar{{"HOST_IP", "10.0.0.1"}},
		},
		{
			name:    "unsupported field path",
			pod:     testPod(withEnv(fromValue("PHASE", corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.phase"}}))),
			wantErr: "unsupported fieldPath: status.phase",
		},
		{
			name:    "config map and secret keys, optional ones skipped",
			objects: []runtime.Object{configMap("cfg", map[string]string{"k": "v"}), secret("sec", map[string]string{"k": "s"})},
			pod: testPod(withLinks(false), withEnv(
				fromValue("CM", corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "k"}}),
				fromValue("SEC", corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Key: "k"}}),
				fromValue("CM_OPT_KEY", corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "nope", Optional: ptr(true)}}),
				fromValue("CM_OPT", corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Key: "k", Optional: ptr(true)}}),
				fromValue("SEC_OPT", corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Key: "k", Optional: ptr(true)}}),
			)),
			want: []EnvVar{{"CM", "v"}, {"SEC", "s"}},
		},
		{
			name:    "missing config map key",
			objects: []runtime.Object{configMap("cfg", map[string]string{"k": "v"})},
			pod:     testPod(withEnv(fromValue("CM", corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "nope"}}))),
			wantErr: "couldn't find key nope in ConfigMap ns/cfg",
		},
		{
			name:    "missing config map",
			pod:     testPod(withEnv(fromValue("CM", corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "x"}, Key: "k"}}))),
			wantErr: `configmap "x" not found`,
		},
		{
			name:    "missing secret key",
			objects: []runtime.Object{secret("sec", map[string]string{"k": "v"})},
			pod:     testPod(withEnv(fromValue("S", corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Key: "nope"}}))),
			wantErr: "couldn't find key nope in Secret ns/sec",
		},
		{
			name:    "missing secret",
			pod:     testPod(withEnv(fromValue("S", corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "x"}, Key: "k"}}))),
			wantErr: `secret "x" not found`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset(tt.objects...)
			node := testNode()
			if tt.noNode {
				node = nil
			}
			src := ClientSources{
				Client:      client,
				CurrentNode: func() *corev1.Node { return node },
				SandboxIPs:  func(*corev1.Pod) []string { return tt.ips },
			}
			got, err := Env(context.Background(), src, tt.pod, &tt.pod.Spec.Containers[0])
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr && !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("env (-want +got)\n%s", diff)
			}
		})
	}
}

func TestEnvSourceErrors(t *testing.T) {
	tests := []struct {
		name     string
		resource string
		pod      *corev1.Pod
		wantErr  string
	}{
		{
			name:     "listing services fails",
			resource: "services",
			pod:      testPod(),
			wantErr:  "failed to list services when setting up env vars: boom",
		},
		{
			name:     "getting a config map fails",
			resource: "configmaps",
			pod:      testPod(withEnvFrom(corev1.EnvFromSource{ConfigMapRef: cmRef("cfg", true)})),
			wantErr:  "getting configmap ns/cfg: boom",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset()
			client.PrependReactor("*", tt.resource, func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, errors.New("boom")
			})
			_, err := Env(context.Background(), ClientSources{Client: client}, tt.pod, &tt.pod.Spec.Containers[0])
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
