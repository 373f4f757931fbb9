// Package staticpods reads pod manifests from a directory on the node: the
// agent runs them without the API (static pods) and shows each in the API as
// a mirror pod.
package staticpods

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/capstan-dev/capstan/registry/scheme"
)

// Annotations upstream's kubelet puts on static and mirror pods.
const (
	AnnotationSource = "kubernetes.io/config.source"
	AnnotationHash   = "kubernetes.io/config.hash"
	AnnotationMirror = "kubernetes.io/config.mirror"
	AnnotationSeen   = "kubernetes.io/config.seen"
)

// IsMirror tells whether an API pod is the mirror of a static pod.
func IsMirror(pod *corev1.Pod) bool {
	_, ok := pod.Annotations[AnnotationMirror]
	return ok
}

// IsStatic tells whether a pod came from a manifest file.
func IsStatic(pod *corev1.Pod) bool {
	return pod.Annotations[AnnotationSource] == "file"
}

// Read parses every manifest (*.yaml, *.yml, *.json; files starting with a
// dot are ignored) of dir into pods for node. A file that does not parse is
// reported in errs and left out; the rest still run.
func Read(dir, node string) (pods []*corev1.Pod, errs []error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, []error{err}
	}
	for _, e := range entries {
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if e.IsDir() || strings.HasPrefix(name, ".") || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
			continue
		}
		pod, err := readFile(filepath.Join(dir, name), node)
		if err != nil {
			errs = append(errs, fmt.Errorf("static pod manifest %s: %w", name, err))
			continue
		}
		pods = append(pods, pod)
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	return pods, errs
}

func readFile(path, node string) (*corev1.Pod, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	js, err := utilyaml.ToJSON(data)
	if err != nil {
		return nil, err
	}
	pod := &corev1.Pod{}
	if err := json.Unmarshal(js, pod); err != nil {
		return nil, err
	}
	if pod.Kind != "" && pod.Kind != "Pod" {
		return nil, fmt.Errorf("kind %q is not Pod", pod.Kind)
	}
	if pod.Name == "" {
		return nil, fmt.Errorf("metadata.name is required")
	}
	// As upstream: the node name is part of the pod's name, the namespace
	// defaults to "default", the UID is the hash of the manifest and the
	// node, so the same file gives the same pod after a restart.
	pod.Name = pod.Name + "-" + strings.ToLower(node)
	if pod.Namespace == "" {
		pod.Namespace = metav1.NamespaceDefault
	}
	sum := md5.Sum(append(append([]byte{}, js...), []byte(node)...))
	hash := hex.EncodeToString(sum[:])
	pod.UID = types.UID(hash)
	pod.Spec.NodeName = node
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[AnnotationSource] = "file"
	pod.Annotations[AnnotationHash] = hash
	pod.Spec.Tolerations = append(pod.Spec.Tolerations, corev1.Toleration{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute})
	scheme.Scheme.Default(pod)
	return pod, nil
}

// Mirror is the API object that shows a static pod.
func Mirror(static *corev1.Pod, node *corev1.Node) *corev1.Pod {
	m := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: static.Name, Namespace: static.Namespace,
		Labels: static.Labels, Annotations: map[string]string{},
	}, Spec: *static.Spec.DeepCopy()}
	for k, v := range static.Annotations {
		m.Annotations[k] = v
	}
	m.Annotations[AnnotationMirror] = static.Annotations[AnnotationHash]
	if node != nil {
		m.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID, Controller: boolPtr(true)}}
	}
	return m
}

func boolPtr(b bool) *bool { return &b }
