package pods

import (
	"context"
	"net"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/flowcontrol"
	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/nodeagent/podenv"
	"github.com/capstan-dev/capstan/nodeagent/probe"
	"github.com/capstan-dev/capstan/nodeagent/staticpods"
)

// Volumes prepares a pod's volumes on the node.
type Volumes interface {
	Setup(ctx context.Context, pod *corev1.Pod) (map[string]string, error)
	Mounts(pod *corev1.Pod, c *corev1.Container, paths map[string]string, env map[string]string) ([]*runtimeapi.Mount, error)
	Cleanup(uid types.UID) error
}

// Prober runs a container's probes and reports their results.
type Prober interface {
	AddContainer(ctx context.Context, pod *corev1.Pod, c *corev1.Container, containerID string, started time.Time)
	RemoveContainer(uid types.UID, container string)
	RemovePod(uid types.UID)
	Readiness(uid types.UID, container string) (ready bool, known bool)
	Started(uid types.UID, container string) bool
	KillRequested(uid types.UID, container string) (probe.Kill, bool)
}

// EnvFunc computes a container's environment; an error becomes the
// container's CreateContainerConfigError.
type EnvFunc func(ctx context.Context, pod *corev1.Pod, c *corev1.Container) ([]podenv.EnvVar, error)

// Config is the pod manager's configuration.
type Config struct {
	NodeName string
	NodeIP   net.IP
	// PodsDir holds each pod's data: <PodsDir>/<uid>/{volumes,etc-hosts,containers}.
	PodsDir string
	// LogsDir holds container logs: <LogsDir>/<ns>_<name>_<uid>/<container>/<n>.log.
	LogsDir string
	// CgroupRoot is the parent of every pod's cgroup.
	CgroupRoot string
	// ClusterDNS and ClusterDomain configure ClusterFirst DNS.
	ClusterDNS    []string
	ClusterDomain string
	// ResolvConf is the node's resolver configuration for DNSPolicy Default.
	ResolvConf string
	// Node returns the agent's Node (for mirror pods' owner).
	Node func() *corev1.Node
	// OnSandboxIP is called with the addresses of every new sandbox.
	OnSandboxIP func(ips []string)
	// SyncPeriod is how often a steady pod is checked again (default 10s).
	SyncPeriod time.Duration
}

// Manager runs the pods bound to the node.
type Manager struct {
	cfg      Config
	client   kubernetes.Interface
	runtime  internalapi.RuntimeService
	images   internalapi.ImageManagerService
	volumes  Volumes
	prober   Prober
	env      EnvFunc
	recorder record.EventRecorder
	lister   corelisters.PodLister
	informer cache.SharedIndexInformer
	factory  informers.SharedInformerFactory

	backoff     *flowcontrol.Backoff
	pullBackoff *flowcontrol.Backoff

	mu      sync.Mutex
	workers map[types.UID]*worker
	// static pods by UID, from manifest files.
	static map[types.UID]*corev1.Pod
	ctx    context.Context
}

// New returns a pod manager; Run starts it.
func New(cfg Config, client kubernetes.Interface, rs internalapi.RuntimeService, is internalapi.ImageManagerService,
	vols Volumes, prober Prober, env EnvFunc, recorder record.EventRecorder) *Manager {
	if cfg.SyncPeriod == 0 {
		cfg.SyncPeriod = 10 * time.Second
	}
	if cfg.ClusterDomain == "" {
		cfg.ClusterDomain = "cluster.local"
	}
	if cfg.ResolvConf == "" {
		cfg.ResolvConf = "/etc/resolv.conf"
	}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0,
		informers.WithTweakListOptions(func(o *metav1ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", cfg.NodeName).String()
		}))
	inf := factory.Core().V1().Pods()
	return &Manager{
		cfg: cfg, client: client, runtime: rs, images: is, volumes: vols, prober: prober, env: env, recorder: recorder,
		factory: factory, informer: inf.Informer(), lister: inf.Lister(),
		backoff:     flowcontrol.NewBackOff(10*time.Second, 300*time.Second),
		pullBackoff: flowcontrol.NewBackOff(10*time.Second, 300*time.Second),
		workers:     map[types.UID]*worker{},
	}
}

// Lister lists the pods bound to the node.
func (m *Manager) Lister() corelisters.PodLister { return m.lister }

// Run watches the node's pods and runs a worker per pod until ctx ends.
// Containers keep running when the agent stops.
func (m *Manager) Run(ctx context.Context) {
	m.mu.Lock()
	m.ctx = ctx
	m.mu.Unlock()
	_, _ = m.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { m.kick(obj) },
		UpdateFunc: func(_, obj any) { m.kick(obj) },
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			m.kick(obj)
		},
	})
	m.factory.Start(ctx.Done())
	m.factory.WaitForCacheSync(ctx.Done())
	m.mu.Lock()
	var static []*corev1.Pod
	for _, p := range m.static {
		static = append(static, p)
	}
	m.mu.Unlock()
	for _, p := range static {
		m.kick(p)
	}
	go m.collectOrphans(ctx)
	<-ctx.Done()
	m.factory.Shutdown()
}

// Kick makes the pod's worker sync soon (used by probe results).
func (m *Manager) Kick(uid types.UID) {
	m.mu.Lock()
	w := m.workers[uid]
	m.mu.Unlock()
	if w != nil {
		w.trigger()
	}
}

func (m *Manager) kick(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if staticpods.IsMirror(pod) {
		// The static pod's worker owns it: refresh that one.
		uid := types.UID(pod.Annotations[staticpods.AnnotationMirror])
		m.mu.Lock()
		w := m.workers[uid]
		m.mu.Unlock()
		if w != nil {
			w.trigger()
		}
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctx == nil || m.ctx.Err() != nil {
		return
	}
	w := m.workers[pod.UID]
	if w == nil {
		w = newWorker(m, pod.Namespace, pod.Name, pod.UID)
		m.workers[pod.UID] = w
		go w.run(m.ctx)
	}
	w.trigger()
}

func (m *Manager) workerDone(uid types.UID) {
	m.mu.Lock()
	delete(m.workers, uid)
	m.mu.Unlock()
}

// collectOrphans removes sandboxes of pods this node no longer has, for
// instance pods deleted while the agent was down.
func (m *Manager) collectOrphans(ctx context.Context) {
	logger := klog.FromContext(ctx)
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		sbs, err := m.runtime.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{labelNode: m.cfg.NodeName}})
		if err == nil {
			for _, sb := range sbs {
				uid := types.UID(sb.Labels[labelPodUID])
				m.mu.Lock()
				_, active := m.workers[uid]
				m.mu.Unlock()
				if active {
					continue
				}
				if _, err := m.podByUID(uid); err == nil {
					continue
				}
				logger.V(2).Info("Removing sandbox of a pod the node no longer has", "podUID", uid, "sandbox", sb.Id)
				m.kick(&corev1.Pod{ObjectMeta: metav1ObjectMeta(sb.Labels[labelPodNamespace], sb.Labels[labelPodName], uid)})
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *Manager) podByUID(uid types.UID) (*corev1.Pod, error) {
	if p, _ := m.staticPod(uid); p != nil {
		return p, nil
	}
	pods, err := m.lister.List(labelsEverything())
	if err != nil {
		return nil, err
	}
	for _, p := range pods {
		if p.UID == uid {
			return p, nil
		}
	}
	return nil, errNotFound
}
