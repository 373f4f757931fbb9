package volumes

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestSetupEmptyDir(t *testing.T) {
	q := func(s string) *resource.Quantity { v := resource.MustParse(s); return &v }
	tests := []struct {
		name     string
		src      corev1.EmptyDirVolumeSource
		wantFS   string
		wantSize int64
		wantErr  string
	}{
		{name: "disk", src: corev1.EmptyDirVolumeSource{}},
		{name: "disk ignores sizeLimit", src: corev1.EmptyDirVolumeSource{SizeLimit: q("1Mi")}},
		{name: "memory, sized by the pod's limit", src: corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}, wantFS: "tmpfs", wantSize: 64 << 20},
		{name: "memory with a smaller sizeLimit", src: corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: q("1Mi")}, wantFS: "tmpfs", wantSize: 1 << 20},
		{name: "memory with a larger sizeLimit", src: corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: q("1Gi")}, wantFS: "tmpfs", wantSize: 64 << 20},
		{name: "hugepages", src: corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumHugePages}, wantErr: `storage medium "HugePages" is not supported by this node`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			pod := testPod(withVolumes(corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &tt.src}}))
			paths, err := e.m.Setup(context.Background(), pod)
			if !errorContains(err, tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			if tt.wantErr != "" {
				return
			}
			dir := paths["scratch"]
			if want := filepath.Join(e.dir, "uid-1", "volumes", emptyDirKind, "scratch"); dir != want {
				t.Errorf("path = %q, want %q", dir, want)
			}
			info, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode() != os.ModeDir|0o777 {
				t.Errorf("mode = %v, want drwxrwxrwx", info.Mode())
			}
			if got := e.mounter.fsType(dir); got != tt.wantFS {
				t.Errorf("mounted fs = %q, want %q", got, tt.wantFS)
			}
			if got := e.mounter.sizes[dir]; got != tt.wantSize {
				t.Errorf("tmpfs size = %d, want %d", got, tt.wantSize)
			}

			// Later syncs leave a ready volume alone, contents and mode.
			if err := os.WriteFile(filepath.Join(dir, "data"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if _, err := e.m.Setup(context.Background(), pod); err != nil {
				t.Fatal(err)
			}
			if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
				t.Errorf("ready volume was set up again: %v %v", info.Mode(), err)
			}
			if mps, _ := e.mounter.mountPoints(); len(mps) > 1 {
				t.Errorf("tmpfs mounted again: %v", mps)
			}
			if _, err := os.Stat(filepath.Join(dir, "data")); err != nil {
				t.Errorf("contents lost: %v", err)
			}
		})
	}
}

func TestSetupEmptyDirRemountsLostTmpfs(t *testing.T) {
	e := newTestEnv(t)
	pod := testPod(withVolumes(corev1.Volume{Name: "mem", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}}))
	paths, err := e.m.Setup(context.Background(), pod)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.mounter.unmount(paths["mem"]); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Setup(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	if got := e.mounter.fsType(paths["mem"]); got != "tmpfs" {
		t.Errorf("tmpfs not mounted again, fs = %q", got)
	}
}

func TestTmpfsSize(t *testing.T) {
	q := func(s string) *resource.Quantity { v := resource.MustParse(s); return &v }
	limited := func(mem string) corev1.Container {
		return corev1.Container{Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(mem)}}}
	}
	always := corev1.ContainerRestartPolicyAlways
	sidecar := limited("100Mi")
	sidecar.RestartPolicy = &always
	tests := []struct {
		name      string
		spec      corev1.PodSpec
		node      *corev1.Node
		sizeLimit *resource.Quantity
		want      int64
	}{
		{name: "nothing known", spec: corev1.PodSpec{Containers: []corev1.Container{{}}}, want: 0},
		{name: "allocatable", spec: corev1.PodSpec{Containers: []corev1.Container{{}}}, node: testNode(), want: 8 << 30},
		{name: "a container without limit: allocatable", spec: corev1.PodSpec{Containers: []corev1.Container{limited("1Gi"), {}}}, node: testNode(), want: 8 << 30},
		{name: "sum of containers", spec: corev1.PodSpec{Containers: []corev1.Container{limited("1Gi"), limited("1Gi")}}, node: testNode(), want: 2 << 30},
		{name: "init container peak", spec: corev1.PodSpec{InitContainers: []corev1.Container{limited("3Gi")}, Containers: []corev1.Container{limited("1Gi")}}, node: testNode(), want: 3 << 30},
		{name: "sidecars run alongside", spec: corev1.PodSpec{InitContainers: []corev1.Container{sidecar, limited("1Gi")}, Containers: []corev1.Container{limited("100Mi")}}, node: testNode(), want: (1 << 30) + 100<<20},
		{name: "overhead", spec: corev1.PodSpec{Containers: []corev1.Container{limited("1Gi")}, Overhead: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Mi")}}, node: testNode(), want: (1 << 30) + 1<<20},
		{name: "pod level limit", spec: corev1.PodSpec{Resources: &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")}}, Containers: []corev1.Container{{}}}, node: testNode(), want: 2 << 30},
		{name: "limit above allocatable is capped", spec: corev1.PodSpec{Containers: []corev1.Container{limited("16Gi")}}, node: testNode(), want: 8 << 30},
		{name: "sizeLimit", spec: corev1.PodSpec{Containers: []corev1.Container{limited("1Gi")}}, node: testNode(), sizeLimit: q("10Mi"), want: 10 << 20},
		{name: "sizeLimit without a node", spec: corev1.PodSpec{Containers: []corev1.Container{{}}}, sizeLimit: q("10Mi"), want: 10 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tmpfsSize(&corev1.Pod{Spec: tt.spec}, tt.node, tt.sizeLimit); got != tt.want {
				t.Errorf("tmpfsSize = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestSetupHostPath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	tests := []struct {
		name     string
		path     string
		typ      corev1.HostPathType
		wantErr  string
		wantType corev1.HostPathType // what the path is afterwards
	}{
		{name: "unset type does not check", path: filepath.Join(dir, "missing"), typ: corev1.HostPathUnset},
		{name: "directory or create creates", path: filepath.Join(dir, "new/nested"), typ: corev1.HostPathDirectoryOrCreate, wantType: corev1.HostPathDirectory},
		{name: "directory or create on a file", path: file, typ: corev1.HostPathDirectoryOrCreate, wantErr: "hostPath type check failed: " + file + " is not a directory, it's a File"},
		{name: "directory", path: dir, typ: corev1.HostPathDirectory, wantType: corev1.HostPathDirectory},
		{name: "missing directory", path: filepath.Join(dir, "missing"), typ: corev1.HostPathDirectory,
			wantErr: "hostPath type check failed, " + filepath.Join(dir, "missing") + " is not a directory, unable to determine its type: path \"" + filepath.Join(dir, "missing") + "\" does not exist"},
		{name: "file or create creates", path: filepath.Join(dir, "newfile"), typ: corev1.HostPathFileOrCreate, wantType: corev1.HostPathFile},
		{name: "file", path: file, typ: corev1.HostPathFile, wantType: corev1.HostPathFile},
		{name: "file on a directory", path: dir, typ: corev1.HostPathFile, wantErr: "is not a file, it's a Directory"},
		{name: "socket", path: sock, typ: corev1.HostPathSocket, wantType: corev1.HostPathSocket},
		{name: "socket on a file", path: file, typ: corev1.HostPathSocket, wantErr: "is not a socket file, it's a File"},
		{name: "char device", path: "/dev/null", typ: corev1.HostPathCharDev, wantType: corev1.HostPathCharDev},
		{name: "block device on a char device", path: "/dev/null", typ: corev1.HostPathBlockDev, wantErr: "hostPath type check failed: /dev/null is not a block device, it's a CharDevice"},
		{name: "char device on a file", path: file, typ: corev1.HostPathCharDev, wantErr: "is not a character device, it's a File"},
		{name: "backsteps", path: dir + "/../x", typ: corev1.HostPathUnset, wantErr: "invalid HostPath `" + dir + "/../x`: must not contain '..'"},
		{name: "invalid type", path: dir, typ: "Pipe", wantErr: "Pipe is an invalid volume type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			typ := tt.typ
			pod := testPod(withVolumes(corev1.Volume{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: tt.path, Type: &typ}}}))
			paths, err := e.m.Setup(context.Background(), pod)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), `MountVolume.SetUp failed for volume "host" : `) {
					t.Fatalf("error = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if paths["host"] != tt.path {
				t.Errorf("path = %q, want %q", paths["host"], tt.path)
			}
			if tt.wantType != "" {
				if got, err := fileType(tt.path); err != nil || got != tt.wantType {
					t.Errorf("path is %q (%v), want %q", got, err, tt.wantType)
				}
			}
		})
	}
}
