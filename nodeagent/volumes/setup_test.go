package volumes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/capstan-dev/capstan/nodeagent/volumes/atomicwriter/atomicwritertest"
)

func TestSetupAtomicVolumes(t *testing.T) {
	objects := []runtime.Object{
		configMap("cfg", map[string]string{"a": "1", "b": "2"}, map[string][]byte{"bin": {0, 1, 2}}),
		secret("sec", map[string]string{"user": "admin", "pass": "hunter2"}),
	}
	tests := []struct {
		name    string
		volume  corev1.Volume
		kind    string
		want    map[string]string
		wantErr string
	}{
		{
			name:   "config map, all keys with data and binaryData",
			volume: cmVolume("vol", "cfg"),
			kind:   configMapKind,
			want:   map[string]string{"a": "-rw-r--r-- 1", "b": "-rw-r--r-- 2", "bin": "-rw-r--r-- \x00\x01\x02"},
		},
		{
			name: "config map items with nested paths, item mode and defaultMode",
			volume: func() corev1.Volume {
				v := cmVolume("vol", "cfg", corev1.KeyToPath{Key: "a", Path: "dir/sub/a.txt"}, corev1.KeyToPath{Key: "bin", Path: "bin", Mode: ptr[int32](0o400)})
				v.ConfigMap.DefaultMode = ptr[int32](0o600)
				return v
			}(),
			kind: configMapKind,
			want: map[string]string{"dir/sub/a.txt": "-rw------- 1", "bin": "-r-------- \x00\x01\x02"},
		},
		{
			name: "optional missing config map is an empty volume",
			volume: func() corev1.Volume {
				v := cmVolume("vol", "nope")
				v.ConfigMap.Optional = ptr(true)
				return v
			}(),
			kind: configMapKind,
			want: map[string]string{},
		},
		{
			name:    "missing config map",
			volume:  cmVolume("vol", "nope"),
			wantErr: `MountVolume.SetUp failed for volume "vol" : configmap "nope" not found`,
		},
		{
			name:    "missing config map key",
			volume:  cmVolume("vol", "cfg", corev1.KeyToPath{Key: "zzz", Path: "z"}),
			wantErr: `MountVolume.SetUp failed for volume "vol" : configmap references non-existent config key: zzz`,
		},
		{
			name: "missing key of an optional config map is skipped",
			volume: func() corev1.Volume {
				v := cmVolume("vol", "cfg", corev1.KeyToPath{Key: "zzz", Path: "z"}, corev1.KeyToPath{Key: "a", Path: "a"})
				v.ConfigMap.Optional = ptr(true)
				return v
			}(),
			kind: configMapKind,
			want: map[string]string{"a": "-rw-r--r-- 1"},
		},
		{
			name:    "invalid item path",
			volume:  cmVolume("vol", "cfg", corev1.KeyToPath{Key: "a", Path: "../escape"}),
			wantErr: "invalid path: must not contain '..': ../escape",
		},
		{
			name:    "absolute item path",
			volume:  cmVolume("vol", "cfg", corev1.KeyToPath{Key: "a", Path: "/etc/passwd"}),
			wantErr: "invalid path: must be relative path: /etc/passwd",
		},
		{
			name:   "secret, all keys",
			volume: corev1.Volume{Name: "vol", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "sec"}}},
			kind:   secretKind,
			want:   map[string]string{"user": "-rw-r--r-- admin", "pass": "-rw-r--r-- hunter2"},
		},
		{
			name: "secret items",
			volume: corev1.Volume{Name: "vol", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				SecretName: "sec", DefaultMode: ptr[int32](0o440), Items: []corev1.KeyToPath{{Key: "pass", Path: "creds/password"}},
			}}},
			kind: secretKind,
			want: map[string]string{"creds/password": "-r--r----- hunter2"},
		},
		{
			name:    "missing secret",
			volume:  corev1.Volume{Name: "vol", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "nope"}}},
			wantErr: `MountVolume.SetUp failed for volume "vol" : secret "nope" not found`,
		},
		{
			name: "missing secret key",
			volume: corev1.Volume{Name: "vol", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				SecretName: "sec", Items: []corev1.KeyToPath{{Key: "nope", Path: "x"}},
			}}},
			wantErr: `MountVolume.SetUp failed for volume "vol" : references non-existent secret key: nope`,
		},
		{
			name:   "optional missing secret",
			volume: corev1.Volume{Name: "vol", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "nope", Optional: ptr(true)}}},
			kind:   secretKind,
			want:   map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, objects...)
			pod := testPod(withVolumes(tt.volume))
			paths, err := e.m.Setup(context.Background(), pod)
			if tt.wantErr != "" {
				if !errorContains(err, tt.wantErr) {
					t.Fatalf("error = %v, want containing %q", err, tt.wantErr)
				}
				var se *SetupError
				if !errors.As(err, &se) || se.Volume != "vol" {
					t.Errorf("error %v is not a *SetupError of volume vol", err)
				}
				if _, ok := paths["vol"]; ok {
					t.Errorf("failed volume has a path")
				}
				if _, err := os.Stat(filepath.Join(e.dir, "uid-1", "volumes", tt.kind, "vol")); tt.kind != "" && err == nil {
					t.Errorf("failed volume left a directory")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := filepath.Join(e.dir, "uid-1", "volumes", tt.kind, "vol")
			if paths["vol"] != want {
				t.Errorf("path = %q, want %q", paths["vol"], want)
			}
			if diff := cmp.Diff(tt.want, atomicwritertest.Files(t, want)); diff != "" {
				t.Errorf("files (-want +got)\n%s", diff)
			}
			// Secrets live in memory, config maps on disk.
			wantFS := map[string]string{secretKind: "tmpfs"}[tt.kind]
			if got := e.mounter.fsType(want); got != wantFS {
				t.Errorf("mounted filesystem = %q, want %q", got, wantFS)
			}
		})
	}
}

func TestSetupLiveUpdate(t *testing.T) {
	e := newTestEnv(t, configMap("cfg", map[string]string{"a": "1", "b": "2"}, nil))
	pod := testPod(withVolumes(cmVolume("vol", "cfg")))
	ctx := context.Background()
	paths, err := e.m.Setup(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	dir := paths["vol"]
	first := dataDir(t, dir)

	// Nothing changed: nothing is rewritten.
	if _, err := e.m.Setup(ctx, pod); err != nil {
		t.Fatal(err)
	}
	if got := dataDir(t, dir); got != first {
		t.Errorf("unchanged config map rewritten: %s -> %s", first, got)
	}

	// The config map changes: the volume follows, the old version goes.
	cm := configMap("cfg", map[string]string{"a": "one", "c": "3"}, nil)
	if _, err := e.client.CoreV1().ConfigMaps("ns").Update(ctx, cm, metaUpdate); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Setup(ctx, pod); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"a": "-rw-r--r-- one", "c": "-rw-r--r-- 3"}, atomicwritertest.Files(t, dir)); diff != "" {
		t.Errorf("files (-want +got)\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, first)); !os.IsNotExist(err) {
		t.Errorf("old data directory %s still there (%v)", first, err)
	}

	// Deleted: the sync reports it, the volume keeps its last contents
	// and stays available to containers.
	if err := e.client.CoreV1().ConfigMaps("ns").Delete(ctx, "cfg", metaDelete); err != nil {
		t.Fatal(err)
	}
	paths, err = e.m.Setup(ctx, pod)
	if !errorContains(err, `configmap "cfg" not found`) {
		t.Fatalf("error = %v", err)
	}
	if paths["vol"] != dir {
		t.Errorf("published volume dropped after a failed refresh: %v", paths)
	}
	if got := atomicwritertest.Files(t, dir); len(got) != 2 {
		t.Errorf("files after deletion = %v, want the last contents", got)
	}
}

func TestSetupDownwardAPI(t *testing.T) {
	item := func(path, field string) corev1.DownwardAPIVolumeFile {
		return corev1.DownwardAPIVolumeFile{Path: path, FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: field}}
	}
	res := func(path, container, name, divisor string) corev1.DownwardAPIVolumeFile {
		f := corev1.DownwardAPIVolumeFile{Path: path, ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: container, Resource: name}}
		if divisor != "" {
			f.ResourceFieldRef.Divisor = resource.MustParse(divisor)
		}
		return f
	}
	tests := []struct {
		name    string
		items   []corev1.DownwardAPIVolumeFile
		mode    *int32
		want    map[string]string
		wantErr string
	}{
		{
			name: "metadata",
			items: []corev1.DownwardAPIVolumeFile{
				item("labels", "metadata.labels"), item("annotations", "metadata.annotations"),
				item("name", "metadata.name"), item("namespace", "metadata.namespace"), item("uid", "metadata.uid"),
				item("app", "metadata.labels['app']"),
			},
			want: map[string]string{
				"labels": `-rw-r--r-- app="web"`, "annotations": `-rw-r--r-- build="42"`,
				"name": "-rw-r--r-- web", "namespace": "-rw-r--r-- ns", "uid": "-rw-r--r-- uid-1", "app": "-rw-r--r-- web",
			},
		},
		{
			name:  "node fields and modes",
			items: []corev1.DownwardAPIVolumeFile{item("node", "spec.nodeName"), item("host", "status.hostIP"), {Path: "sa", Mode: ptr[int32](0o400), FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.serviceAccountName"}}},
			mode:  ptr[int32](0o444),
			want:  map[string]string{"node": "-r--r--r-- node-1", "host": "-r--r--r-- 192.168.1.10", "sa": "-r-------- sa"},
		},
		{
			name: "resources, limits defaulting to allocatable",
			items: []corev1.DownwardAPIVolumeFile{
				res("cpu_limit", "app", "limits.cpu", "1m"), res("mem_limit", "app", "limits.memory", "1Mi"), res("cpu_request", "app", "requests.cpu", ""),
			},
			want: map[string]string{"cpu_limit": "-rw-r--r-- 4000", "mem_limit": "-rw-r--r-- 64", "cpu_request": "-rw-r--r-- 0"},
		},
		{
			name:    "all failures reported",
			items:   []corev1.DownwardAPIVolumeFile{item("phase", "status.phase"), res("x", "nope", "limits.cpu", ""), item("name", "metadata.name")},
			wantErr: `MountVolume.SetUp failed for volume "info" : [unsupported fieldPath: status.phase, container nope not found]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			pod := testPod(withVolumes(corev1.Volume{Name: "info", VolumeSource: corev1.VolumeSource{
				DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: tt.items, DefaultMode: tt.mode},
			}}))
			paths, err := e.m.Setup(context.Background(), pod)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, atomicwritertest.Files(t, paths["info"])); diff != "" {
				t.Errorf("files (-want +got)\n%s", diff)
			}
		})
	}
}

func TestSetupDownwardAPIFollowsLabels(t *testing.T) {
	e := newTestEnv(t)
	pod := testPod(withVolumes(corev1.Volume{Name: "info", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
		Items: []corev1.DownwardAPIVolumeFile{{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}}},
	}}}))
	paths, err := e.m.Setup(context.Background(), pod)
	if err != nil {
		t.Fatal(err)
	}
	pod.Labels["tier"] = "front"
	if _, err := e.m.Setup(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"labels": "-rw-r--r-- app=\"web\"\ntier=\"front\""}, atomicwritertest.Files(t, paths["info"])); diff != "" {
		t.Errorf("files (-want +got)\n%s", diff)
	}
}

func TestSetupJoinsVolumeErrors(t *testing.T) {
	e := newTestEnv(t, configMap("cfg", map[string]string{"a": "1"}, nil))
	pod := testPod(withVolumes(
		cmVolume("good", "cfg"),
		cmVolume("bad1", "missing"),
		corev1.Volume{Name: "bad2", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}}},
		corev1.Volume{Name: "implicit"},
	))
	paths, err := e.m.Setup(context.Background(), pod)
	var got []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		got = append(got, e.Error())
	}
	want := []string{
		`MountVolume.SetUp failed for volume "bad1" : configmap "missing" not found`,
		`MountVolume.SetUp failed for volume "bad2" : volume type is not supported by this node`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got)\n%s", diff)
	}
	if diff := cmp.Diff([]string{"good", "implicit"}, sortedKeys(paths)); diff != "" {
		t.Errorf("ready volumes (-want +got)\n%s", diff)
	}
	if !strings.Contains(paths["implicit"], emptyDirKind) {
		t.Errorf("a volume without a source is not an emptyDir: %s", paths["implicit"])
	}
}

func TestSetupRejectsBadUID(t *testing.T) {
	e := newTestEnv(t)
	for _, uid := range []string{"", "..", "a/b"} {
		pod := testPod()
		pod.UID = typesUID(uid)
		if _, err := e.m.Setup(context.Background(), pod); !errorContains(err, "invalid pod UID") {
			t.Errorf("uid %q: error = %v", uid, err)
		}
	}
}

func TestFSGroupOwnership(t *testing.T) {
	if !isRoot() {
		t.Skip("changing a file's group to an arbitrary gid needs root")
	}
	const gid = 4321
	e := newTestEnv(t, configMap("cfg", map[string]string{"a": "1"}, nil))
	pod := testPod(withFSGroup(gid), withVolumes(
		cmVolume("cfg", "cfg", corev1.KeyToPath{Key: "a", Path: "sub/a", Mode: ptr[int32](0o400)}),
		corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	))
	paths, err := e.m.Setup(context.Background(), pod)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path     string
		wantMode os.FileMode
	}{
		{path: filepath.Join(paths["cfg"], "sub", "a"), wantMode: 0o440},
		{path: filepath.Join(paths["cfg"], "sub"), wantMode: os.ModeDir | os.ModeSetgid | 0o755},
		{path: paths["scratch"], wantMode: os.ModeDir | os.ModeSetgid | 0o777},
	}
	for _, tt := range tests {
		info, err := os.Stat(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Sys().(*syscall.Stat_t).Gid; got != gid {
			t.Errorf("%s: gid = %d, want %d", tt.path, got, gid)
		}
		if info.Mode() != tt.wantMode {
			t.Errorf("%s: mode = %v, want %v", tt.path, info.Mode(), tt.wantMode)
		}
	}
	if fi, err := os.Lstat(filepath.Join(paths["cfg"], "sub")); err != nil || fi.Sys().(*syscall.Stat_t).Gid != gid {
		t.Errorf("user-visible symlink not group-owned: %v", err)
	}
}

func TestSetupConcurrentPods(t *testing.T) {
	e := newTestEnv(t, configMap("cfg", map[string]string{"a": "1"}, nil))
	ts := &tokenServer{env: e}
	ts.install()
	var pods []*corev1.Pod
	for i := range 3 {
		p := testPod(withVolumes(cmVolume("cfg", "cfg"), tokenVolume("token", "", 3600),
			corev1.Volume{Name: "mem", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}}))
		p.UID = typesUID(fmt.Sprintf("uid-%d", i))
		pods = append(pods, p)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(pods))
	for _, p := range pods {
		for range 4 {
			wg.Go(func() {
				if _, err := e.m.Setup(context.Background(), p); err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// One token and one tmpfs per pod: syncs of a pod do not interleave.
	if len(ts.requests) != len(pods) {
		t.Errorf("%d token requests, want %d", len(ts.requests), len(pods))
	}
	if mps, _ := e.mounter.mountPoints(); len(mps) != 2*len(pods) {
		t.Errorf("%d mounts, want %d", len(mps), 2*len(pods))
	}
}
