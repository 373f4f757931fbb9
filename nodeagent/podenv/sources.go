package podenv

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ClientSources is a Sources that reads config maps, secrets and services
// from the API server on every call.
type ClientSources struct {
	Client kubernetes.Interface
	// CurrentNode returns the agent's node object; nil when not known yet.
	CurrentNode func() *corev1.Node
	// SandboxIPs returns the IPs the runtime gave the pod; nil when unset.
	SandboxIPs func(*corev1.Pod) []string
}

var _ Sources = ClientSources{}

func (s ClientSources) ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	return s.Client.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (s ClientSources) Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	return s.Client.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (s ClientSources) Services(ctx context.Context, namespace string) ([]*corev1.Service, error) {
	list, err := s.Client.CoreV1().Services(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.Service, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	return out, nil
}

func (s ClientSources) Node(context.Context) (*corev1.Node, error) {
	var node *corev1.Node
	if s.CurrentNode != nil {
		node = s.CurrentNode()
	}
	if node == nil {
		return nil, fmt.Errorf("node object not known yet")
	}
	return node, nil
}

func (s ClientSources) PodIPs(pod *corev1.Pod) []string {
	if s.SandboxIPs == nil {
		return nil
	}
	return s.SandboxIPs(pod)
}
