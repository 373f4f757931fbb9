package pods

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func (m *Manager) podDir(pod *corev1.Pod) string {
	return filepath.Join(m.cfg.PodsDir, string(pod.UID))
}

func (m *Manager) podLogDir(pod *corev1.Pod) string {
	return filepath.Join(m.cfg.LogsDir, fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID))
}

func (m *Manager) podLabels(pod *corev1.Pod) map[string]string {
	l := map[string]string{}
	for k, v := range pod.Labels {
		l[k] = v
	}
	l[labelPodName] = pod.Name
	l[labelPodNamespace] = pod.Namespace
	l[labelPodUID] = string(pod.UID)
	l[labelNode] = m.cfg.NodeName
	return l
}

// hostname is the pod's hostname and domain as upstream computes them.
func (m *Manager) hostname(pod *corev1.Pod) (string, string) {
	host := pod.Name
	if pod.Spec.Hostname != "" {
		host = pod.Spec.Hostname
	}
	if len(host) > 63 {
		host = strings.TrimRight(host[:63], "-.")
	}
	domain := ""
	if pod.Spec.Subdomain != "" {
		domain = fmt.Sprintf("%s.%s.svc.%s", pod.Spec.Subdomain, pod.Namespace, m.cfg.ClusterDomain)
	}
	return host, domain
}

func hostNetwork(pod *corev1.Pod) bool { return pod.Spec.HostNetwork }

// sandboxConfig is the CRI description of the pod's sandbox.
func (m *Manager) sandboxConfig(pod *corev1.Pod, attempt uint32) (*runtimeapi.PodSandboxConfig, error) {
	host, _ := m.hostname(pod)
	if hostNetwork(pod) {
		// The pod shares the node's UTS namespace, and so its hostname.
		host = ""
	}
	dns, err := m.dnsConfig(pod)
	if err != nil {
		return nil, err
	}
	cfg := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: pod.Name, Namespace: pod.Namespace, Uid: string(pod.UID), Attempt: attempt},
		Hostname:     host,
		LogDirectory: m.podLogDir(pod),
		DnsConfig:    dns,
		Labels:       m.podLabels(pod),
		Annotations:  map[string]string{},
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			CgroupParent: filepath.Join(m.cfg.CgroupRoot, "pod"+string(pod.UID)),
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
				NamespaceOptions: namespaceOptions(pod),
			},
			Sysctls: map[string]string{},
		},
	}
	for k, v := range pod.Annotations {
		cfg.Annotations[k] = v
	}
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		cfg.Annotations[annPodGracePeriod] = strconv.FormatInt(*g, 10)
	}
	if sc := pod.Spec.SecurityContext; sc != nil {
		lsc := cfg.Linux.SecurityContext
		if sc.RunAsUser != nil {
			lsc.RunAsUser = &runtimeapi.Int64Value{Value: *sc.RunAsUser}
		}
		if sc.RunAsGroup != nil {
			lsc.RunAsGroup = &runtimeapi.Int64Value{Value: *sc.RunAsGroup}
		}
		lsc.SupplementalGroups = append(lsc.SupplementalGroups, sc.SupplementalGroups...)
		if sc.FSGroup != nil {
			lsc.SupplementalGroups = append(lsc.SupplementalGroups, *sc.FSGroup)
		}
		for _, s := range sc.Sysctls {
			cfg.Linux.Sysctls[s.Name] = s.Value
		}
		lsc.Seccomp = seccompProfile(sc.SeccompProfile, nil)
	}
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort == 0 {
				continue
			}
			pm := &runtimeapi.PortMapping{ContainerPort: p.ContainerPort, HostPort: p.HostPort, HostIp: p.HostIP}
			switch p.Protocol {
			case corev1.ProtocolUDP:
				pm.Protocol = runtimeapi.Protocol_UDP
			case corev1.ProtocolSCTP:
				pm.Protocol = runtimeapi.Protocol_SCTP
			default:
				pm.Protocol = runtimeapi.Protocol_TCP
			}
			cfg.PortMappings = append(cfg.PortMappings, pm)
		}
	}
	return cfg, nil
}

func namespaceOptions(pod *corev1.Pod) *runtimeapi.NamespaceOption {
	ns := &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_POD, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD}
	if pod.Spec.HostNetwork {
		ns.Network = runtimeapi.NamespaceMode_NODE
	}
	if pod.Spec.HostPID {
		ns.Pid = runtimeapi.NamespaceMode_NODE
	} else if pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace {
		ns.Pid = runtimeapi.NamespaceMode_POD
	}
	if pod.Spec.HostIPC {
		ns.Ipc = runtimeapi.NamespaceMode_NODE
	}
	return ns
}

// seccompProfile maps the container's (or else the pod's) profile.
func seccompProfile(pod, container *corev1.SeccompProfile) *runtimeapi.SecurityProfile {
	p := pod
	if container != nil {
		p = container
	}
	if p == nil {
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}
	}
	switch p.Type {
	case corev1.SeccompProfileTypeRuntimeDefault:
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}
	case corev1.SeccompProfileTypeLocalhost:
		lp := ""
		if p.LocalhostProfile != nil {
			lp = *p.LocalhostProfile
		}
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: lp}
	}
	return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}
}

// dnsConfig follows the pod's dnsPolicy as upstream: ClusterFirst uses the
// cluster DNS (falling back to the node's resolver when none is configured),
// Default the node's resolver, None only pod.spec.dnsConfig.
func (m *Manager) dnsConfig(pod *corev1.Pod) (*runtimeapi.DNSConfig, error) {
	policy := pod.Spec.DNSPolicy
	if policy == corev1.DNSClusterFirstWithHostNet {
		policy = corev1.DNSClusterFirst
	} else if policy == corev1.DNSClusterFirst && pod.Spec.HostNetwork {
		policy = corev1.DNSDefault
	}
	if policy == "" {
		policy = corev1.DNSClusterFirst
	}
	cfg := &runtimeapi.DNSConfig{}
	switch policy {
	case corev1.DNSNone:
	case corev1.DNSClusterFirst:
		if len(m.cfg.ClusterDNS) > 0 {
			cfg.Servers = append(cfg.Servers, m.cfg.ClusterDNS...)
			d := m.cfg.ClusterDomain
			cfg.Searches = []string{pod.Namespace + ".svc." + d, "svc." + d, d}
			cfg.Options = []string{"ndots:5"}
			break
		}
		fallthrough
	default:
		servers, searches, options := parseResolvConf(m.cfg.ResolvConf)
		cfg.Servers, cfg.Searches, cfg.Options = servers, searches, options
	}
	if dc := pod.Spec.DNSConfig; dc != nil {
		cfg.Servers = append(cfg.Servers, dc.Nameservers...)
		cfg.Searches = append(cfg.Searches, dc.Searches...)
		for _, o := range dc.Options {
			opt := o.Name
			if o.Value != nil {
				opt += ":" + *o.Value
			}
			cfg.Options = mergeOption(cfg.Options, opt)
		}
	}
	return cfg, nil
}

func mergeOption(opts []string, opt string) []string {
	name, _, _ := strings.Cut(opt, ":")
	for i, o := range opts {
		if n, _, _ := strings.Cut(o, ":"); n == name {
			opts[i] = opt
			return opts
		}
	}
	return append(opts, opt)
}

func parseResolvConf(path string) (servers, searches, options []string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) > 1 {
				servers = append(servers, f[1])
			}
		case "search":
			searches = f[1:]
		case "options":
			options = append(options, f[1:]...)
		}
	}
	return servers, searches, options
}

// writeHostsFile writes the pod's /etc/hosts as upstream's kubelet does for
// pods on the pod network.
func (m *Manager) writeHostsFile(pod *corev1.Pod, podIPs []string) (string, error) {
	path := filepath.Join(m.podDir(pod), "etc-hosts")
	var b strings.Builder
	b.WriteString("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n")
	host, domain := m.hostname(pod)
	for _, ip := range podIPs {
		if domain != "" {
			fmt.Fprintf(&b, "%s\t%s.%s\t%s\n", ip, host, domain, host)
		} else {
			fmt.Fprintf(&b, "%s\t%s\n", ip, host)
		}
	}
	if len(pod.Spec.HostAliases) > 0 {
		b.WriteString("\n# Entries added by HostAliases.\n")
		for _, ha := range pod.Spec.HostAliases {
			fmt.Fprintf(&b, "%s\t%s\n", ha.IP, strings.Join(ha.Hostnames, "\t"))
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}
