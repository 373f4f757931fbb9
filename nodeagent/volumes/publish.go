package volumes

import (
	"fmt"

	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/nodeagent/volumes/atomicwriter"
)

// defaultFileMode is the API's default for defaultMode (0644).
const defaultFileMode int32 = 0o644

func modeOr(mode *int32, def int32) int32 {
	if mode != nil {
		return *mode
	}
	return def
}

func isTrue(b *bool) bool { return b != nil && *b }

// publish makes the payload the content of a configMap, secret, downwardAPI
// or projected volume. The payload is computed before anything is created,
// so a volume whose source is missing does not appear half set up.
func (s *setup) publish(kind, name string, memory bool, payload map[string]atomicwriter.File) (string, error) {
	dir := s.volumeDir(kind, name)
	if err := s.prepareDir(dir, memory, nil); err != nil {
		return "", err
	}
	if err := makeNestedMountpoints(name, dir, s.pod); err != nil {
		return "", err
	}
	w, err := atomicwriter.New(dir)
	if err != nil {
		return "", err
	}
	var setPerms func() error
	if gid := s.fsGroup(); gid != nil {
		setPerms = func() error { return changeOwnership(dir, *gid, true) }
	}
	written, err := w.Write(payload, setPerms)
	if err != nil {
		return "", fmt.Errorf("writing payload: %w", err)
	}
	if written {
		klog.FromContext(s.ctx).V(4).Info("Published volume contents", "pod", klog.KObj(s.pod), "volume", name)
	}
	return dir, nil
}
