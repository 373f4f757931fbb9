// Package server is the node agent's HTTPS API on port 10250, the one the
// apiserver and tools reach for container logs, exec, attach, port-forward,
// the node's pods and stats. Clients authenticate with certificates signed by
// the cluster CA; requests are authorized by SubjectAccessReview.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/proxy"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/cri-client/pkg/logs"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/nodeagent/staticpods"
)

// Config is the server's configuration.
type Config struct {
	NodeName string
	// Address and Port to listen on (port 10250 upstream).
	Address string
	Port    int
	// TLS serving certificate and the CA client certificates must chain to.
	Cert     tls.Certificate
	ClientCA *x509.CertPool
}

// Server serves the node agent's API.
type Server struct {
	cfg     Config
	client  kubernetes.Interface
	runtime internalapi.RuntimeService
	pods    corelisters.PodLister
	stats   func(ctx context.Context) (any, error)
}

// New returns a server; Run serves it.
func New(cfg Config, client kubernetes.Interface, rs internalapi.RuntimeService, pods corelisters.PodLister, stats func(context.Context) (any, error)) *Server {
	return &Server{cfg: cfg, client: client, runtime: rs, pods: pods, stats: stats}
}

// Listen binds the server's port; Serve then answers on it.
func (s *Server) Listen() (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort(s.cfg.Address, strconv.Itoa(s.cfg.Port)))
}

// Serve answers requests on l until ctx ends.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("GET /pods", s.authorized("proxy", s.listPods))
	mux.HandleFunc("GET /pods/", s.authorized("proxy", s.listPods))
	mux.HandleFunc("GET /stats/summary", s.authorized("stats", s.summary))
	mux.HandleFunc("GET /metrics", s.authorized("metrics", s.metrics))
	mux.HandleFunc("GET /metrics/resource", s.authorized("metrics", s.resourceMetrics))
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", s.authorized("log", s.containerLogs))
	mux.HandleFunc("/exec/{ns}/{pod}/{container}", s.authorized("proxy", s.exec))
	mux.HandleFunc("/attach/{ns}/{pod}/{container}", s.authorized("proxy", s.attach))
	mux.HandleFunc("/portForward/{ns}/{pod}", s.authorized("proxy", s.portForward))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 30 * time.Second,
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{s.cfg.Cert},
			ClientAuth:   tls.VerifyClientCertIfGiven,
			ClientCAs:    s.cfg.ClientCA,
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"http/1.1"},
		},
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	err := srv.ServeTLS(l, "", "")
	if err == http.ErrServerClosed {
		return nil
	}
	return err
}

// authorized checks the client certificate and asks the apiserver whether
// its user may use the node's subresource.
func (s *Server) authorized(subresource string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		cert := r.TLS.PeerCertificates[0]
		user, groups := cert.Subject.CommonName, cert.Subject.Organization
		for _, g := range groups {
			if g == "system:masters" {
				next(w, r)
				return
			}
		}
		verb := "get"
		switch r.Method {
		case http.MethodPost:
			verb = "create"
		case http.MethodPut:
			verb = "update"
		case http.MethodDelete:
			verb = "delete"
		}
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, Groups: groups,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Resource: "nodes", Subresource: subresource, Name: s.cfg.NodeName},
		}}
		res, err := s.client.AuthorizationV1().SubjectAccessReviews().Create(r.Context(), sar, metav1.CreateOptions{})
		if err != nil {
			http.Error(w, fmt.Sprintf("Authorization error (user=%s, verb=%s, resource=nodes, subresource=%s): %v", user, verb, subresource, err), http.StatusForbidden)
			return
		}
		if !res.Status.Allowed {
			http.Error(w, fmt.Sprintf("Forbidden (user=%s, verb=%s, resource=nodes, subresource=%s)", user, verb, subresource), http.StatusForbidden)
			return
		}
		next(w, r)
	}
}

func (s *Server) listPods(w http.ResponseWriter, _ *http.Request) {
	pods, err := s.pods.List(labels.Everything())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	list := corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}}
	for _, p := range pods {
		pp := p.DeepCopy()
		pp.APIVersion, pp.Kind = "v1", "Pod"
		list.Items = append(list.Items, *pp)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(list)
}

func (s *Server) summary(w http.ResponseWriter, r *http.Request) {
	sum, err := s.stats(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(sum)
}

// container finds the newest (or, with previous, the one before) instance
// of a container of a pod on this node.
func (s *Server) container(ctx context.Context, ns, podName, name string, previous bool) (*runtimeapi.ContainerStatus, *corev1.Pod, error) {
	pod, err := s.pods.Pods(ns).Get(podName)
	if err != nil {
		return nil, nil, fmt.Errorf("pod %q not found", podName)
	}
	cs, err := s.runtime.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: map[string]string{
		"io.kubernetes.pod.uid": runtimeUID(pod), "io.kubernetes.container.name": name,
	}})
	if err != nil {
		return nil, nil, err
	}
	var sorted []*runtimeapi.Container
	for _, c := range cs {
		sorted = append(sorted, c)
	}
	// Newest first by attempt.
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && sorted[j].Metadata.GetAttempt() > sorted[j-1].Metadata.GetAttempt(); j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	idx := 0
	if previous {
		idx = 1
	}
	if len(sorted) <= idx {
		if previous {
			return nil, pod, fmt.Errorf("previous terminated container %q in pod %q not found", name, podName)
		}
		return nil, pod, fmt.Errorf("container %q in pod %q is waiting to start: ContainerCreating", name, podName)
	}
	st, err := s.runtime.ContainerStatus(ctx, sorted[idx].Id, false)
	if err != nil {
		return nil, pod, err
	}
	return st.GetStatus(), pod, nil
}

func (s *Server) containerLogs(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	opts := &logs.LogOptions{Follow: boolParam(q, "follow"), Timestamp: boolParam(q, "timestamps")}
	if v := q.Get("tailLines"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			http.Error(w, "tailLines must be a non-negative integer", http.StatusBadRequest)
			return
		}
		opts.TailLines = &n
	}
	if v := q.Get("limitBytes"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			http.Error(w, "limitBytes must be a positive integer", http.StatusBadRequest)
			return
		}
		opts.LimitBytes = &n
	}
	if v := q.Get("sinceSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			http.Error(w, "sinceSeconds must be a positive integer", http.StatusBadRequest)
			return
		}
		opts.Since = time.Now().Add(-time.Duration(n) * time.Second)
	}
	if v := q.Get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			http.Error(w, "sinceTime must be an RFC3339 time", http.StatusBadRequest)
			return
		}
		opts.Since = t
	}
	c, _, err := s.container(ctx, r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container"), boolParam(q, "previous"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	fw := &flushWriter{w: w}
	if f, ok := w.(http.Flusher); ok {
		fw.f = f
	}
	if err := logs.ReadLogs(ctx, c.LogPath, c.Id, opts, s.runtime, fw, fw); err != nil && ctx.Err() == nil {
		klog.FromContext(ctx).V(2).Info("Reading container logs failed", "container", c.Id, "err", err)
	}
}

type flushWriter struct {
	w http.ResponseWriter
	f http.Flusher
}

func (f *flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if f.f != nil {
		f.f.Flush()
	}
	return n, err
}

func boolParam(q url.Values, names ...string) bool {
	for _, n := range names {
		if v := q.Get(n); v != "" {
			b, err := strconv.ParseBool(v)
			if err == nil && b {
				return true
			}
			if v == "1" {
				return true
			}
		}
	}
	return false
}

// running finds the running container a stream request names, or answers
// the request with why there is none.
func (s *Server) running(w http.ResponseWriter, r *http.Request) (*runtimeapi.ContainerStatus, bool) {
	c, _, err := s.container(r.Context(), r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container"), false)
	if err == nil && c.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
		err = fmt.Errorf("container %q is not running", r.PathValue("container"))
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, false
	}
	return c, true
}

func (s *Server) exec(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, ok := s.running(w, r)
	if !ok {
		return
	}
	resp, err := s.runtime.Exec(r.Context(), &runtimeapi.ExecRequest{
		ContainerId: c.Id, Cmd: q["command"], Tty: boolParam(q, "tty"),
		Stdin: boolParam(q, "stdin", "input"), Stdout: boolParam(q, "stdout", "output"), Stderr: boolParam(q, "stderr", "error"),
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.proxyStream(w, r, resp.Url)
}

func (s *Server) attach(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, ok := s.running(w, r)
	if !ok {
		return
	}
	resp, err := s.runtime.Attach(r.Context(), &runtimeapi.AttachRequest{
		ContainerId: c.Id, Tty: boolParam(q, "tty"),
		Stdin: boolParam(q, "stdin", "input"), Stdout: boolParam(q, "stdout", "output"), Stderr: boolParam(q, "stderr", "error"),
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.proxyStream(w, r, resp.Url)
}

func (s *Server) portForward(w http.ResponseWriter, r *http.Request) {
	pod, err := s.pods.Pods(r.PathValue("ns")).Get(r.PathValue("pod"))
	if err != nil {
		http.Error(w, fmt.Sprintf("pod %q not found", r.PathValue("pod")), http.StatusNotFound)
		return
	}
	sbs, err := s.runtime.ListPodSandbox(r.Context(), &runtimeapi.PodSandboxFilter{
		State:         &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY},
		LabelSelector: map[string]string{"io.kubernetes.pod.uid": runtimeUID(pod)},
	})
	if err != nil || len(sbs) == 0 {
		http.Error(w, "pod sandbox not ready", http.StatusBadRequest)
		return
	}
	var ports []int32
	for _, p := range r.URL.Query()["port"] {
		for _, f := range strings.Split(p, ",") {
			n, err := strconv.ParseUint(f, 10, 16)
			if err != nil || n == 0 {
				http.Error(w, fmt.Sprintf("invalid port %q", f), http.StatusBadRequest)
				return
			}
			ports = append(ports, int32(n))
		}
	}
	resp, err := s.runtime.PortForward(r.Context(), &runtimeapi.PortForwardRequest{PodSandboxId: sbs[0].Id, Port: ports})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.proxyStream(w, r, resp.Url)
}

// proxyStream hands the (upgrading) connection over to the runtime's
// streaming server.
func (s *Server) proxyStream(w http.ResponseWriter, r *http.Request, target string) {
	loc, err := url.Parse(target)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// The runtime's URL carries its own path and token; the client's query
	// (ports, streams) travels along.
	if loc.RawQuery == "" {
		loc.RawQuery = r.URL.RawQuery
	}
	h := proxy.NewUpgradeAwareHandler(loc, nil, false, true, responder{})
	h.ServeHTTP(w, r)
}

type responder struct{}

func (responder) Error(w http.ResponseWriter, _ *http.Request, err error) {
	http.Error(w, err.Error(), http.StatusInternalServerError)
}

// runtimeUID is the UID the pod's containers carry: a mirror pod's static
// pod runs under the manifest's UID, not the API object's.
func runtimeUID(pod *corev1.Pod) string {
	if uid, ok := pod.Annotations[staticpods.AnnotationMirror]; ok {
		return uid
	}
	return string(pod.UID)
}
