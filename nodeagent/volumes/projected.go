package volumes

import (
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"

	"github.com/capstan-dev/capstan/nodeagent/volumes/atomicwriter"
)

// credentialMode is the mode of tokens and trust bundles when the pod runs
// with a single user or an fsGroup that can own them.
const credentialMode int32 = 0o600

func (s *setup) projectedVolume(name string, src *corev1.ProjectedVolumeSource) (string, error) {
	payload, err := s.projectedPayload(src)
	if err != nil {
		return "", err
	}
	return s.publish(projectedKind, name, true, payload)
}

// projectedPayload merges the sources in order (a later path wins),
// reporting all failing sources at once; any failure fails the volume.
func (s *setup) projectedPayload(src *corev1.ProjectedVolumeSource) (map[string]atomicwriter.File, error) {
	defaultMode := modeOr(src.DefaultMode, defaultFileMode)
	fsUser := podFsUser(s.pod)
	// Credentials are readable only by their owner, when an owner is known.
	credMode := defaultMode
	if fsUser != nil || s.fsGroup() != nil {
		credMode = credentialMode
	}

	payload := map[string]atomicwriter.File{}
	var errs []error
	for i, source := range src.Sources {
		var part map[string]atomicwriter.File
		var err error
		switch {
		case source.ConfigMap != nil:
			cm := source.ConfigMap
			part, err = s.keyValuePayload(configMaps, cm.Name, cm.Items, defaultMode, isTrue(cm.Optional))
		case source.Secret != nil:
			secret := source.Secret
			part, err = s.keyValuePayload(secrets, secret.Name, secret.Items, defaultMode, isTrue(secret.Optional))
		case source.DownwardAPI != nil:
			part, err = s.downwardAPIPayload(source.DownwardAPI.Items, defaultMode)
		case source.ServiceAccountToken != nil:
			var token []byte
			if token, err = s.serviceAccountToken(source.ServiceAccountToken); err == nil {
				part = map[string]atomicwriter.File{
					source.ServiceAccountToken.Path: {Data: token, Mode: credMode, FsUser: fsUser},
				}
			}
		case source.ClusterTrustBundle != nil:
			var bundle []byte
			if bundle, err = s.clusterTrustBundle(source.ClusterTrustBundle); err == nil {
				part = map[string]atomicwriter.File{
					source.ClusterTrustBundle.Path: {Data: bundle, Mode: credMode, FsUser: fsUser},
				}
			}
		case source.PodCertificate != nil:
			err = fmt.Errorf("podCertificate projection (source %d) is not supported by this node", i)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		maps.Copy(payload, part)
	}
	return payload, utilerrors.NewAggregate(errs)
}

// podFsUser is the user every container of the pod runs as, nil unless
// they all set the same one.
func podFsUser(pod *corev1.Pod) *int64 {
	var podUser *int64
	if pod.Spec.SecurityContext != nil {
		podUser = pod.Spec.SecurityContext.RunAsUser
	}
	var user *int64
	check := func(sc *corev1.SecurityContext) bool {
		u := podUser
		if sc != nil && sc.RunAsUser != nil {
			u = sc.RunAsUser
		}
		if u == nil || (user != nil && *user != *u) {
			return false
		}
		user = u
		return true
	}
	for _, c := range pod.Spec.InitContainers {
		if !check(c.SecurityContext) {
			return nil
		}
	}
	for _, c := range pod.Spec.Containers {
		if !check(c.SecurityContext) {
			return nil
		}
	}
	for _, c := range pod.Spec.EphemeralContainers {
		if !check(c.SecurityContext) {
			return nil
		}
	}
	return user
}
