package volumes

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/capstan-dev/capstan/nodeagent/volumes/atomicwriter"
)

// keyValueKind is a kind of object whose keys a volume shows as files:
// config maps and secrets, which differ only in what is listed here.
type keyValueKind struct {
	// resource names the kind in errors, as the kubelet does whatever the
	// API server calls the resource.
	resource string
	// dir is the kind's directory under volumes/; memory keeps the volume
	// in tmpfs so that its content never reaches the disk.
	dir    string
	memory bool
	// missingKey is the kubelet's error for an item naming a key the object lacks.
	missingKey string
	// get reads the object called name in namespace.
	get func(ctx context.Context, client kubernetes.Interface, namespace, name string) (keyValues, error)
}

// keyValues is an object's content: text keys (a config map's data) and
// binary keys (a config map's binaryData, a secret's data).
type keyValues struct {
	text   map[string]string
	binary map[string][]byte
}

var configMaps = keyValueKind{
	resource:   "configmap",
	dir:        configMapKind,
	missingKey: "configmap references non-existent config key",
	get: func(ctx context.Context, client kubernetes.Interface, namespace, name string) (keyValues, error) {
		cm, err := client.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return keyValues{}, err
		}
		return keyValues{text: cm.Data, binary: cm.BinaryData}, nil
	},
}

var secrets = keyValueKind{
	resource:   "secret",
	dir:        secretKind,
	memory:     true,
	missingKey: "references non-existent secret key",
	get: func(ctx context.Context, client kubernetes.Interface, namespace, name string) (keyValues, error) {
		secret, err := client.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return keyValues{}, err
		}
		return keyValues{binary: secret.Data}, nil
	},
}

func (s *setup) configMapVolume(name string, src *corev1.ConfigMapVolumeSource) (string, error) {
	return s.keyValueVolume(configMaps, name, src.Name, src.Items, src.DefaultMode, src.Optional)
}

func (s *setup) secretVolume(name string, src *corev1.SecretVolumeSource) (string, error) {
	return s.keyValueVolume(secrets, name, src.SecretName, src.Items, src.DefaultMode, src.Optional)
}

func (s *setup) keyValueVolume(kind keyValueKind, volume, object string, items []corev1.KeyToPath, defaultMode *int32, optional *bool) (string, error) {
	payload, err := s.keyValuePayload(kind, object, items, modeOr(defaultMode, defaultFileMode), isTrue(optional))
	if err != nil {
		return "", err
	}
	return s.publish(kind.dir, volume, kind.memory, payload)
}

// keyValuePayload reads the object called name from the pod's namespace
// and maps its keys to files: every key under its own name, or only the
// listed items under their paths. A missing optional object reads as empty,
// and an optional one's missing keys are skipped.
func (s *setup) keyValuePayload(kind keyValueKind, name string, items []corev1.KeyToPath, defaultMode int32, optional bool) (map[string]atomicwriter.File, error) {
	kv, err := kind.get(s.ctx, s.m.client, s.pod.Namespace, name)
	switch {
	case apierrors.IsNotFound(err) && optional:
		kv = keyValues{}
	case apierrors.IsNotFound(err):
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: kind.resource}, name)
	case err != nil:
		return nil, fmt.Errorf("getting %s %s/%s: %w", kind.resource, s.pod.Namespace, name, err)
	}

	payload := make(map[string]atomicwriter.File, len(kv.text)+len(kv.binary))
	if len(items) == 0 {
		for k, v := range kv.text {
			payload[k] = atomicwriter.File{Data: []byte(v), Mode: defaultMode}
		}
		for k, v := range kv.binary {
			payload[k] = atomicwriter.File{Data: v, Mode: defaultMode}
		}
		return payload, nil
	}
	for _, item := range items {
		var data []byte
		if v, ok := kv.text[item.Key]; ok {
			data = []byte(v)
		} else if v, ok := kv.binary[item.Key]; ok {
			data = v
		} else {
			if optional {
				continue
			}
			return nil, fmt.Errorf("%s: %s", kind.missingKey, item.Key)
		}
		payload[item.Path] = atomicwriter.File{Data: data, Mode: modeOr(item.Mode, defaultMode)}
	}
	return payload, nil
}
