package node

import (
	"context"
	"fmt"
	"net"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/capstan-dev/capstan/registry/core/nodeconnection"
	"github.com/capstan-dev/capstan/registry/core/pod/connect"
)

// ProxyREST serves nodes/proxy: HTTP(S) to the node agent (or another port on the node).
type ProxyREST struct {
	Connector *nodeconnection.Connector
}

var _ rest.Connecter = &ProxyREST{}

func (r *ProxyREST) New() runtime.Object      { return &corev1.NodeProxyOptions{} }
func (r *ProxyREST) Destroy()                 {}
func (r *ProxyREST) ConnectMethods() []string { return connect.ProxyMethods }
func (r *ProxyREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.NodeProxyOptions{}, true, "path"
}

func (r *ProxyREST) Connect(ctx context.Context, id string, opts runtime.Object, responder rest.Responder) (http.Handler, error) {
	o := opts.(*corev1.NodeProxyOptions)
	scheme, name, port, ok := connect.SplitSchemeNamePort(id)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid node request %q", id))
	}
	loc, err := r.Connector.Location(ctx, name)
	if err != nil {
		return nil, err
	}
	if port != "" {
		host, _, _ := net.SplitHostPort(loc.Host)
		loc.Host = net.JoinHostPort(host, port)
	}
	if scheme != "" {
		loc.Scheme = scheme
	}
	loc.Path = o.Path
	return r.Connector.Handler(loc, false, responder), nil
}
