package volumes

import (
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"

	"github.com/capstan-dev/capstan/nodeagent/fieldpath"
	"github.com/capstan-dev/capstan/nodeagent/volumes/atomicwriter"
)

func (s *setup) downwardAPIVolume(name string, src *corev1.DownwardAPIVolumeSource) (string, error) {
	payload, err := s.downwardAPIPayload(src.Items, modeOr(src.DefaultMode, defaultFileMode))
	if err != nil {
		return "", err
	}
	return s.publish(downwardAPIKind, name, false, payload)
}

// downwardAPIPayload resolves every item, reporting all failures at once.
func (s *setup) downwardAPIPayload(items []corev1.DownwardAPIVolumeFile, defaultMode int32) (map[string]atomicwriter.File, error) {
	src := fieldpath.Source{Pod: s.pod, Node: s.currentNode()}
	payload := make(map[string]atomicwriter.File, len(items))
	var errs []error
	for _, item := range items {
		var value string
		var err error
		switch {
		case item.FieldRef != nil:
			value, err = src.Field(item.FieldRef)
		case item.ResourceFieldRef != nil:
			value, err = src.Resource(item.ResourceFieldRef, nil)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		payload[filepath.Clean(item.Path)] = atomicwriter.File{Data: []byte(value), Mode: modeOr(item.Mode, defaultMode)}
	}
	return payload, utilerrors.NewAggregate(errs)
}
