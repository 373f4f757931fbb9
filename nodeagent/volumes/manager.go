package volumes

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/capstan-dev/capstan/nodeagent/volumes/atomicwriter"
)

// Directory names of the volume kinds, as the kubelet names its plugins, so
// a node's layout looks familiar.
const (
	emptyDirKind    = "kubernetes.io~empty-dir"
	configMapKind   = "kubernetes.io~configmap"
	secretKind      = "kubernetes.io~secret"
	downwardAPIKind = "kubernetes.io~downward-api"
	projectedKind   = "kubernetes.io~projected"

	volumesDir    = "volumes"
	pluginsDir    = "plugins"
	subPathsDir   = "volume-subpaths"
	podDirMode    = 0o750
	volumeDirMode = 0o777
)

// Manager prepares pods' volumes under <podsDir>/<podUID>.
type Manager struct {
	client  kubernetes.Interface
	podsDir string
	node    func() *corev1.Node
	rro     func() bool
	mounter mounter
	clock   clock.PassiveClock

	mu   sync.Mutex
	pods map[types.UID]*podState
}

// podState is what the manager keeps per pod between syncs; its mutex
// serializes Setup, Mounts and Cleanup of one pod.
type podState struct {
	mu     sync.Mutex
	tokens map[string]*cachedToken
}

// Option configures a Manager.
type Option func(*Manager)

// WithRecursiveReadOnly tells the manager whether the container runtime
// supports recursive read-only mounts; without it, recursiveReadOnly
// IfPossible mounts are plain read-only and Enabled ones fail.
func WithRecursiveReadOnly(supported func() bool) Option {
	return func(m *Manager) { m.rro = supported }
}

// NewManager returns a Manager that keeps pod directories under podsDir,
// reads config maps, secrets, tokens and trust bundles through client, and
// asks node for the current node object (allocatable, addresses); node may
// return nil while the node is not known.
func NewManager(client kubernetes.Interface, podsDir string, node func() *corev1.Node, opts ...Option) *Manager {
	m := &Manager{
		client:  client,
		podsDir: podsDir,
		node:    node,
		rro:     func() bool { return false },
		mounter: kernelMounter{},
		clock:   clock.RealClock{},
		pods:    map[types.UID]*podState{},
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

// SetupError is the failure of one volume; its message has the kubelet's
// FailedMount shape.
type SetupError struct {
	Volume string
	Err    error
}

func (e *SetupError) Error() string {
	return fmt.Sprintf("MountVolume.SetUp failed for volume %q : %v", e.Volume, e.Err)
}

func (e *SetupError) Unwrap() error { return e.Err }

// Setup creates or refreshes every volume of pod and returns the host path
// of each volume that is ready. It is idempotent and meant to run on every
// pod sync: contents of configMap, secret, downwardAPI and projected volumes
// follow their sources, and service account tokens are renewed. The error
// joins one *SetupError per failing volume (for FailedMount events). A
// volume that never got set up is left out of the map; one whose refresh
// failed stays in it with its last contents.
func (m *Manager) Setup(ctx context.Context, pod *corev1.Pod) (map[string]string, error) {
	podDir, err := m.podDir(pod.UID)
	if err != nil {
		return nil, err
	}
	st := m.lockPod(pod.UID)
	defer st.mu.Unlock()

	if err := os.MkdirAll(filepath.Join(podDir, volumesDir), podDirMode); err != nil {
		return nil, fmt.Errorf("creating volumes directory of pod %s: %w", pod.UID, err)
	}
	// Paths handed to the runtime and compared with the mount table must
	// not go through symlinks.
	if podDir, err = filepath.EvalSymlinks(podDir); err != nil {
		return nil, fmt.Errorf("resolving pod directory: %w", err)
	}
	s := &setup{m: m, ctx: ctx, pod: pod, state: st, podDir: podDir}
	paths := make(map[string]string, len(pod.Spec.Volumes))
	var errs []error
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		p, err := s.volume(v)
		if err != nil {
			errs = append(errs, &SetupError{Volume: v.Name, Err: err})
			// Like the kubelet, keep serving what an earlier sync
			// published when only a refresh failed (say, the secret was
			// deleted): containers that restart still get the volume.
			p = s.published(v)
		}
		if p != "" {
			paths[v.Name] = p
		}
	}
	return paths, errors.Join(errs...)
}

// Cleanup unmounts everything the manager mounted for the pod (tmpfs
// volumes, subPath binds) and removes its volume directories. Nothing is
// removed while a mount is left, so a failed unmount never deletes through
// it into a tmpfs or a host directory. Call it once the pod's containers are
// gone.
func (m *Manager) Cleanup(podUID types.UID) error {
	podDir, err := m.podDir(podUID)
	if err != nil {
		return err
	}
	st := m.lockPod(podUID)
	defer st.mu.Unlock()

	if podDir, err = filepath.EvalSymlinks(podDir); errors.Is(err, fs.ErrNotExist) {
		m.forgetPod(podUID)
		return nil
	} else if err != nil {
		return fmt.Errorf("resolving pod directory: %w", err)
	}
	mounts, err := m.mountsUnder(podDir)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range mounts {
		if err := m.mounter.unmount(p); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("unmounting volumes of pod %s: %w", podUID, err)
	}
	if left, err := m.mountsUnder(podDir); err != nil {
		return err
	} else if len(left) > 0 {
		return fmt.Errorf("volumes of pod %s still mounted at %s", podUID, strings.Join(left, ", "))
	}
	for _, d := range []string{volumesDir, subPathsDir, pluginsDir} {
		if err := os.RemoveAll(filepath.Join(podDir, d)); err != nil {
			return fmt.Errorf("removing volumes of pod %s: %w", podUID, err)
		}
	}
	m.forgetPod(podUID)
	return nil
}

// mountsUnder returns the mount points below dir, deepest first.
func (m *Manager) mountsUnder(dir string) ([]string, error) {
	mps, err := m.mounter.mountPoints()
	if err != nil {
		return nil, fmt.Errorf("reading mount table: %w", err)
	}
	var out []string
	for _, mp := range mps {
		if strings.HasPrefix(mp.path, dir+string(os.PathSeparator)) {
			out = append(out, mp.path)
		}
	}
	// Deepest first; a path mounted twice is unmounted twice.
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out, nil
}

func (m *Manager) podDir(uid types.UID) (string, error) {
	u := string(uid)
	if u == "" || u == "." || u == ".." || strings.ContainsAny(u, `/\`) {
		return "", fmt.Errorf("invalid pod UID %q", u)
	}
	dir, err := filepath.Abs(filepath.Join(m.podsDir, u))
	if err != nil {
		return "", fmt.Errorf("pod directory: %w", err)
	}
	return dir, nil
}

// lockPod returns the pod's state, locked.
func (m *Manager) lockPod(uid types.UID) *podState {
	m.mu.Lock()
	st, ok := m.pods[uid]
	if !ok {
		st = &podState{tokens: map[string]*cachedToken{}}
		m.pods[uid] = st
	}
	m.mu.Unlock()
	st.mu.Lock()
	return st
}

func (m *Manager) forgetPod(uid types.UID) {
	m.mu.Lock()
	delete(m.pods, uid)
	m.mu.Unlock()
}

// setup is one Setup call of one pod.
type setup struct {
	m      *Manager
	ctx    context.Context
	pod    *corev1.Pod
	state  *podState
	podDir string

	mounts map[string]string // mount point -> fs type, read once per call
}

func (s *setup) volume(v *corev1.Volume) (string, error) {
	switch {
	case v.EmptyDir != nil:
		return s.emptyDir(v.Name, v.EmptyDir)
	case v.HostPath != nil:
		return hostPath(v.HostPath)
	case v.ConfigMap != nil:
		return s.configMapVolume(v.Name, v.ConfigMap)
	case v.Secret != nil:
		return s.secretVolume(v.Name, v.Secret)
	case v.DownwardAPI != nil:
		return s.downwardAPIVolume(v.Name, v.DownwardAPI)
	case v.Projected != nil:
		return s.projectedVolume(v.Name, v.Projected)
	case v.VolumeSource == corev1.VolumeSource{}:
		// The API treats a volume without a source as an emptyDir.
		return s.emptyDir(v.Name, &corev1.EmptyDirVolumeSource{})
	}
	return "", fmt.Errorf("volume type is not supported by this node")
}

// published returns the directory of a configMap, secret, downwardAPI or
// projected volume that an earlier sync published, "" if none did.
func (s *setup) published(v *corev1.Volume) string {
	var kind string
	switch {
	case v.ConfigMap != nil:
		kind = configMapKind
	case v.Secret != nil:
		kind = secretKind
	case v.DownwardAPI != nil:
		kind = downwardAPIKind
	case v.Projected != nil:
		kind = projectedKind
	default:
		return ""
	}
	dir := s.volumeDir(kind, v.Name)
	if _, err := os.Lstat(filepath.Join(dir, atomicwriter.DataDirName)); err != nil {
		return ""
	}
	return dir
}

func (s *setup) volumeDir(kind, name string) string {
	return filepath.Join(s.podDir, volumesDir, kind, name)
}

func (s *setup) currentNode() *corev1.Node {
	if s.m.node == nil {
		return nil
	}
	return s.m.node()
}

func (s *setup) fsGroup() *int64 {
	if sc := s.pod.Spec.SecurityContext; sc != nil {
		return sc.FSGroup
	}
	return nil
}

// mountedFS returns the filesystem type mounted on dir, "" if none.
func (s *setup) mountedFS(dir string) (string, error) {
	if s.mounts == nil {
		mps, err := s.m.mounter.mountPoints()
		if err != nil {
			return "", fmt.Errorf("reading mount table: %w", err)
		}
		s.mounts = make(map[string]string, len(mps))
		for _, mp := range mps {
			s.mounts[mp.path] = mp.fsType
		}
	}
	return s.mounts[dir], nil
}

func (s *setup) mountTmpfs(dir string, size int64) error {
	if err := s.m.mounter.mountTmpfs(dir, size); err != nil {
		return err
	}
	if s.mounts != nil {
		s.mounts[dir] = "tmpfs"
	}
	return nil
}
