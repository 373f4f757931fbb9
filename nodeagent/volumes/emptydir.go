package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// emptyDir sets up an emptyDir volume once: a 0777 directory, or a tmpfs
// for medium Memory, group-owned by the pod's fsGroup. A ready marker in
// the pod's plugins directory records that setup finished, so a volume is
// not chowned again on every sync.
func (s *setup) emptyDir(name string, src *corev1.EmptyDirVolumeSource) (string, error) {
	dir := s.volumeDir(emptyDirKind, name)
	memory := false
	switch src.Medium {
	case corev1.StorageMediumDefault:
	case corev1.StorageMediumMemory:
		memory = true
	default:
		return "", fmt.Errorf("storage medium %q is not supported by this node", src.Medium)
	}

	ready := filepath.Join(s.podDir, pluginsDir, emptyDirKind, name, "ready")
	if _, err := os.Stat(ready); err == nil {
		ok, err := s.dirReady(dir, memory)
		if err != nil || ok {
			return dir, err
		}
	}
	if err := s.prepareDir(dir, memory, src.SizeLimit); err != nil {
		return "", err
	}
	if gid := s.fsGroup(); gid != nil {
		if err := changeOwnership(dir, *gid, false); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(filepath.Dir(ready), podDirMode); err != nil {
		return "", fmt.Errorf("marking volume ready: %w", err)
	}
	if err := os.WriteFile(ready, nil, 0o600); err != nil {
		return "", fmt.Errorf("marking volume ready: %w", err)
	}
	return dir, nil
}

// dirReady reports whether a volume directory set up before is still in
// place: present, and a tmpfs mount when it should be one.
func (s *setup) dirReady(dir string, memory bool) (bool, error) {
	if memory {
		fsType, err := s.mountedFS(dir)
		return fsType == "tmpfs", err
	}
	info, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return info.IsDir(), nil
}

// prepareDir makes dir a 0777 directory, with a tmpfs mounted on it when
// memory is set. It is also the base of the configMap, secret, downwardAPI
// and projected volumes, which the kubelet builds on a hidden emptyDir
// (secret and projected ones in memory, so they never reach the disk).
func (s *setup) prepareDir(dir string, memory bool, sizeLimit *resource.Quantity) error {
	if ok, err := s.dirReady(dir, memory); err != nil || ok {
		return err
	}
	if err := os.MkdirAll(dir, volumeDirMode); err != nil {
		return fmt.Errorf("creating volume directory: %w", err)
	}
	// MkdirAll's mode is subject to the umask.
	if err := os.Chmod(dir, volumeDirMode); err != nil {
		return fmt.Errorf("setting mode of volume directory: %w", err)
	}
	if !memory {
		return nil
	}
	size := tmpfsSize(s.pod, s.currentNode(), sizeLimit)
	if err := s.mountTmpfs(dir, size); err != nil {
		return fmt.Errorf("mounting tmpfs: %w", err)
	}
	return nil
}

// tmpfsSize is the size of a memory-backed volume: the node's allocatable
// memory, lowered to the pod's memory limit and then to the volume's
// sizeLimit when those are smaller. 0 when nothing is known.
func tmpfsSize(pod *corev1.Pod, node *corev1.Node, sizeLimit *resource.Quantity) int64 {
	var size *resource.Quantity
	if node != nil {
		if q, ok := node.Status.Allocatable[corev1.ResourceMemory]; ok && q.Sign() > 0 {
			size = &q
		}
	}
	for _, limit := range []*resource.Quantity{podMemoryLimit(pod), sizeLimit} {
		if limit != nil && limit.Sign() > 0 && (size == nil || limit.Cmp(*size) <= 0) {
			size = limit
		}
	}
	if size == nil {
		return 0
	}
	return size.Value()
}

// podMemoryLimit is the memory limit of the pod's cgroup: the pod-level
// limit, or the containers' limits combined the way init containers run
// (sidecars alongside, the others one at a time), plus overhead. nil when a
// container has no limit.
func podMemoryLimit(pod *corev1.Pod) *resource.Quantity {
	if pod.Spec.Resources != nil {
		if q, ok := pod.Spec.Resources.Limits[corev1.ResourceMemory]; ok && !q.IsZero() {
			return &q
		}
	}
	var running, sidecars, initPeak resource.Quantity
	for _, c := range pod.Spec.InitContainers {
		q, ok := c.Resources.Limits[corev1.ResourceMemory]
		if !ok {
			return nil
		}
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars.Add(q)
			continue
		}
		peak := sidecars.DeepCopy()
		peak.Add(q)
		if peak.Cmp(initPeak) > 0 {
			initPeak = peak
		}
	}
	running.Add(sidecars)
	for _, c := range pod.Spec.Containers {
		q, ok := c.Resources.Limits[corev1.ResourceMemory]
		if !ok {
			return nil
		}
		running.Add(q)
	}
	if initPeak.Cmp(running) > 0 {
		running = initPeak
	}
	if q, ok := pod.Spec.Overhead[corev1.ResourceMemory]; ok {
		running.Add(q)
	}
	return &running
}
