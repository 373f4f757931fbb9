package volumes

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/capstan-dev/capstan/nodeagent/volumes/atomicwriter"
)

func (s *setup) configMapVolume(name string, src *corev1.ConfigMapVolumeSource) (string, error) {
	optional := isTrue(src.Optional)
	cm, err := s.getConfigMap(src.Name, optional)
	if err != nil {
		return "", err
	}
	payload, err := configMapPayload(src.Items, cm, modeOr(src.DefaultMode, defaultFileMode), optional)
	if err != nil {
		return "", err
	}
	return s.publish(configMapKind, name, false, payload)
}

// getConfigMap reads a config map of the pod's namespace; a missing optional
// one reads as empty.
func (s *setup) getConfigMap(name string, optional bool) (*corev1.ConfigMap, error) {
	cm, err := s.m.client.CoreV1().ConfigMaps(s.pod.Namespace).Get(s.ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if optional {
			return &corev1.ConfigMap{}, nil
		}
		// The kubelet's message, whatever the API server calls the resource.
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "configmap"}, name)
	}
	if err != nil {
		return nil, fmt.Errorf("getting configmap %s/%s: %w", s.pod.Namespace, name, err)
	}
	return cm, nil
}

// configMapPayload maps a config map's data and binaryData to files: every
// key under its own name, or only the listed items under their paths.
func configMapPayload(items []corev1.KeyToPath, cm *corev1.ConfigMap, defaultMode int32, optional bool) (map[string]atomicwriter.File, error) {
	payload := make(map[string]atomicwriter.File, len(cm.Data)+len(cm.BinaryData))
	if len(items) == 0 {
		for k, v := range cm.Data {
			payload[k] = atomicwriter.File{Data: []byte(v), Mode: defaultMode}
		}
		for k, v := range cm.BinaryData {
			payload[k] = atomicwriter.File{Data: v, Mode: defaultMode}
		}
		return payload, nil
	}
	for _, item := range items {
		var data []byte
		if v, ok := cm.Data[item.Key]; ok {
			data = []byte(v)
		} else if v, ok := cm.BinaryData[item.Key]; ok {
			data = v
		} else {
			if optional {
				continue
			}
			return nil, fmt.Errorf("configmap references non-existent config key: %s", item.Key)
		}
		payload[item.Path] = atomicwriter.File{Data: data, Mode: modeOr(item.Mode, defaultMode)}
	}
	return payload, nil
}
