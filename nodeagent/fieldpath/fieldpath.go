package fieldpath

import (
	"fmt"
	"math"
	"net"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	netutils "k8s.io/utils/net"
)

// Source is what references resolve against: the pod and what the node knows
// about it that the pod object may not carry yet.
type Source struct {
	Pod *corev1.Pod
	// PodIPs are the pod's IPs as the runtime reported them; when empty,
	// pod.status.podIPs is used.
	PodIPs []string
	// Node is the node the pod runs on. It provides status.hostIP(s) and
	// the allocatable resources that stand in for missing limits.
	Node *corev1.Node
}

// Field returns the value of an ObjectFieldSelector (fieldRef).
func (s Source) Field(sel *corev1.ObjectFieldSelector) (string, error) {
	path, err := canonicalPath(sel.APIVersion, sel.FieldPath)
	if err != nil {
		return "", err
	}
	pod := s.Pod
	switch path {
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP", "status.hostIPs":
		ips, err := s.hostIPs()
		if err != nil {
			return "", err
		}
		if path == "status.hostIP" {
			return ips[0], nil
		}
		return strings.Join(ips, ","), nil
	case "status.podIP", "status.podIPs":
		ips := s.podIPs()
		if path == "status.podIPs" {
			return strings.Join(ips, ","), nil
		}
		if len(ips) == 0 {
			return "", nil
		}
		return ips[0], nil
	}
	return metadataField(pod, path)
}

// hostIPs are the node's IPs; while the node object is not known, those
// already in the pod's status.
func (s Source) hostIPs() ([]string, error) {
	if s.Node == nil && s.Pod != nil && len(s.Pod.Status.HostIPs) > 0 {
		ips := make([]string, 0, len(s.Pod.Status.HostIPs))
		for _, ip := range s.Pod.Status.HostIPs {
			ips = append(ips, ip.IP)
		}
		return ips, nil
	}
	return HostIPs(s.Node)
}

// podIPs returns at most one IP per family, the node's primary family first,
// which is the order the kubelet reports them in.
func (s Source) podIPs() []string {
	ips := s.PodIPs
	if len(ips) == 0 && s.Pod != nil {
		for _, ip := range s.Pod.Status.PodIPs {
			ips = append(ips, ip.IP)
		}
		if len(ips) == 0 && s.Pod.Status.PodIP != "" {
			ips = []string{s.Pod.Status.PodIP}
		}
	}
	primaryV6 := false
	if hostIPs, err := HostIPs(s.Node); err == nil {
		primaryV6 = netutils.IsIPv6String(hostIPs[0])
	}
	var out []string
	for _, wantV6 := range []bool{primaryV6, !primaryV6} {
		for _, str := range ips {
			ip := netutils.ParseIPSloppy(str)
			if ip != nil && netutils.IsIPv6(ip) == wantV6 {
				out = append(out, ip.String())
				break
			}
		}
	}
	return out
}

// canonicalPath accepts the field paths a pod's downward API may name, in
// the API's own conversion rules, and maps the legacy spec.host.
func canonicalPath(apiVersion, path string) (string, error) {
	// The API server defaults an empty apiVersion to v1.
	if apiVersion != "" && apiVersion != "v1" {
		return "", fmt.Errorf("unsupported pod version: %s", apiVersion)
	}
	if p, _, ok := splitSubscript(path); ok {
		switch p {
		case "metadata.annotations", "metadata.labels":
			return path, nil
		default:
			return "", fmt.Errorf("field label does not support subscript: %s", path)
		}
	}
	switch path {
	case "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid",
		"spec.nodeName", "spec.restartPolicy", "spec.serviceAccountName", "spec.schedulerName",
		"status.phase", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs":
		return path, nil
	case "spec.host":
		return "spec.nodeName", nil
	}
	return "", fmt.Errorf("field label not supported: %s", path)
}

// metadataField resolves the metadata paths; the other paths the API accepts
// (spec.restartPolicy, status.phase, ...) are not resolvable on the node,
// exactly as in the kubelet.
func metadataField(pod *corev1.Pod, path string) (string, error) {
	if p, key, ok := splitSubscript(path); ok {
		switch p {
		case "metadata.annotations":
			if errs := validation.IsQualifiedName(strings.ToLower(key)); len(errs) != 0 {
				return "", fmt.Errorf("invalid key subscript in %s: %s", path, strings.Join(errs, ";"))
			}
			return pod.Annotations[key], nil
		case "metadata.labels":
			if errs := validation.IsQualifiedName(key); len(errs) != 0 {
				return "", fmt.Errorf("invalid key subscript in %s: %s", path, strings.Join(errs, ";"))
			}
			return pod.Labels[key], nil
		}
		return "", fmt.Errorf("fieldPath %q does not support subscript", path)
	}
	switch path {
	case "metadata.annotations":
		return FormatMap(pod.Annotations), nil
	case "metadata.labels":
		return FormatMap(pod.Labels), nil
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	}
	return "", fmt.Errorf("unsupported fieldPath: %v", path)
}

// splitSubscript splits "metadata.labels['key']" into its path and key.
func splitSubscript(path string) (string, string, bool) {
	s, ok := strings.CutSuffix(path, "']")
	if !ok {
		return path, "", false
	}
	p, key, ok := strings.Cut(s, "['")
	if !ok || p == "" {
		return path, "", false
	}
	return p, key, true
}

// FormatMap renders labels or annotations as the downward API does: one
// key="value" line per entry, sorted by key, values quoted with Go escapes.
func FormatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b []byte
	for i, k := range keys {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, k...)
		b = append(b, '=')
		b = strconv.AppendQuote(b, m[k])
	}
	return string(b)
}

// HostIPs returns the node's primary IP and, on a dual-stack node, the first
// IP of the other family; internal addresses are preferred over external.
func HostIPs(node *corev1.Node) ([]string, error) {
	if node == nil {
		return nil, fmt.Errorf("failed to find node object, expected a node")
	}
	var all []net.IP
	for _, typ := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP} {
		for _, addr := range node.Status.Addresses {
			if addr.Type != typ {
				continue
			}
			if ip := netutils.ParseIPSloppy(addr.Address); ip != nil {
				all = append(all, ip)
			}
		}
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("host IP unknown; known addresses: %v", node.Status.Addresses)
	}
	out := []string{all[0].String()}
	for _, ip := range all[1:] {
		if netutils.IsIPv6(ip) != netutils.IsIPv6(all[0]) {
			out = append(out, ip.String())
			break
		}
	}
	return out, nil
}

// Resource returns the value of a ResourceFieldSelector (resourceFieldRef).
// An empty sel.ContainerName selects c, as in a container's env; a named
// container is looked up in the pod (regular, then init containers). Limits
// the container does not set default to the pod-level limits and then to the
// node's allocatable, as the kubelet does.
func (s Source) Resource(sel *corev1.ResourceFieldSelector, c *corev1.Container) (string, error) {
	if sel.ContainerName != "" {
		c = findContainer(s.Pod, sel.ContainerName)
		if c == nil {
			return "", fmt.Errorf("container %s not found", sel.ContainerName)
		}
	}
	if c == nil {
		return "", fmt.Errorf("resource %s: no container named", sel.Resource)
	}
	divisor := sel.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	kind, name, _ := strings.Cut(sel.Resource, ".")
	rn := corev1.ResourceName(name)
	supported := rn == corev1.ResourceCPU || rn == corev1.ResourceMemory || rn == corev1.ResourceEphemeralStorage ||
		strings.HasPrefix(name, corev1.ResourceHugePagesPrefix)
	if (kind != "limits" && kind != "requests") || !supported {
		return "", fmt.Errorf("unsupported container resource : %v", sel.Resource)
	}
	list := c.Resources.Requests
	if kind == "limits" {
		if s.Node == nil {
			return "", fmt.Errorf("failed to find node object, expected a node")
		}
		list = defaultedLimits(c.Resources.Limits, s.defaultLimits())
	}
	q := list[rn] // missing: zero
	if rn == corev1.ResourceCPU {
		return ceilDiv(float64(q.MilliValue()), float64(divisor.MilliValue())), nil
	}
	return ceilDiv(float64(q.Value()), float64(divisor.Value())), nil
}

func ceilDiv(v, divisor float64) string {
	return strconv.FormatInt(int64(math.Ceil(v/divisor)), 10)
}

// defaultLimits is what stands in for a limit a container does not set:
// the pod-level limit when there is one, else the node's allocatable.
func (s Source) defaultLimits() corev1.ResourceList {
	out := s.Node.Status.Allocatable.DeepCopy()
	if out == nil {
		out = corev1.ResourceList{}
	}
	if s.Pod != nil && s.Pod.Spec.Resources != nil {
		for _, name := range downwardResources {
			if q, ok := s.Pod.Spec.Resources.Limits[name]; ok && !q.IsZero() {
				if _, ok := out[name]; ok {
					out[name] = q.DeepCopy()
				}
			}
		}
	}
	return out
}

// downwardResources are the resources whose missing limits are defaulted;
// hugepages are never overcommitted, so a container always has their limit.
var downwardResources = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage}

func defaultedLimits(limits, defaults corev1.ResourceList) corev1.ResourceList {
	out := limits.DeepCopy()
	if out == nil {
		out = corev1.ResourceList{}
	}
	for _, name := range downwardResources {
		if q, ok := out[name]; ok && !q.IsZero() {
			continue
		}
		if d, ok := defaults[name]; ok {
			out[name] = d.DeepCopy()
		}
	}
	return out
}

func findContainer(pod *corev1.Pod, name string) *corev1.Container {
	if pod == nil {
		return nil
	}
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			return &pod.Spec.InitContainers[i]
		}
	}
	return nil
}
