package serviceaccount

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestMountToken(t *testing.T) {
	tests := []struct {
		name        string
		pod         corev1.Pod
		wantVolumes int
		wantMounts  []int // per container (init first)
	}{
		{
			name:        "every container gets the mount, one volume",
			pod:         corev1.Pod{Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "i"}}, Containers: []corev1.Container{{Name: "a"}, {Name: "b"}}}},
			wantVolumes: 1, wantMounts: []int{1, 1, 1},
		},
		{
			name: "a container with something at the path keeps it",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{
				{Name: "a", VolumeMounts: []corev1.VolumeMount{{Name: "mine", MountPath: MountPath}}}, {Name: "b"}}}},
			wantVolumes: 1, wantMounts: []int{1, 1},
		},
		{
			name: "no container needs it: no volume",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{
				{Name: "a", VolumeMounts: []corev1.VolumeMount{{Name: "mine", MountPath: MountPath}}}}}},
			wantVolumes: 0, wantMounts: []int{1},
		},
		{
			name:        "an existing kube-api-access volume is reused",
			pod:         corev1.Pod{Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "kube-api-access-abcde"}}, Containers: []corev1.Container{{Name: "a"}}}},
			wantVolumes: 1, wantMounts: []int{1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := tc.pod.DeepCopy()
			mountToken(pod)
			if len(pod.Spec.Volumes) != tc.wantVolumes {
				t.Fatalf("volumes = %d, want %d", len(pod.Spec.Volumes), tc.wantVolumes)
			}
			all := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
			for i, c := range all {
				if len(c.VolumeMounts) != tc.wantMounts[i] {
					t.Errorf("container %s has %d mounts, want %d", c.Name, len(c.VolumeMounts), tc.wantMounts[i])
				}
			}
			if tc.wantVolumes == 1 {
				v := pod.Spec.Volumes[0]
				if !strings.HasPrefix(v.Name, volumePrefix) {
					t.Errorf("volume name %q", v.Name)
				}
				for _, c := range all {
					for _, m := range c.VolumeMounts {
						if m.MountPath == MountPath && m.Name != "mine" && (m.Name != v.Name || !m.ReadOnly) {
							t.Errorf("mount %+v does not use volume %s read-only", m, v.Name)
						}
					}
				}
				if p := v.Projected; p != nil && (len(p.Sources) != 3 || *p.Sources[0].ServiceAccountToken.ExpirationSeconds != 3607) {
					t.Errorf("projected sources %+v", p.Sources)
				}
			}
		})
	}
}

func TestAutomount(t *testing.T) {
	f, tr := ptr.To(false), ptr.To(true)
	tests := []struct {
		pod, sa *bool
		want    bool
	}{{nil, nil, true}, {nil, f, false}, {tr, f, true}, {f, tr, false}}
	for _, tc := range tests {
		got := automount(&corev1.ServiceAccount{AutomountServiceAccountToken: tc.sa}, &corev1.Pod{Spec: corev1.PodSpec{AutomountServiceAccountToken: tc.pod}})
		if got != tc.want {
			t.Errorf("pod %v sa %v: got %v", tc.pod, tc.sa, got)
		}
	}
}
