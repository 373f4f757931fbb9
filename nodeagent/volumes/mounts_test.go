package volumes

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestMounts(t *testing.T) {
	private := runtimeapi.MountPropagation_PROPAGATION_PRIVATE
	prop := func(m corev1.MountPropagationMode) *corev1.MountPropagationMode { return &m }
	rro := func(m corev1.RecursiveReadOnlyMode) *corev1.RecursiveReadOnlyMode { return &m }
	volumes := []corev1.Volume{
		{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		cmVolume("cfg", "cfg"),
		{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}},
	}
	paths := map[string]string{"scratch": "/pods/uid-1/volumes/e/scratch", "cfg": "/pods/uid-1/volumes/c/cfg", "host": "/var/log"}
	tests := []struct {
		name    string
		mounts  []corev1.VolumeMount
		rro     bool
		want    []*runtimeapi.Mount
		wantErr string
	}{
		{
			name: "plain, read-only and always read-only",
			mounts: []corev1.VolumeMount{
				{Name: "scratch", MountPath: "/scratch"},
				{Name: "host", MountPath: "/logs", ReadOnly: true},
				{Name: "cfg", MountPath: "etc/cfg"},
			},
			want: []*runtimeapi.Mount{
				{ContainerPath: "/scratch", HostPath: paths["scratch"], Propagation: private},
				{ContainerPath: "/logs", HostPath: "/var/log", Readonly: true, Propagation: private},
				{ContainerPath: "/etc/cfg", HostPath: paths["cfg"], Readonly: true, Propagation: private},
			},
		},
		{
			name: "propagation",
			mounts: []corev1.VolumeMount{
				{Name: "host", MountPath: "/a", MountPropagation: prop(corev1.MountPropagationNone)},
				{Name: "host", MountPath: "/b", MountPropagation: prop(corev1.MountPropagationHostToContainer)},
				{Name: "host", MountPath: "/c", MountPropagation: prop(corev1.MountPropagationBidirectional)},
			},
			want: []*runtimeapi.Mount{
				{ContainerPath: "/a", HostPath: "/var/log", Propagation: private},
				{ContainerPath: "/b", HostPath: "/var/log", Propagation: runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER},
				{ContainerPath: "/c", HostPath: "/var/log", Propagation: runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL},
			},
		},
		{
			name:    "invalid propagation",
			mounts:  []corev1.VolumeMount{{Name: "host", MountPath: "/a", MountPropagation: prop("Sideways")}},
			wantErr: `invalid MountPropagation mode: "Sideways"`,
		},
		{
			name: "recursive read-only if possible, without runtime support",
			mounts: []corev1.VolumeMount{
				{Name: "host", MountPath: "/a", ReadOnly: true, RecursiveReadOnly: rro(corev1.RecursiveReadOnlyIfPossible)},
				{Name: "host", MountPath: "/b", ReadOnly: true, RecursiveReadOnly: rro(corev1.RecursiveReadOnlyDisabled)},
			},
			want: []*runtimeapi.Mount{
				{ContainerPath: "/a", HostPath: "/var/log", Readonly: true, Propagation: private},
				{ContainerPath: "/b", HostPath: "/var/log", Readonly: true, Propagation: private},
			},
		},
		{
			name:   "recursive read-only with runtime support",
			rro:    true,
			mounts: []corev1.VolumeMount{{Name: "host", MountPath: "/a", ReadOnly: true, RecursiveReadOnly: rro(corev1.RecursiveReadOnlyEnabled)}},
			want:   []*runtimeapi.Mount{{ContainerPath: "/a", HostPath: "/var/log", Readonly: true, RecursiveReadOnly: true, Propagation: private}},
		},
		{
			name:    "recursive read-only required but unsupported",
			mounts:  []corev1.VolumeMount{{Name: "host", MountPath: "/a", ReadOnly: true, RecursiveReadOnly: rro(corev1.RecursiveReadOnlyEnabled)}},
			wantErr: `failed to resolve recursive read-only mode: volume "host" requested recursive read-only mode, but it is not supported by the runtime`,
		},
		{
			name:    "recursive read-only on a writable mount",
			rro:     true,
			mounts:  []corev1.VolumeMount{{Name: "host", MountPath: "/a", RecursiveReadOnly: rro(corev1.RecursiveReadOnlyEnabled)}},
			wantErr: `failed to resolve recursive read-only mode: volume "host" requested recursive read-only mode, but it is not read-only`,
		},
		{
			name:    "recursive read-only with propagation",
			rro:     true,
			mounts:  []corev1.VolumeMount{{Name: "host", MountPath: "/a", ReadOnly: true, RecursiveReadOnly: rro(corev1.RecursiveReadOnlyIfPossible), MountPropagation: prop(corev1.MountPropagationHostToContainer)}},
			wantErr: `failed to resolve recursive read-only mode: volume "host" requested recursive read-only mode, but it is not compatible with propagation "HostToContainer"`,
		},
		{
			name:    "unknown volume",
			mounts:  []corev1.VolumeMount{{Name: "nope", MountPath: "/a"}},
			wantErr: `cannot find volume "nope" to mount into container "app"`,
		},
		{
			name:    "absolute subPath",
			mounts:  []corev1.VolumeMount{{Name: "scratch", MountPath: "/a", SubPath: "/etc"}},
			wantErr: "error SubPath `/etc` must not be an absolute path",
		},
		{
			name:    "subPath with backsteps",
			mounts:  []corev1.VolumeMount{{Name: "scratch", MountPath: "/a", SubPath: "x/../../etc"}},
			wantErr: "unable to provision SubPath `x/../../etc`: must not contain '..'",
		},
		{
			name:    "subPathExpr with an unset variable",
			mounts:  []corev1.VolumeMount{{Name: "scratch", MountPath: "/a", SubPathExpr: "$(POD_NAME)/$(MISSING)/$(EMPTY)/$(ALSO_MISSING)"}},
			wantErr: "missing value for ALSO_MISSING, EMPTY, MISSING",
		},
		{
			name:    "subPathExpr expanding to backsteps",
			mounts:  []corev1.VolumeMount{{Name: "scratch", MountPath: "/a", SubPathExpr: "$(UP)/etc"}},
			wantErr: "unable to provision SubPath `../etc`: must not contain '..'",
		},
		{
			name:    "subPathExpr expanding to an absolute path",
			mounts:  []corev1.VolumeMount{{Name: "scratch", MountPath: "/a", SubPathExpr: "$(ROOT)etc"}},
			wantErr: "error SubPath `/etc` must not be an absolute path",
		},
	}
	env := map[string]string{"POD_NAME": "web", "EMPTY": "", "UP": "..", "ROOT": "/"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.m.rro = func() bool { return tt.rro }
			pod := testPod(withVolumes(volumes...), withMounts(tt.mounts...))
			got, err := e.m.Mounts(pod, &pod.Spec.Containers[0], paths, env)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v\nwant    %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("mounts (-want +got)\n%s", diff)
			}
		})
	}
}

func TestMountsSubPath(t *testing.T) {
	e := newTestEnv(t, configMap("cfg", map[string]string{"key": "v"}, nil))
	pod := testPod(withVolumes(
		corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		cmVolume("cfg", "cfg"),
	), withMounts(
		corev1.VolumeMount{Name: "scratch", MountPath: "/data", SubPathExpr: "logs/$(POD_NAME)"},
		corev1.VolumeMount{Name: "cfg", MountPath: "/etc/key", SubPath: "key"},
		corev1.VolumeMount{Name: "scratch", MountPath: "/existing", SubPath: "logs"},
	))
	paths, err := e.m.Setup(context.Background(), pod)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.m.Mounts(pod, &pod.Spec.Containers[0], paths, map[string]string{"POD_NAME": "web"})
	if err != nil {
		t.Fatal(err)
	}
	podDir := filepath.Join(e.dir, "uid-1")
	var hostPaths []string
	for _, m := range got {
		hostPaths = append(hostPaths, m.HostPath)
	}
	want := []string{
		filepath.Join(podDir, "volume-subpaths", "scratch", "app", "0"),
		filepath.Join(podDir, "volume-subpaths", "cfg", "app", "1"),
		filepath.Join(podDir, "volume-subpaths", "scratch", "app", "2"),
	}
	if diff := cmp.Diff(want, hostPaths); diff != "" {
		t.Errorf("host paths (-want +got)\n%s", diff)
	}
	// The missing subPath was created with the volume's mode.
	info, err := os.Stat(filepath.Join(paths["scratch"], "logs", "web"))
	if err != nil || info.Mode() != os.ModeDir|0o777 {
		t.Errorf("created subPath: %v %v", info, err)
	}
	// Bind targets match what they bind: a directory, a file.
	if info, err := os.Stat(want[0]); err != nil || !info.IsDir() {
		t.Errorf("target of a directory: %v %v", info, err)
	}
	if info, err := os.Stat(want[1]); err != nil || !info.Mode().IsRegular() {
		t.Errorf("target of a file: %v %v", info, err)
	}
	mps, _ := e.mounter.mountPoints()
	if len(mps) != 3 {
		t.Errorf("mounts %v, want 3 binds", mps)
	}
}

func TestMountsSubPathEscapes(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("host"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		prepare func(t *testing.T, vol string)
		subPath string
		wantErr string
	}{
		{
			name:    "absolute symlink out of the volume",
			prepare: func(t *testing.T, vol string) { symlink(t, outside, filepath.Join(vol, "link")) },
			subPath: "link/secret",
			wantErr: `failed to prepare subPath for volumeMount "scratch" of container "app"`,
		},
		{
			name:    "relative symlink out of the volume",
			prepare: func(t *testing.T, vol string) { symlink(t, "../../../../..", filepath.Join(vol, "up")) },
			subPath: "up",
			wantErr: `failed to prepare subPath for volumeMount "scratch" of container "app"`,
		},
		{
			name:    "missing directory under an escaping symlink",
			prepare: func(t *testing.T, vol string) { symlink(t, outside, filepath.Join(vol, "link")) },
			subPath: "link/new",
			wantErr: `failed to prepare subPath for volumeMount "scratch" of container "app"`,
		},
		{
			name:    "missing directory under a dangling escaping symlink",
			prepare: func(t *testing.T, vol string) { symlink(t, filepath.Join(outside, "gone"), filepath.Join(vol, "link")) },
			subPath: "link/new",
			wantErr: `failed to prepare subPath for volumeMount "scratch" of container "app"`,
		},
		{
			name: "symlink within the volume",
			prepare: func(t *testing.T, vol string) {
				if err := os.MkdirAll(filepath.Join(vol, "real"), 0o755); err != nil {
					t.Fatal(err)
				}
				symlink(t, "real", filepath.Join(vol, "alias"))
			},
			subPath: "alias",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			pod := testPod(withVolumes(corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}),
				withMounts(corev1.VolumeMount{Name: "scratch", MountPath: "/x", SubPath: tt.subPath}))
			paths, err := e.m.Setup(context.Background(), pod)
			if err != nil {
				t.Fatal(err)
			}
			tt.prepare(t, paths["scratch"])
			_, err = e.m.Mounts(pod, &pod.Spec.Containers[0], paths, nil)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var spe *SubPathError
			if err == nil || err.Error() != tt.wantErr || !errors.As(err, &spe) || spe.Err == nil {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), e.dir) {
				t.Errorf("message shows host paths: %v", err)
			}
			if _, err := os.Stat(filepath.Join(outside, "new")); err == nil {
				t.Errorf("a directory was created outside the volume")
			}
			if mps, _ := e.mounter.mountPoints(); len(mps) != 0 {
				t.Errorf("something was mounted: %v", mps)
			}
		})
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func TestCleanup(t *testing.T) {
	tests := []struct {
		name       string
		unmountErr error
		wantErr    string
		wantGone   bool
	}{
		{name: "unmounts and removes", wantGone: true},
		{name: "keeps everything when an unmount fails", unmountErr: errors.New("busy"), wantErr: "unmounting volumes of pod uid-1: busy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, secret("sec", map[string]string{"k": "v"}))
			pod := testPod(withVolumes(
				corev1.Volume{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "sec"}}},
				corev1.Volume{Name: "mem", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}},
			), withMounts(corev1.VolumeMount{Name: "sec", MountPath: "/k", SubPath: "k"}))
			paths, err := e.m.Setup(context.Background(), pod)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.m.Mounts(pod, &pod.Spec.Containers[0], paths, nil); err != nil {
				t.Fatal(err)
			}
			// A mount elsewhere is none of the pod's business.
			if err := e.mounter.mountTmpfs("/elsewhere", 0); err != nil {
				t.Fatal(err)
			}
			e.mounter.unmountErr = tt.unmountErr
			err = e.m.Cleanup(pod.UID)
			if !errorContains(err, tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			mps, _ := e.mounter.mountPoints()
			podDir := filepath.Join(e.dir, "uid-1")
			_, statErr := os.Stat(filepath.Join(podDir, "volumes"))
			if tt.wantGone {
				if diff := cmp.Diff([]mountPoint{{path: "/elsewhere", fsType: "tmpfs"}}, mps, cmp.AllowUnexported(mountPoint{})); diff != "" {
					t.Errorf("mounts left (-want +got)\n%s", diff)
				}
				if !os.IsNotExist(statErr) {
					t.Errorf("volumes directory left: %v", statErr)
				}
				if _, err := os.Stat(podDir); err != nil {
					t.Errorf("the pod directory itself is not the manager's to remove: %v", err)
				}
			} else if statErr != nil {
				t.Errorf("volumes removed although still mounted: %v", statErr)
			}
		})
	}
}

func TestCleanupUnknownPod(t *testing.T) {
	e := newTestEnv(t)
	if err := e.m.Cleanup("never-seen"); err != nil {
		t.Fatal(err)
	}
}

func TestNestedMountpoints(t *testing.T) {
	tests := []struct {
		name   string
		mounts []corev1.VolumeMount
		want   []string
		err    string
	}{
		{name: "none", mounts: []corev1.VolumeMount{{Name: "v", MountPath: "/etc/v"}, {Name: "w", MountPath: "/etc/w"}}},
		{name: "direct children only", mounts: []corev1.VolumeMount{
			{Name: "v", MountPath: "/dir"}, {Name: "a", MountPath: "/dir/nested"}, {Name: "b", MountPath: "/dir/nested/double"},
			{Name: "c", MountPath: "/dir/nested-vol"}, {Name: "d", MountPath: "/dir2"},
		}, want: []string{"nested", "nested-vol"}},
		{name: "trailing slash", mounts: []corev1.VolumeMount{{Name: "v", MountPath: "/dir/"}, {Name: "a", MountPath: "/dir/x/"}}, want: []string{"x"}},
		{name: "escape", mounts: []corev1.VolumeMount{{Name: "v", MountPath: "../up"}}, err: "invalid container mount point ../up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod(withMounts(tt.mounts...))
			got, err := nestedMountpoints("v", pod)
			if !errorContains(err, tt.err) {
				t.Fatalf("error = %v, want %q", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestSetupMakesNestedMountpoints(t *testing.T) {
	e := newTestEnv(t, configMap("cfg", map[string]string{"a": "1"}, nil))
	pod := testPod(withVolumes(cmVolume("cfg", "cfg"), corev1.Volume{Name: "inner"}),
		withMounts(corev1.VolumeMount{Name: "cfg", MountPath: "/etc/cfg"}, corev1.VolumeMount{Name: "inner", MountPath: "/etc/cfg/inner"}))
	paths, err := e.m.Setup(context.Background(), pod)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(filepath.Join(paths["cfg"], "inner")); err != nil || !info.IsDir() {
		t.Errorf("nested mount point not created: %v", err)
	}
	// Still there after the payload is rewritten.
	if _, err := e.client.CoreV1().ConfigMaps("ns").Update(context.Background(), configMap("cfg", map[string]string{"b": "2"}, nil), metaUpdate); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Setup(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(paths["cfg"], "inner")); err != nil {
		t.Errorf("nested mount point lost on update: %v", err)
	}
}
