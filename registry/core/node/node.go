// Package node is the storage of core/v1 Nodes.
package node

import (
	"context"
	"net"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/store"
)

// Resource describes nodes.
var Resource = &store.Resource[*corev1.Node]{
	Resource:   schema.GroupResource{Resource: "nodes"},
	Kind:       "Node",
	ShortNames: []string{"no"},
	HasStatus:  true,
	// As upstream: a Node is created with its status.
	KeepStatusOnCreate: true,
	New:                func() *corev1.Node { return &corev1.Node{} },
	NewList:            func() runtime.Object { return &corev1.NodeList{} },
	Validate:           func(_ context.Context, n *corev1.Node) field.ErrorList { return Validate(n) },
	ValidateUpdate: func(_ context.Context, n, old *corev1.Node) field.ErrorList {
		errs := Validate(n)
		if old.Spec.PodCIDR != "" && n.Spec.PodCIDR != old.Spec.PodCIDR {
			errs = append(errs, field.Forbidden(field.NewPath("spec", "podCIDRs"), "node updates may not change podCIDR except from \"\" to valid"))
		}
		if old.Spec.ProviderID != "" && n.Spec.ProviderID != old.Spec.ProviderID {
			errs = append(errs, field.Forbidden(field.NewPath("spec", "providerID"), "node updates may not change providerID except from \"\" to valid"))
		}
		return errs
	},
	Fields: map[string]func(*corev1.Node) string{
		"spec.unschedulable": func(n *corev1.Node) string {
			if n.Spec.Unschedulable {
				return "true"
			}
			return "false"
		},
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Status", Type: "string", Description: "The status of the node"},
		{Name: "Roles", Type: "string", Description: "The roles of the node"},
		store.AgeColumn,
		{Name: "Version", Type: "string", Description: corev1.NodeSystemInfo{}.SwaggerDoc()["kubeletVersion"]},
		{Name: "Internal-IP", Type: "string", Priority: 1, Description: corev1.NodeStatus{}.SwaggerDoc()["addresses"]},
		{Name: "External-IP", Type: "string", Priority: 1, Description: corev1.NodeStatus{}.SwaggerDoc()["addresses"]},
		{Name: "OS-Image", Type: "string", Priority: 1, Description: corev1.NodeSystemInfo{}.SwaggerDoc()["osImage"]},
		{Name: "Kernel-Version", Type: "string", Priority: 1, Description: corev1.NodeSystemInfo{}.SwaggerDoc()["kernelVersion"]},
		{Name: "Container-Runtime", Type: "string", Priority: 1, Description: corev1.NodeSystemInfo{}.SwaggerDoc()["containerRuntimeVersion"]},
	},
	Row: func(n *corev1.Node) []any {
		info := n.Status.NodeInfo
		return []any{n.Name, status(n), roles(n), store.Age(n.CreationTimestamp), info.KubeletVersion,
			address(n, corev1.NodeInternalIP), address(n, corev1.NodeExternalIP), orNone(info.OSImage), orNone(info.KernelVersion), orNone(info.ContainerRuntimeVersion)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// Validate checks the fields users set on a node.
func Validate(n *corev1.Node) field.ErrorList {
	var errs field.ErrorList
	for i, c := range n.Spec.PodCIDRs {
		if _, _, err := net.ParseCIDR(c); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("spec", "podCIDRs").Index(i), c, "must be a valid CIDR"))
		}
	}
	for i, t := range n.Spec.Taints {
		p := field.NewPath("spec", "taints").Index(i)
		switch t.Effect {
		case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		case "":
			errs = append(errs, field.Required(p.Child("effect"), ""))
		default:
			errs = append(errs, field.NotSupported(p.Child("effect"), t.Effect, []string{"NoExecute", "NoSchedule", "PreferNoSchedule"}))
		}
		if t.Key == "" {
			errs = append(errs, field.Required(p.Child("key"), ""))
		}
	}
	return errs
}

func status(n *corev1.Node) string {
	var conds []string
	ready := "Unknown"
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			if c.Status == corev1.ConditionTrue {
				ready = "Ready"
			} else {
				ready = "NotReady"
			}
		}
	}
	conds = append(conds, ready)
	if n.Spec.Unschedulable {
		conds = append(conds, "SchedulingDisabled")
	}
	return strings.Join(conds, ",")
}

const roleLabelPrefix = "node-role.kubernetes.io/"

func roles(n *corev1.Node) string {
	var rs []string
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, roleLabelPrefix):
			if r := strings.TrimPrefix(k, roleLabelPrefix); r != "" {
				rs = append(rs, r)
			}
		case k == "kubernetes.io/role" && v != "":
			rs = append(rs, v)
		}
	}
	if len(rs) == 0 {
		return "<none>"
	}
	sort.Strings(rs)
	return strings.Join(rs, ",")
}

func address(n *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}

func orNone(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}
