package volumes

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/capstan-dev/capstan/nodeagent/volumes/atomicwriter"
)

func (s *setup) secretVolume(name string, src *corev1.SecretVolumeSource) (string, error) {
	optional := isTrue(src.Optional)
	secret, err := s.getSecret(src.SecretName, optional)
	if err != nil {
		return "", err
	}
	payload, err := secretPayload(src.Items, secret, modeOr(src.DefaultMode, defaultFileMode), optional)
	if err != nil {
		return "", err
	}
	return s.publish(secretKind, name, true, payload)
}

// getSecret reads a secret of the pod's namespace; a missing optional one
// reads as empty.
func (s *setup) getSecret(name string, optional bool) (*corev1.Secret, error) {
	secret, err := s.m.client.CoreV1().Secrets(s.pod.Namespace).Get(s.ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if optional {
			return &corev1.Secret{}, nil
		}
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secret"}, name)
	}
	if err != nil {
		return nil, fmt.Errorf("getting secret %s/%s: %w", s.pod.Namespace, name, err)
	}
	return secret, nil
}

func secretPayload(items []corev1.KeyToPath, secret *corev1.Secret, defaultMode int32, optional bool) (map[string]atomicwriter.File, error) {
	payload := make(map[string]atomicwriter.File, len(secret.Data))
	if len(items) == 0 {
		for k, v := range secret.Data {
			payload[k] = atomicwriter.File{Data: v, Mode: defaultMode}
		}
		return payload, nil
	}
	for _, item := range items {
		v, ok := secret.Data[item.Key]
		if !ok {
			if optional {
				continue
			}
			return nil, fmt.Errorf("references non-existent secret key: %s", item.Key)
		}
		payload[item.Path] = atomicwriter.File{Data: v, Mode: modeOr(item.Mode, defaultMode)}
	}
	return payload, nil
}
