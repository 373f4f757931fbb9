package volumes

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// makeNestedMountpoints creates, inside the directory of volume name, the
// mount points of other volumes that a container mounts beneath it: the
// runtime cannot create them in a read-only volume.
func makeNestedMountpoints(name, dir string, pod *corev1.Pod) error {
	nested, err := nestedMountpoints(name, pod)
	if err != nil {
		return err
	}
	for _, p := range nested {
		if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
			return fmt.Errorf("unable to create nested volume mountpoints: %w", err)
		}
	}
	return nil
}

// nestedMountpoints returns, relative to where volume name is mounted, the
// mount points directly beneath it in any container (not those nested
// deeper under another nested mount).
func nestedMountpoints(name string, pod *corev1.Pod) ([]string, error) {
	var out []string
	check := func(mounts []corev1.VolumeMount) error {
		var all, mine []string
		for _, vm := range mounts {
			p := filepath.Clean(vm.MountPath)
			all = append(all, p)
			if vm.Name == name {
				mine = append(mine, p)
			}
		}
		sort.Strings(all)
		for _, base := range mine {
			if strings.HasPrefix(base, "../") {
				// Don't let a container trick us into creating directories outside of its rootfs.
				return fmt.Errorf("invalid container mount point %v", base)
			}
			prefix := base + "/"
			var seen []string
			for _, p := range all {
				if !strings.HasPrefix(p, prefix) {
					continue
				}
				deeper := false
				for _, s := range seen {
					if strings.HasPrefix(p, s) {
						deeper = true
						break
					}
				}
				if deeper {
					continue
				}
				seen = append(seen, p+"/")
				out = append(out, p[len(prefix):])
			}
		}
		return nil
	}
	for _, c := range pod.Spec.InitContainers {
		if err := check(c.VolumeMounts); err != nil {
			return nil, err
		}
	}
	for _, c := range pod.Spec.Containers {
		if err := check(c.VolumeMounts); err != nil {
			return nil, err
		}
	}
	for _, c := range pod.Spec.EphemeralContainers {
		if err := check(c.VolumeMounts); err != nil {
			return nil, err
		}
	}
	return out, nil
}
