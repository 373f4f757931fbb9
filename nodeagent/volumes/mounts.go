package volumes

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/capstan-dev/capstan/nodeagent/podenv"
)

// Mounts turns container c's volumeMounts into CRI mounts, given the host
// paths Setup returned and the container's environment (for subPathExpr).
// A subPath is created when missing and bind-mounted under the pod's
// volume-subpaths directory, so that the runtime gets a path that cannot be
// redirected out of the volume by symlinks the container writes.
func (m *Manager) Mounts(pod *corev1.Pod, c *corev1.Container, paths map[string]string, env map[string]string) ([]*runtimeapi.Mount, error) {
	podDir, err := m.podDir(pod.UID)
	if err != nil {
		return nil, err
	}
	var st *podState
	defer func() {
		if st != nil {
			st.mu.Unlock()
		}
	}()

	out := make([]*runtimeapi.Mount, 0, len(c.VolumeMounts))
	for i, vm := range c.VolumeMounts {
		hostPath, ok := paths[vm.Name]
		if !ok {
			return nil, fmt.Errorf("cannot find volume %q to mount into container %q", vm.Name, c.Name)
		}
		subPath := vm.SubPath
		if vm.SubPathExpr != "" {
			if subPath, err = expandSubPathExpr(vm.SubPathExpr, env); err != nil {
				return nil, err
			}
		}
		if subPath != "" {
			if filepath.IsAbs(subPath) {
				return nil, fmt.Errorf("error SubPath `%s` must not be an absolute path", subPath)
			}
			if hasBacksteps(subPath) {
				return nil, fmt.Errorf("unable to provision SubPath `%s`: must not contain '..'", subPath)
			}
			if st == nil {
				st = m.lockPod(pod.UID)
				// As in Setup: the mount table has no symlinks.
				if podDir, err = filepath.EvalSymlinks(podDir); err != nil {
					return nil, fmt.Errorf("resolving pod directory: %w", err)
				}
			}
			target := filepath.Join(podDir, subPathsDir, vm.Name, c.Name, fmt.Sprint(i))
			if hostPath, err = m.prepareSubPath(hostPath, subPath, target); err != nil {
				return nil, &SubPathError{Volume: vm.Name, Container: c.Name, Create: isCreateError(err), Err: err}
			}
		}
		propagation, err := mountPropagation(vm.MountPropagation)
		if err != nil {
			return nil, err
		}
		rro, err := m.recursiveReadOnly(vm)
		if err != nil {
			return nil, fmt.Errorf("failed to resolve recursive read-only mode: %w", err)
		}
		containerPath := vm.MountPath
		if !strings.HasPrefix(containerPath, "/") {
			containerPath = "/" + containerPath
		}
		out = append(out, &runtimeapi.Mount{
			ContainerPath:     containerPath,
			HostPath:          hostPath,
			Readonly:          vm.ReadOnly || alwaysReadOnly(pod, vm.Name),
			Propagation:       propagation,
			RecursiveReadOnly: rro,
		})
	}
	return out, nil
}

// SubPathError is a subPath that could not be prepared. Its message is the
// kubelet's, which leaves host paths out because it ends up in the pod's
// status; Err has the detail for the agent's log.
type SubPathError struct {
	Volume, Container string
	// Create is set when creating a missing subPath directory failed.
	Create bool
	Err    error
}

func (e *SubPathError) Error() string {
	if e.Create {
		return fmt.Sprintf("failed to create subPath directory for volumeMount %q of container %q", e.Volume, e.Container)
	}
	return fmt.Sprintf("failed to prepare subPath for volumeMount %q of container %q", e.Volume, e.Container)
}

func (e *SubPathError) Unwrap() error { return e.Err }

// expandSubPathExpr expands $(VAR) references with the container's
// environment; unlike in env and args, a reference to an unset or empty
// variable is an error.
func expandSubPathExpr(expr string, env map[string]string) (string, error) {
	missing := map[string]bool{}
	out := podenv.ExpandFunc(expr, func(name string) (string, bool) {
		v, ok := env[name]
		if !ok || v == "" {
			missing[name] = true
		}
		return v, true
	})
	if len(missing) > 0 {
		names := make([]string, 0, len(missing))
		for n := range missing {
			names = append(names, n)
		}
		sort.Strings(names)
		return "", fmt.Errorf("missing value for %s", strings.Join(names, ", "))
	}
	return out, nil
}

// alwaysReadOnly reports volumes whose contents the node agent owns; the
// container sees them read-only whatever its mount says.
func alwaysReadOnly(pod *corev1.Pod, name string) bool {
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if v.Name == name {
			return v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil || v.Projected != nil
		}
	}
	return false
}

func mountPropagation(mode *corev1.MountPropagationMode) (runtimeapi.MountPropagation, error) {
	switch {
	case mode == nil, *mode == corev1.MountPropagationNone:
		return runtimeapi.MountPropagation_PROPAGATION_PRIVATE, nil
	case *mode == corev1.MountPropagationHostToContainer:
		return runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER, nil
	case *mode == corev1.MountPropagationBidirectional:
		return runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL, nil
	}
	return 0, fmt.Errorf("invalid MountPropagation mode: %q", *mode)
}

func (m *Manager) recursiveReadOnly(vm corev1.VolumeMount) (bool, error) {
	if vm.RecursiveReadOnly == nil || *vm.RecursiveReadOnly == corev1.RecursiveReadOnlyDisabled {
		return false, nil
	}
	if !vm.ReadOnly {
		return false, fmt.Errorf("volume %q requested recursive read-only mode, but it is not read-only", vm.Name)
	}
	if vm.MountPropagation != nil && *vm.MountPropagation != corev1.MountPropagationNone {
		return false, fmt.Errorf("volume %q requested recursive read-only mode, but it is not compatible with propagation %q",
			vm.Name, *vm.MountPropagation)
	}
	switch mode := *vm.RecursiveReadOnly; mode {
	case corev1.RecursiveReadOnlyIfPossible:
		return m.rro(), nil
	case corev1.RecursiveReadOnlyEnabled:
		if !m.rro() {
			return false, fmt.Errorf("volume %q requested recursive read-only mode, but it is not supported by the runtime", vm.Name)
		}
		return true, nil
	default:
		return false, fmt.Errorf("unknown recursive read-only mode %q", mode)
	}
}
