package podenv

import (
	"context"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/capstan-dev/capstan/nodeagent/fieldpath"
)

// EnvVar is one variable of a container's environment.
type EnvVar struct {
	Name  string
	Value string
}

// Sources is where Env reads what a container's environment refers to. The
// node agent backs it by informers' listers or, as ClientSources does, by
// the API server.
type Sources interface {
	ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
	Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	// Services lists the services of one namespace.
	Services(ctx context.Context, namespace string) ([]*corev1.Service, error)
	// Node returns the node the agent runs on, for status.hostIP(s) and for
	// the limits a container leaves unset.
	Node(ctx context.Context) (*corev1.Node, error)
	// PodIPs returns the IPs the runtime gave the pod's sandbox; nil
	// means pod.status.podIPs.
	PodIPs(pod *corev1.Pod) []string
}

// Map returns env as a map, for Expand and for subPathExpr.
func Map(env []EnvVar) map[string]string {
	m := make(map[string]string, len(env))
	for _, e := range env {
		m[e.Name] = e.Value
	}
	return m
}

// Env computes the environment of container c of pod: service link
// variables first, then envFrom, then env, a later definition of a name
// replacing an earlier one (the variable takes the later position). Errors
// carry the kubelet's messages, since they become the container's
// CreateContainerConfigError message.
func Env(ctx context.Context, src Sources, pod *corev1.Pod, c *corev1.Container) ([]EnvVar, error) {
	b := &builder{ctx: ctx, src: src, pod: pod, index: map[string]int{}}
	if err := b.addServices(); err != nil {
		return nil, err
	}
	for i := range c.EnvFrom {
		if err := b.addEnvFrom(&c.EnvFrom[i]); err != nil {
			return nil, err
		}
	}
	for i := range c.Env {
		if err := b.addEnv(&c.Env[i], c); err != nil {
			return nil, err
		}
	}
	return b.result(), nil
}

// builder accumulates variables; a name set again moves to the end.
type builder struct {
	ctx context.Context
	src Sources
	pod *corev1.Pod

	vars  []EnvVar
	index map[string]int // name -> position in vars; removed entries have Name ""

	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
	node       *corev1.Node
}

func (b *builder) set(name, value string) {
	if i, ok := b.index[name]; ok {
		b.vars[i].Name = ""
	}
	b.index[name] = len(b.vars)
	b.vars = append(b.vars, EnvVar{Name: name, Value: value})
}

func (b *builder) lookup(name string) (string, bool) {
	i, ok := b.index[name]
	if !ok {
		return "", false
	}
	return b.vars[i].Value, true
}

func (b *builder) result() []EnvVar {
	out := make([]EnvVar, 0, len(b.index))
	for _, v := range b.vars {
		if v.Name != "" {
			out = append(out, v)
		}
	}
	return out
}

func (b *builder) addServices() error {
	ns := b.pod.Namespace
	links := b.pod.Spec.EnableServiceLinks == nil || *b.pod.Spec.EnableServiceLinks
	defaultNS, err := b.src.Services(b.ctx, metav1.NamespaceDefault)
	if err != nil {
		return fmt.Errorf("failed to list services when setting up env vars: %w", err)
	}
	own := defaultNS
	if links && ns != metav1.NamespaceDefault {
		if own, err = b.src.Services(b.ctx, ns); err != nil {
			return fmt.Errorf("failed to list services when setting up env vars: %w", err)
		}
	}
	for _, v := range serviceVars(linkedServices(defaultNS, own, ns, links)) {
		b.set(v.Name, v.Value)
	}
	return nil
}

func (b *builder) addEnvFrom(from *corev1.EnvFromSource) error {
	var data map[string]string
	switch {
	case from.ConfigMapRef != nil:
		cm, err := b.configMap(from.ConfigMapRef.Name)
		if err != nil {
			if apierrors.IsNotFound(err) && isTrue(from.ConfigMapRef.Optional) {
				return nil
			}
			return err
		}
		data = cm.Data
	case from.SecretRef != nil:
		s, err := b.secret(from.SecretRef.Name)
		if err != nil {
			if apierrors.IsNotFound(err) && isTrue(from.SecretRef.Optional) {
				return nil
			}
			return err
		}
		data = make(map[string]string, len(s.Data))
		for k, v := range s.Data {
			data[k] = string(v)
		}
	default:
		return nil
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := from.Prefix + k
		// The API validates keys and prefixes, so this only drops names
		// no process could be given (with '=' or non-printable bytes).
		if len(validation.IsRelaxedEnvVarName(name)) != 0 {
			continue
		}
		b.set(name, data[k])
	}
	return nil
}

func (b *builder) addEnv(e *corev1.EnvVar, c *corev1.Container) error {
	if e.Value != "" || e.ValueFrom == nil {
		b.set(e.Name, ExpandFunc(e.Value, b.lookup))
		return nil
	}
	from := e.ValueFrom
	var value string
	switch {
	case from.FieldRef != nil:
		src, err := b.fieldSource(false)
		if err != nil {
			return err
		}
		if value, err = src.Field(from.FieldRef); err != nil {
			return err
		}
	case from.ResourceFieldRef != nil:
		src, err := b.fieldSource(true)
		if err != nil {
			return err
		}
		if value, err = src.Resource(from.ResourceFieldRef, c); err != nil {
			return err
		}
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		cm, err := b.configMap(ref.Name)
		if err != nil {
			if apierrors.IsNotFound(err) && isTrue(ref.Optional) {
				return nil
			}
			return err
		}
		v, ok := cm.Data[ref.Key]
		if !ok {
			if isTrue(ref.Optional) {
				return nil
			}
			return fmt.Errorf("couldn't find key %v in ConfigMap %v/%v", ref.Key, b.pod.Namespace, ref.Name)
		}
		value = v
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		s, err := b.secret(ref.Name)
		if err != nil {
			if apierrors.IsNotFound(err) && isTrue(ref.Optional) {
				return nil
			}
			return err
		}
		v, ok := s.Data[ref.Key]
		if !ok {
			if isTrue(ref.Optional) {
				return nil
			}
			return fmt.Errorf("couldn't find key %v in Secret %v/%v", ref.Key, b.pod.Namespace, ref.Name)
		}
		value = string(v)
	case from.FileKeyRef != nil:
		return fmt.Errorf("environment variable %q: fileKeyRef is not supported by this node", e.Name)
	}
	b.set(e.Name, value)
	return nil
}

// fieldSource is the pod as field references see it; the node is read only
// when the reference needs it.
func (b *builder) fieldSource(needNode bool) (fieldpath.Source, error) {
	src := fieldpath.Source{Pod: b.pod, PodIPs: b.src.PodIPs(b.pod)}
	if b.node == nil {
		node, err := b.src.Node(b.ctx)
		if err != nil {
			if needNode {
				return src, fmt.Errorf("failed to find node object, expected a node: %w", err)
			}
			// Field references make do without: the node gives host IPs
			// (also in the pod's status) and the pod IPs' family order.
			return src, nil
		}
		b.node = node
	}
	src.Node = b.node
	return src, nil
}

// configMap gets a config map once per Env call; a missing one is reported
// as the kubelet's cache does ("configmap %q not found").
func (b *builder) configMap(name string) (*corev1.ConfigMap, error) {
	if cm, ok := b.configMaps[name]; ok {
		return cm, nil
	}
	cm, err := b.src.ConfigMap(b.ctx, b.pod.Namespace, name)
	if err != nil {
		return nil, sourceError(err, "configmap", b.pod.Namespace, name)
	}
	if b.configMaps == nil {
		b.configMaps = map[string]*corev1.ConfigMap{}
	}
	b.configMaps[name] = cm
	return cm, nil
}

func (b *builder) secret(name string) (*corev1.Secret, error) {
	if s, ok := b.secrets[name]; ok {
		return s, nil
	}
	s, err := b.src.Secret(b.ctx, b.pod.Namespace, name)
	if err != nil {
		return nil, sourceError(err, "secret", b.pod.Namespace, name)
	}
	if b.secrets == nil {
		b.secrets = map[string]*corev1.Secret{}
	}
	b.secrets[name] = s
	return s, nil
}

// sourceError gives a missing object the kubelet's message whatever the
// Sources implementation says (the API server says "configmaps", listers
// "configmap"), keeping it a NotFound error.
func sourceError(err error, resource, namespace, name string) error {
	if apierrors.IsNotFound(err) {
		return apierrors.NewNotFound(schema.GroupResource{Resource: resource}, name)
	}
	return fmt.Errorf("getting %s %s/%s: %w", resource, namespace, name, err)
}

func isTrue(b *bool) bool { return b != nil && *b }
