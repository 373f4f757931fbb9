package podenv

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// masterService is the service every pod gets link variables for, whatever
// its enableServiceLinks says, because in-cluster clients find the API
// server through KUBERNETES_SERVICE_HOST.
const masterService = "kubernetes"

// serviceVars returns the Docker-style link variables of the services, in
// service name order.
func serviceVars(services []*corev1.Service) []EnvVar {
	sorted := append([]*corev1.Service(nil), services...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var out []EnvVar
	for _, svc := range sorted {
		if !hasClusterIP(svc) {
			continue
		}
		prefix := envName(svc.Name)
		ip := svc.Spec.ClusterIP
		out = append(out, EnvVar{Name: prefix + "_SERVICE_HOST", Value: ip})
		if len(svc.Spec.Ports) == 0 {
			continue
		}
		out = append(out, EnvVar{Name: prefix + "_SERVICE_PORT", Value: strconv.Itoa(int(svc.Spec.Ports[0].Port))})
		for _, p := range svc.Spec.Ports {
			if p.Name != "" {
				out = append(out, EnvVar{Name: prefix + "_SERVICE_PORT_" + envName(p.Name), Value: strconv.Itoa(int(p.Port))})
			}
		}
		for i, p := range svc.Spec.Ports {
			proto := strings.ToLower(string(corev1.ProtocolTCP))
			if p.Protocol != "" {
				proto = strings.ToLower(string(p.Protocol))
			}
			port := strconv.Itoa(int(p.Port))
			url := fmt.Sprintf("%s://%s", proto, net.JoinHostPort(ip, port))
			if i == 0 {
				out = append(out, EnvVar{Name: prefix + "_PORT", Value: url})
			}
			pp := fmt.Sprintf("%s_PORT_%s_%s", prefix, port, strings.ToUpper(proto))
			out = append(out,
				EnvVar{Name: pp, Value: url},
				EnvVar{Name: pp + "_PROTO", Value: proto},
				EnvVar{Name: pp + "_PORT", Value: port},
				EnvVar{Name: pp + "_ADDR", Value: ip},
			)
		}
	}
	return out
}

func hasClusterIP(svc *corev1.Service) bool {
	return svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone
}

func envName(s string) string {
	return strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
}

// linkedServices picks the services a pod in namespace ns sees: the master
// service of the default namespace always, and with links enabled every
// service of its own namespace, a same-named one there winning.
func linkedServices(defaultNS, own []*corev1.Service, ns string, links bool) []*corev1.Service {
	byName := map[string]*corev1.Service{}
	for _, svc := range defaultNS {
		if svc.Name == masterService && svc.Namespace == metav1.NamespaceDefault && hasClusterIP(svc) {
			byName[svc.Name] = svc
		}
	}
	if links {
		for _, svc := range own {
			if svc.Namespace == ns && hasClusterIP(svc) {
				byName[svc.Name] = svc
			}
		}
	}
	out := make([]*corev1.Service, 0, len(byName))
	for _, svc := range byName {
		out = append(out, svc)
	}
	return out
}
