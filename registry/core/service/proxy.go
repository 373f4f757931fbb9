package service

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/capstan-dev/capstan/registry/core/nodeconnection"
	"github.com/capstan-dev/capstan/registry/core/pod/connect"
)

// ProxyREST serves services/proxy: HTTP(S) to one ready endpoint of the service.
type ProxyREST struct {
	Services  rest.Getter
	Slices    rest.Lister
	Connector *nodeconnection.Connector
}

var _ rest.Connecter = &ProxyREST{}

func (r *ProxyREST) New() runtime.Object      { return &corev1.ServiceProxyOptions{} }
func (r *ProxyREST) Destroy()                 {}
func (r *ProxyREST) ConnectMethods() []string { return connect.ProxyMethods }
func (r *ProxyREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.ServiceProxyOptions{}, true, "path"
}

func (r *ProxyREST) Connect(ctx context.Context, id string, opts runtime.Object, responder rest.Responder) (http.Handler, error) {
	o := opts.(*corev1.ServiceProxyOptions)
	scheme, name, port, ok := connect.SplitSchemeNamePort(id)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid service request %q", id))
	}
	obj, err := r.Services.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	svc := obj.(*corev1.Service)
	host, err := r.endpoint(ctx, svc, port)
	if err != nil {
		return nil, err
	}
	if scheme == "" {
		scheme = "http"
	}
	return r.Connector.DirectHandler(&url.URL{Scheme: scheme, Host: host, Path: o.Path}, responder), nil
}

// endpoint picks a ready endpoint address of the service port named (or numbered) port.
func (r *ProxyREST) endpoint(ctx context.Context, svc *corev1.Service, port string) (string, error) {
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if port == "" && len(svc.Spec.Ports) == 1 || p.Name == port || strconv.Itoa(int(p.Port)) == port {
			sp = p
			break
		}
	}
	if sp == nil {
		return "", apierrors.NewServiceUnavailable(fmt.Sprintf("no endpoints available for service %q", svc.Name))
	}
	ctx = genericapirequest.WithNamespace(ctx, svc.Namespace)
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: svc.Name})
	obj, err := r.Slices.List(ctx, &metainternalversion.ListOptions{LabelSelector: sel})
	if err != nil {
		return "", err
	}
	var candidates []string
	for _, s := range obj.(*discoveryv1.EndpointSliceList).Items {
		for _, p := range s.Ports {
			if p.Port == nil || (p.Name != nil && *p.Name != sp.Name) {
				continue
			}
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && !*e.Conditions.Ready {
					continue
				}
				for _, a := range e.Addresses {
					candidates = append(candidates, net.JoinHostPort(a, strconv.Itoa(int(*p.Port))))
				}
			}
		}
	}
	if len(candidates) == 0 {
		return "", apierrors.NewServiceUnavailable(fmt.Sprintf("no endpoints available for service %q", svc.Name))
	}
	return candidates[rand.IntN(len(candidates))], nil
}
