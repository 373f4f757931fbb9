// Package connect serves the subresources that reach into a running pod
// through its node's agent: log, exec, attach, portforward and proxy.
package connect

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion/queryparams"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic/rest"
	registryrest "k8s.io/apiserver/pkg/registry/rest"

	"github.com/capstan-dev/capstan/registry/core/nodeconnection"
)

// Pods reads pods (the pod storage).
type Pods = registryrest.Getter

// Storage holds every connect subresource of pods.
type Storage struct {
	Log         *LogREST
	Exec        *ExecREST
	Attach      *AttachREST
	PortForward *PortForwardREST
	Proxy       *ProxyREST
}

// New builds the subresources on the pod storage and the node connector.
func New(pods Pods, nodes *nodeconnection.Connector) *Storage {
	b := base{pods: pods, nodes: nodes}
	return &Storage{Log: &LogREST{b}, Exec: &ExecREST{b}, Attach: &AttachREST{b}, PortForward: &PortForwardREST{b}, Proxy: &ProxyREST{b}}
}

type base struct {
	pods  Pods
	nodes *nodeconnection.Connector
}

func (base) New() runtime.Object { return &corev1.Pod{} }
func (base) Destroy()            {}

func (b base) pod(ctx context.Context, name string) (*corev1.Pod, error) {
	obj, err := b.pods.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.Pod), nil
}

// container picks the named container, or the only one (or the
// default-container annotation's) when none is named, as upstream does.
func container(pod *corev1.Pod, name string) (string, error) {
	if name != "" {
		for _, c := range allContainers(pod) {
			if c == name {
				return name, nil
			}
		}
		return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name))
	}
	if d := pod.Annotations["kubectl.kubernetes.io/default-container"]; d != "" {
		return d, nil
	}
	if len(pod.Spec.Containers) == 1 {
		return pod.Spec.Containers[0].Name, nil
	}
	names := make([]string, 0, len(pod.Spec.Containers))
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: %v", pod.Name, names))
}

func allContainers(pod *corev1.Pod) []string {
	var out []string
	for _, c := range pod.Spec.InitContainers {
		out = append(out, c.Name)
	}
	for _, c := range pod.Spec.Containers {
		out = append(out, c.Name)
	}
	for _, c := range pod.Spec.EphemeralContainers {
		out = append(out, c.Name)
	}
	return out
}

// agentURL is the URL of path on the agent of the pod's node.
func (b base) agentURL(ctx context.Context, pod *corev1.Pod, p string, query url.Values) (*url.URL, error) {
	if pod.Spec.NodeName == "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", pod.Name))
	}
	loc, err := b.nodes.Location(ctx, pod.Spec.NodeName)
	if err != nil {
		return nil, err
	}
	loc.Path = p
	loc.RawQuery = query.Encode()
	return loc, nil
}

// LogREST serves pods/log: the agent's containerLogs stream.
type LogREST struct{ base }

var (
	_ registryrest.GetterWithOptions = &LogREST{}
	_ registryrest.StorageMetadata   = &LogREST{}
)

func (r *LogREST) NewGetOptions() (runtime.Object, bool, string) {
	return &corev1.PodLogOptions{}, false, ""
}
func (r *LogREST) ProducesMIMETypes(string) []string {
	return []string{"text/plain"}
}
func (r *LogREST) ProducesObject(string) any { return "" }

func (r *LogREST) Get(ctx context.Context, name string, opts runtime.Object) (runtime.Object, error) {
	o := opts.(*corev1.PodLogOptions)
	if errs := validateLogOptions(o); errs != "" {
		return nil, apierrors.NewBadRequest(errs)
	}
	pod, err := r.pod(ctx, name)
	if err != nil {
		return nil, err
	}
	c, err := container(pod, o.Container)
	if err != nil {
		return nil, err
	}
	params, err := queryparams.Convert(o)
	if err != nil {
		return nil, err
	}
	params.Del("container")
	loc, err := r.agentURL(ctx, pod, path.Join("/containerLogs", pod.Namespace, pod.Name, c), params)
	if err != nil {
		return nil, err
	}
	return &rest.LocationStreamer{
		Location:        loc,
		Transport:       r.nodes.Transport,
		ContentType:     "text/plain",
		Flush:           o.Follow,
		ResponseChecker: rest.NewGenericHttpResponseChecker(corev1.Resource("pods/log"), name),
		RedirectChecker: rest.PreventRedirects,
	}, nil
}

func validateLogOptions(o *corev1.PodLogOptions) string {
	switch {
	case o.SinceSeconds != nil && *o.SinceSeconds < 1:
		return "sinceSeconds: Invalid value: must be greater than 0"
	case o.SinceSeconds != nil && o.SinceTime != nil:
		return "sinceSeconds: at most one of `sinceTime` or `sinceSeconds` may be specified"
	case o.TailLines != nil && *o.TailLines < 0:
		return "tailLines: Invalid value: must be greater than or equal to 0"
	case o.LimitBytes != nil && *o.LimitBytes < 1:
		return "limitBytes: Invalid value: must be greater than 0"
	}
	return ""
}

// streamREST is the shared part of exec and attach.
type streamREST struct {
	base
	kind string // "exec" or "attach"
}

func (r streamREST) connect(ctx context.Context, name, containerName string, params url.Values, responder registryrest.Responder) (http.Handler, error) {
	pod, err := r.pod(ctx, name)
	if err != nil {
		return nil, err
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("cannot %s a container in a completed pod; current phase is %s", r.kind, pod.Status.Phase))
	}
	c, err := container(pod, containerName)
	if err != nil {
		return nil, err
	}
	params.Del("container")
	loc, err := r.agentURL(ctx, pod, path.Join("/"+r.kind, pod.Namespace, pod.Name, c), params)
	if err != nil {
		return nil, err
	}
	return r.nodes.Handler(loc, true, responder), nil
}

// ExecREST serves pods/exec.
type ExecREST struct{ base }

var _ registryrest.Connecter = &ExecREST{}

// New names the options kind, which discovery reports for this subresource.
func (r *ExecREST) New() runtime.Object { return &corev1.PodExecOptions{} }

func (r *ExecREST) ConnectMethods() []string { return []string{"GET", "POST"} }
func (r *ExecREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.PodExecOptions{}, false, ""
}

func (r *ExecREST) Connect(ctx context.Context, name string, opts runtime.Object, responder registryrest.Responder) (http.Handler, error) {
	o := opts.(*corev1.PodExecOptions)
	if len(o.Command) == 0 {
		return nil, apierrors.NewBadRequest("you must specify at least 1 command")
	}
	if !o.Stdin && !o.Stdout && !o.Stderr {
		return nil, apierrors.NewBadRequest("you must specify at least 1 of stdin, stdout, stderr")
	}
	params, err := queryparams.Convert(o)
	if err != nil {
		return nil, err
	}
	return streamREST{r.base, "exec"}.connect(ctx, name, o.Container, params, responder)
}

// AttachREST serves pods/attach.
type AttachREST struct{ base }

var _ registryrest.Connecter = &AttachREST{}

// New names the options kind, which discovery reports for this subresource.
func (r *AttachREST) New() runtime.Object { return &corev1.PodAttachOptions{} }

func (r *AttachREST) ConnectMethods() []string { return []string{"GET", "POST"} }
func (r *AttachREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.PodAttachOptions{}, false, ""
}

func (r *AttachREST) Connect(ctx context.Context, name string, opts runtime.Object, responder registryrest.Responder) (http.Handler, error) {
	o := opts.(*corev1.PodAttachOptions)
	if !o.Stdin && !o.Stdout && !o.Stderr {
		return nil, apierrors.NewBadRequest("you must specify at least 1 of stdin, stdout, stderr")
	}
	params, err := queryparams.Convert(o)
	if err != nil {
		return nil, err
	}
	return streamREST{r.base, "attach"}.connect(ctx, name, o.Container, params, responder)
}

// PortForwardREST serves pods/portforward.
type PortForwardREST struct{ base }

var _ registryrest.Connecter = &PortForwardREST{}

// New names the options kind, which discovery reports for this subresource.
func (r *PortForwardREST) New() runtime.Object { return &corev1.PodPortForwardOptions{} }

func (r *PortForwardREST) ConnectMethods() []string { return []string{"GET", "POST"} }
func (r *PortForwardREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.PodPortForwardOptions{}, false, ""
}

func (r *PortForwardREST) Connect(ctx context.Context, name string, opts runtime.Object, responder registryrest.Responder) (http.Handler, error) {
	o := opts.(*corev1.PodPortForwardOptions)
	for _, p := range o.Ports {
		if p < 1 || p > 65535 {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("port %d must be between 1 and 65535", p))
		}
	}
	pod, err := r.pod(ctx, name)
	if err != nil {
		return nil, err
	}
	params, err := queryparams.Convert(o)
	if err != nil {
		return nil, err
	}
	loc, err := r.agentURL(ctx, pod, path.Join("/portForward", pod.Namespace, pod.Name), params)
	if err != nil {
		return nil, err
	}
	return r.nodes.Handler(loc, true, responder), nil
}

// ProxyREST serves pods/proxy: HTTP to the pod's IP through the apiserver.
type ProxyREST struct{ base }

var _ registryrest.Connecter = &ProxyREST{}

// ProxyMethods are the methods proxy subresources accept.
var ProxyMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// New names the options kind, which discovery reports for this subresource.
func (r *ProxyREST) New() runtime.Object { return &corev1.PodProxyOptions{} }

func (r *ProxyREST) ConnectMethods() []string { return ProxyMethods }
func (r *ProxyREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.PodProxyOptions{}, true, "path"
}

func (r *ProxyREST) Connect(ctx context.Context, id string, opts runtime.Object, responder registryrest.Responder) (http.Handler, error) {
	o := opts.(*corev1.PodProxyOptions)
	scheme, name, port, valid := SplitSchemeNamePort(id)
	if !valid {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid pod request %q", id))
	}
	pod, err := r.pod(ctx, name)
	if err != nil {
		return nil, err
	}
	if pod.Status.PodIP == "" {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("address not allowed: pod %s has no IP", name))
	}
	host := pod.Status.PodIP
	if port != "" {
		host = net.JoinHostPort(host, port)
	}
	if scheme == "" {
		scheme = "http"
	}
	loc := &url.URL{Scheme: scheme, Host: host, Path: o.Path}
	return r.nodes.DirectHandler(loc, responder), nil
}

// SplitSchemeNamePort parses "[scheme:]name[:port]", the proxy id form.
func SplitSchemeNamePort(id string) (scheme, name, port string, valid bool) {
	parts := strings.Split(id, ":")
	switch len(parts) {
	case 1:
		name = parts[0]
	case 2:
		name, port = parts[0], parts[1]
	case 3:
		scheme, name, port = parts[0], parts[1], parts[2]
		if scheme != "http" && scheme != "https" {
			return "", "", "", false
		}
	default:
		return "", "", "", false
	}
	// A port is a number or an IANA service name (at most 15 characters).
	if _, err := strconv.Atoi(port); port != "" && err != nil && len(port) > 15 {
		return "", "", "", false
	}
	return scheme, name, port, name != ""
}
