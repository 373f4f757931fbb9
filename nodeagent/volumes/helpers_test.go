package volumes

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	testingclock "k8s.io/utils/clock/testing"
)

// fakeMounter keeps a mount table in memory.
type fakeMounter struct {
	mu         sync.Mutex
	mounts     []mountPoint
	sizes      map[string]int64
	unmountErr error
}

func (f *fakeMounter) mountTmpfs(target string, size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mounts = append(f.mounts, mountPoint{path: target, fsType: "tmpfs"})
	if f.sizes == nil {
		f.sizes = map[string]int64{}
	}
	f.sizes[target] = size
	return nil
}

func (f *fakeMounter) bindFD(_ int, target string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mounts = append(f.mounts, mountPoint{path: target, fsType: "bind"})
	return nil
}

func (f *fakeMounter) unmount(target string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unmountErr != nil {
		return f.unmountErr
	}
	for i := len(f.mounts) - 1; i >= 0; i-- {
		if f.mounts[i].path == target {
			f.mounts = append(f.mounts[:i], f.mounts[i+1:]...)
			return nil
		}
	}
	return &os.PathError{Op: "unmount", Path: target, Err: syscall.EINVAL}
}

func (f *fakeMounter) mountPoints() ([]mountPoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]mountPoint(nil), f.mounts...), nil
}

func (f *fakeMounter) fsType(path string) string {
	mps, _ := f.mountPoints()
	for _, mp := range mps {
		if mp.path == path {
			return mp.fsType
		}
	}
	return ""
}

var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type testEnv struct {
	m       *Manager
	client  *fake.Clientset
	mounter *fakeMounter
	clock   *testingclock.FakePassiveClock
	dir     string
	node    *corev1.Node
}

func newTestEnv(t *testing.T, objects ...runtime.Object) *testEnv {
	t.Helper()
	e := &testEnv{
		client:  fake.NewClientset(objects...),
		mounter: &fakeMounter{},
		clock:   testingclock.NewFakePassiveClock(testNow),
		dir:     t.TempDir(),
		node:    testNode(),
	}
	e.m = NewManager(e.client, e.dir, func() *corev1.Node { return e.node })
	e.m.mounter = e.mounter
	e.m.clock = e.clock
	return e
}

func testNode() *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "node-1"},
		Status: corev1.NodeStatus{
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.1.10"}},
			Allocatable: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("4"),
				corev1.ResourceMemory: resource.MustParse("8Gi"),
			},
		},
	}
}

type podOption func(*corev1.Pod)

func withVolumes(vols ...corev1.Volume) podOption {
	return func(p *corev1.Pod) { p.Spec.Volumes = append(p.Spec.Volumes, vols...) }
}

func withFSGroup(gid int64) podOption {
	return func(p *corev1.Pod) {
		if p.Spec.SecurityContext == nil {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{}
		}
		p.Spec.SecurityContext.FSGroup = &gid
	}
}

func withMounts(mounts ...corev1.VolumeMount) podOption {
	return func(p *corev1.Pod) {
		p.Spec.Containers[0].VolumeMounts = append(p.Spec.Containers[0].VolumeMounts, mounts...)
	}
}

func testPod(opts ...podOption) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "ns", Name: "web", UID: "uid-1",
			Labels:      map[string]string{"app": "web"},
			Annotations: map[string]string{"build": "42"},
		},
		Spec: corev1.PodSpec{
			NodeName:           "node-1",
			ServiceAccountName: "sa",
			Containers: []corev1.Container{{
				Name: "app",
				Resources: corev1.ResourceRequirements{
					Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")},
				},
			}},
		},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func configMap(name string, data map[string]string, binary map[string][]byte) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Data: data, BinaryData: binary}
}

func secret(name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func ptr[T any](v T) *T { return &v }

func cmVolume(name, cm string, items ...corev1.KeyToPath) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: cm}, Items: items,
	}}}
}

// dataDir returns the timestamped directory ..data points to.
func dataDir(t *testing.T, dir string) string {
	t.Helper()
	link, err := os.Readlink(filepath.Join(dir, "..data"))
	if err != nil {
		t.Fatal(err)
	}
	return link
}

func errorContains(err error, want string) bool {
	if want == "" {
		return err == nil
	}
	return err != nil && strings.Contains(err.Error(), want)
}

func isRoot() bool { return os.Geteuid() == 0 }

func skipUnlessPermitted(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, syscall.EPERM) {
		t.Skipf("mounting is not permitted here: %v", err)
	}
}

var (
	metaUpdate = metav1.UpdateOptions{}
	metaDelete = metav1.DeleteOptions{}
	metaCreate = metav1.CreateOptions{}
)

func typesUID(s string) types.UID { return types.UID(s) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
