// Package nodeconnection is how the apiserver reaches a node agent's server
// (logs, exec, attach, port-forward, proxy): which address and port, over
// which authenticated transport, and the upgrade-aware proxy in between.
package nodeconnection

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/proxy"
	"k8s.io/apiserver/pkg/registry/rest"
)

// DefaultPort is the node agent's server port when the node reports none.
const DefaultPort = 10250

// Connector resolves nodes to agent URLs.
type Connector struct {
	Nodes     rest.Getter
	Transport http.RoundTripper
	// Direct carries proxied traffic to pod and service addresses.
	Direct http.RoundTripper
	// AddressTypes is the order in which node addresses are preferred.
	AddressTypes []corev1.NodeAddressType
}

// DefaultAddressTypes is the order kubeadm configures as
// --kubelet-preferred-address-types: an agent's InternalIP first, since node
// names need not resolve (upstream's bare default puts Hostname first).
var DefaultAddressTypes = []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeInternalDNS, corev1.NodeHostName, corev1.NodeExternalDNS, corev1.NodeExternalIP}

// Location returns the agent's base URL on node.
func (c *Connector) Location(ctx context.Context, node string) (*url.URL, error) {
	obj, err := c.Nodes.Get(ctx, node, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	n := obj.(*corev1.Node)
	host := ""
	types := c.AddressTypes
	if len(types) == 0 {
		types = DefaultAddressTypes
	}
	for _, t := range types {
		for _, a := range n.Status.Addresses {
			if a.Type == t && a.Address != "" && host == "" {
				host = a.Address
			}
		}
	}
	if host == "" {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("no preferred addresses found; known addresses: %v", n.Status.Addresses))
	}
	port := int(n.Status.DaemonEndpoints.KubeletEndpoint.Port)
	if port <= 0 {
		port = DefaultPort
	}
	return &url.URL{Scheme: "https", Host: net.JoinHostPort(host, strconv.Itoa(port))}, nil
}

// Handler proxies a request to location, upgrading to a stream (SPDY or
// WebSocket) when the client asks and the target agrees.
func (c *Connector) Handler(location *url.URL, upgradeRequired bool, responder rest.Responder) http.Handler {
	h := proxy.NewUpgradeAwareHandler(location, c.Transport, false, upgradeRequired, proxy.NewErrorResponder(responder))
	h.UseLocationHost = true
	return h
}

// DirectHandler proxies a request straight to a pod or service address.
func (c *Connector) DirectHandler(location *url.URL, responder rest.Responder) http.Handler {
	t := c.Direct
	if t == nil {
		t = http.DefaultTransport
	}
	h := proxy.NewUpgradeAwareHandler(location, t, true, false, proxy.NewErrorResponder(responder))
	h.UseLocationHost = true
	return h
}
