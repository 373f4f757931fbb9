package registry

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/capstan-dev/capstan/registry/core/componentstatus"
	"github.com/capstan-dev/capstan/registry/core/node"
	"github.com/capstan-dev/capstan/registry/core/nodeconnection"
	"github.com/capstan-dev/capstan/registry/core/pod/connect"
	"github.com/capstan-dev/capstan/registry/core/service"
	"github.com/capstan-dev/capstan/registry/core/serviceaccount"
	"github.com/capstan-dev/capstan/registry/store"
)

// installLinked runs last: it installs the subresources that read other
// resources' storage (pods through their node, services through their
// EndpointSlices, tokens bound to pods, secrets and nodes).
func installLinked(b *builder) {
	v1 := corev1.SchemeGroupVersion
	need := func(gr schema.GroupResource) *store.Storage {
		s := b.stores[gr]
		if s == nil {
			b.fail(fmt.Errorf("storage of %s is not installed", gr))
		}
		return s
	}
	nodes, pods, services := need(corev1.Resource("nodes")), need(corev1.Resource("pods")), need(corev1.Resource("services"))
	slices := need(discoveryv1.Resource("endpointslices"))
	sas, secrets := need(corev1.Resource("serviceaccounts")), need(corev1.Resource("secrets"))
	if b.err != nil {
		return
	}
	conn := &nodeconnection.Connector{Nodes: nodes.REST, Transport: b.cfg.NodeTransport}
	b.add(v1, "nodes/proxy", &node.ProxyREST{Connector: conn})
	pc := connect.New(pods.REST, conn)
	b.add(v1, "pods/log", pc.Log)
	b.add(v1, "pods/exec", pc.Exec)
	b.add(v1, "pods/attach", pc.Attach)
	b.add(v1, "pods/portforward", pc.PortForward)
	b.add(v1, "pods/proxy", pc.Proxy)
	b.add(v1, "services/proxy", &service.ProxyREST{Services: services.REST, Slices: slices.REST, Connector: conn})
	b.add(v1, "serviceaccounts/token", serviceaccount.NewTokenREST(b.cfg.ServiceAccountIssuer, serviceaccount.Getters{
		ServiceAccounts: sas.REST, Pods: pods.REST, Secrets: secrets.REST, Nodes: nodes.REST,
	}))
	b.add(v1, "componentstatuses", componentstatus.New(componentstatus.Probes(b.cfg.EtcdServers)))
}
