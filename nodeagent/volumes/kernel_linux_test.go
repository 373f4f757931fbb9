package volumes

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// newKernelEnv is a testEnv with the real mounter; it skips when this
// process may not mount.
func newKernelEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	probe := filepath.Join(e.dir, "probe")
	if err := os.Mkdir(probe, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := (kernelMounter{}).mountTmpfs(probe, 1<<20); err != nil {
		skipUnlessPermitted(t, err)
		t.Fatal(err)
	}
	if err := (kernelMounter{}).unmount(probe); err != nil {
		t.Fatal(err)
	}
	e.m.mounter = kernelMounter{}
	return e
}

func TestKernelMounts(t *testing.T) {
	e := newKernelEnv(t)
	ctx := context.Background()
	if _, err := e.client.CoreV1().ConfigMaps("ns").Create(ctx, configMap("cfg", map[string]string{"key": "v1"}, nil), metaCreate); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CoreV1().Secrets("ns").Create(ctx, secret("sec", map[string]string{"pw": "s"}), metaCreate); err != nil {
		t.Fatal(err)
	}
	size := resource.MustParse("2Mi")
	pod := testPod(withVolumes(
		corev1.Volume{Name: "mem", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: &size}}},
		corev1.Volume{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "sec"}}},
		cmVolume("cfg", "cfg"),
	), withMounts(
		corev1.VolumeMount{Name: "cfg", MountPath: "/etc/key", SubPath: "key"},
		corev1.VolumeMount{Name: "mem", MountPath: "/data", SubPath: "sub/dir"},
	))
	t.Cleanup(func() {
		if err := e.m.Cleanup(pod.UID); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})

	paths, err := e.m.Setup(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mem", "sec"} {
		var st unix.Statfs_t
		if err := unix.Statfs(paths[name], &st); err != nil {
			t.Fatal(err)
		}
		if st.Type != unix.TMPFS_MAGIC {
			t.Errorf("%s is not on tmpfs (type %#x)", name, st.Type)
		}
	}
	var st unix.Statfs_t
	if err := unix.Statfs(paths["mem"], &st); err != nil || uint64(st.Blocks)*uint64(st.Bsize) != 2<<20 {
		t.Errorf("tmpfs size = %d blocks of %d, want 2Mi (%v)", st.Blocks, st.Bsize, err)
	}
	// The tmpfs root keeps the kernel's sticky 1777.
	if info, err := os.Stat(paths["mem"]); err != nil || info.Mode() != os.ModeDir|os.ModeSticky|0o777 {
		t.Errorf("tmpfs mode = %v, %v", info.Mode(), err)
	}

	// A second sync does not stack mounts.
	if _, err := e.m.Setup(ctx, pod); err != nil {
		t.Fatal(err)
	}
	mounts, err := e.m.mountsUnder(filepath.Join(e.dir, "uid-1"))
	if err != nil || len(mounts) != 2 {
		t.Errorf("mounts after two syncs: %v %v", mounts, err)
	}

	got, err := e.m.Mounts(pod, &pod.Spec.Containers[0], paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(got[0].HostPath); err != nil || string(data) != "v1" {
		t.Errorf("subPath of a config map reads %q, %v", data, err)
	}
	if err := os.WriteFile(filepath.Join(got[1].HostPath, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(paths["mem"], "sub", "dir", "f")); err != nil {
		t.Errorf("write through the subPath bind not in the volume: %v", err)
	}

	// A restarted container gets the same binds, and a changed config map
	// its new content.
	if _, err := e.client.CoreV1().ConfigMaps("ns").Update(ctx, configMap("cfg", map[string]string{"key": "v2"}, nil), metaUpdate); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Setup(ctx, pod); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(got[0].HostPath); string(data) != "v1" {
		t.Errorf("a running container's subPath changed under it: %q", data)
	}
	again, err := e.m.Mounts(pod, &pod.Spec.Containers[0], paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(again[0].HostPath); err != nil || string(data) != "v2" {
		t.Errorf("subPath after an update reads %q, %v", data, err)
	}
	mounts, _ = e.m.mountsUnder(filepath.Join(e.dir, "uid-1"))
	if len(mounts) != 4 {
		t.Errorf("mounts after a restart: %v, want 2 tmpfs and 2 binds", mounts)
	}

	if err := e.m.Cleanup(pod.UID); err != nil {
		t.Fatal(err)
	}
	if mounts, _ := e.m.mountsUnder(filepath.Join(e.dir, "uid-1")); len(mounts) != 0 {
		t.Errorf("mounts left after cleanup: %v", mounts)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "uid-1", "volumes")); !os.IsNotExist(err) {
		t.Errorf("volumes left after cleanup: %v", err)
	}
}

func TestParseMountInfo(t *testing.T) {
	data := `22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
35 22 0:31 / /var/lib/pods/u\040id/volumes/kubernetes.io~secret/a\134b rw,relatime shared:12 master:3 - tmpfs tmpfs rw,size=1024k
36 22 0:32 / /with\011tab rw - tmpfs tmpfs rw
`
	got, err := parseMountInfo([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := []mountPoint{
		{path: "/", fsType: "ext4"},
		{path: `/var/lib/pods/u id/volumes/kubernetes.io~secret/a\b`, fsType: "tmpfs"},
		{path: "/with\ttab", fsType: "tmpfs"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(mountPoint{})); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if _, err := parseMountInfo([]byte("garbage\n")); err == nil {
		t.Error("want an error for a malformed line")
	}
}
