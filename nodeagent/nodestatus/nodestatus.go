// Package nodestatus registers the agent's Node, keeps its status (capacity,
// addresses, node info, conditions, images) current and renews its Lease in
// kube-node-lease.
package nodestatus

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// Config describes the node to register.
type Config struct {
	NodeName string
	NodeIP   net.IP
	// Hostname reported as the node's Hostname address.
	Hostname string
	// KubeletPort is the port of the agent's API (10250).
	KubeletPort int32
	// KubeletVersion is reported in nodeInfo (v1.37.x).
	KubeletVersion string
	// RootDir is where pods' data lives; its filesystem is ephemeral-storage.
	RootDir string
	// MaxPods is the pods capacity (110 like upstream).
	MaxPods int64
	// PodCIDR is set on the Node when it is created, if non-empty.
	PodCIDR string
	// Labels added to the node's well-known ones.
	Labels map[string]string
	// Taints registered with the node.
	Taints []corev1.Taint
	// StatusFrequency is how often status is posted (10 s upstream).
	StatusFrequency time.Duration
	// LeaseDuration is the lease's duration (40 s upstream); it is renewed
	// every quarter of it.
	LeaseDuration time.Duration
}

// Reporter keeps one Node's registration, status and Lease.
type Reporter struct {
	cfg     Config
	client  kubernetes.Interface
	runtime internalapi.RuntimeService
	images  internalapi.ImageManagerService

	mu   sync.Mutex
	node *corev1.Node
	// networkReady is reported by the agent once pod networking is configured.
	networkReady bool
	// changed asks Run to post the status now.
	changed chan struct{}
}

// New returns a Reporter; Run starts it.
func New(cfg Config, client kubernetes.Interface, rs internalapi.RuntimeService, is internalapi.ImageManagerService) *Reporter {
	if cfg.StatusFrequency == 0 {
		cfg.StatusFrequency = 10 * time.Second
	}
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = 40 * time.Second
	}
	if cfg.MaxPods == 0 {
		cfg.MaxPods = 110
	}
	if cfg.KubeletPort == 0 {
		cfg.KubeletPort = 10250
	}
	return &Reporter{cfg: cfg, client: client, runtime: rs, images: is, changed: make(chan struct{}, 1)}
}

// Node returns the last Node object the reporter wrote or read.
func (r *Reporter) Node() *corev1.Node {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.node
}

// Register creates the Node or brings an existing one up to date. It returns
// once the Node exists.
func (r *Reporter) Register(ctx context.Context) error {
	return wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		if err := r.register(ctx); err != nil {
			klog.FromContext(ctx).Error(err, "Registering node", "node", r.cfg.NodeName)
			return false, nil
		}
		return true, nil
	})
}

func (r *Reporter) register(ctx context.Context) error {
	nodes := r.client.CoreV1().Nodes()
	node, err := nodes.Get(ctx, r.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		node = &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name:        r.cfg.NodeName,
			Annotations: map[string]string{"volumes.kubernetes.io/controller-managed-attach-detach": "true"},
		}}
		node.Spec.Taints = r.cfg.Taints
		if r.cfg.PodCIDR != "" {
			node.Spec.PodCIDR = r.cfg.PodCIDR
			node.Spec.PodCIDRs = []string{r.cfg.PodCIDR}
		}
		r.applyLabels(node)
		node, err = nodes.Create(ctx, node, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating node: %w", err)
		}
		if err != nil {
			node, err = nodes.Get(ctx, r.cfg.NodeName, metav1.GetOptions{})
		}
	}
	if err != nil {
		return fmt.Errorf("reading node: %w", err)
	}
	// An existing Node keeps its spec; the agent refreshes its labels.
	updated := node.DeepCopy()
	r.applyLabels(updated)
	if updated.Spec.PodCIDR == "" && r.cfg.PodCIDR != "" {
		updated.Spec.PodCIDR = r.cfg.PodCIDR
		updated.Spec.PodCIDRs = []string{r.cfg.PodCIDR}
	}
	if !equalMaps(updated.Labels, node.Labels) || updated.Spec.PodCIDR != node.Spec.PodCIDR {
		if node, err = nodes.Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("updating node labels: %w", err)
		}
	}
	r.mu.Lock()
	r.node = node
	r.mu.Unlock()
	return r.postStatus(ctx)
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func (r *Reporter) applyLabels(n *corev1.Node) {
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	n.Labels[corev1.LabelHostname] = r.cfg.NodeName
	n.Labels[corev1.LabelOSStable] = runtime.GOOS
	n.Labels[corev1.LabelArchStable] = runtime.GOARCH
	n.Labels["beta.kubernetes.io/os"] = runtime.GOOS
	n.Labels["beta.kubernetes.io/arch"] = runtime.GOARCH
	for k, v := range r.cfg.Labels {
		n.Labels[k] = v
	}
}

// SetNetworkReady records whether pod networking is configured; the Ready
// condition follows it.
func (r *Reporter) SetNetworkReady(ready bool) {
	r.mu.Lock()
	changed := r.networkReady != ready
	r.networkReady = ready
	r.mu.Unlock()
	if changed {
		select {
		case r.changed <- struct{}{}:
		default:
		}
	}
}

// Run posts status every StatusFrequency and renews the Lease until ctx ends.
func (r *Reporter) Run(ctx context.Context) {
	logger := klog.FromContext(ctx)
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		if err := r.renewLease(ctx); err != nil {
			logger.Error(err, "Renewing node lease", "node", r.cfg.NodeName)
		}
	}, r.cfg.LeaseDuration/4)
	t := time.NewTicker(r.cfg.StatusFrequency)
	defer t.Stop()
	for {
		if err := r.postStatus(ctx); err != nil {
			logger.Error(err, "Posting node status", "node", r.cfg.NodeName)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.changed:
		}
	}
}

func (r *Reporter) renewLease(ctx context.Context) error {
	leases := r.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	lease, err := leases.Get(ctx, r.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		lease = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: r.cfg.NodeName, Namespace: corev1.NamespaceNodeLease},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       ptr.To(r.cfg.NodeName),
				LeaseDurationSeconds: ptr.To(int32(r.cfg.LeaseDuration / time.Second)),
				RenewTime:            &now,
			},
		}
		if n := r.Node(); n != nil {
			lease.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: n.Name, UID: n.UID}}
		}
		_, err = leases.Create(ctx, lease, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	lease.Spec.RenewTime = &now
	lease.Spec.HolderIdentity = ptr.To(r.cfg.NodeName)
	lease.Spec.LeaseDurationSeconds = ptr.To(int32(r.cfg.LeaseDuration / time.Second))
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}

// postStatus computes the node's status and writes it with a retry on
// conflict.
func (r *Reporter) postStatus(ctx context.Context) error {
	status := r.status(ctx)
	nodes := r.client.CoreV1().Nodes()
	for attempt := 0; attempt < 5; attempt++ {
		node, err := nodes.Get(ctx, r.cfg.NodeName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			// Deleted behind our back: register again.
			return r.register(ctx)
		}
		if err != nil {
			return err
		}
		updated := node.DeepCopy()
		mergeStatus(&updated.Status, status, time.Now())
		node, err = nodes.UpdateStatus(ctx, updated, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.node = node
		r.mu.Unlock()
		return nil
	}
	return fmt.Errorf("node status: too many conflicts")
}

// mergeStatus writes want into s, keeping each condition's transition time
// while its status is unchanged.
func mergeStatus(s *corev1.NodeStatus, want corev1.NodeStatus, now time.Time) {
	old := map[corev1.NodeConditionType]corev1.NodeCondition{}
	for _, c := range s.Conditions {
		old[c.Type] = c
	}
	conds := make([]corev1.NodeCondition, 0, len(want.Conditions))
	for _, c := range want.Conditions {
		c.LastHeartbeatTime = metav1.NewTime(now)
		c.LastTransitionTime = metav1.NewTime(now)
		if o, ok := old[c.Type]; ok && o.Status == c.Status {
			c.LastTransitionTime = o.LastTransitionTime
		}
		conds = append(conds, c)
	}
	want.Conditions = conds
	// Volumes are tracked by attach/detach, not by the agent.
	want.VolumesInUse = s.VolumesInUse
	want.VolumesAttached = s.VolumesAttached
	*s = want
}

func (r *Reporter) status(ctx context.Context) corev1.NodeStatus {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(memoryTotal(), resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(r.cfg.MaxPods, resource.DecimalSI),
		"hugepages-1Gi":       *resource.NewQuantity(0, resource.BinarySI),
		"hugepages-2Mi":       *resource.NewQuantity(0, resource.BinarySI),
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(r.cfg.RootDir, &fs); err == nil {
		capacity[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(int64(fs.Blocks)*fs.Bsize, resource.BinarySI)
	}
	allocatable := capacity.DeepCopy()

	runtimeVersion := "containerd://unknown"
	runtimeReady, runtimeMsg := false, "container runtime status check may not have completed yet"
	if v, err := r.runtime.Version(ctx, "v1"); err == nil {
		runtimeVersion = v.RuntimeName + "://" + v.RuntimeVersion
		runtimeReady, runtimeMsg = true, ""
	} else {
		runtimeMsg = "container runtime is down: " + err.Error()
	}
	r.mu.Lock()
	networkReady := r.networkReady
	r.mu.Unlock()

	ready := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status"}
	switch {
	case !runtimeReady:
		ready.Status, ready.Reason, ready.Message = corev1.ConditionFalse, "KubeletNotReady", runtimeMsg
	case !networkReady:
		ready.Status, ready.Reason, ready.Message = corev1.ConditionFalse, "KubeletNotReady",
			"container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"
	}
	conditions := []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
		ready,
	}

	addresses := []corev1.NodeAddress{}
	if r.cfg.NodeIP != nil {
		addresses = append(addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: r.cfg.NodeIP.String()})
	}
	addresses = append(addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: r.cfg.Hostname})

	var uts unix.Utsname
	_ = unix.Uname(&uts)
	info := corev1.NodeSystemInfo{
		MachineID:               readTrimmed("/etc/machine-id"),
		SystemUUID:              readTrimmed("/sys/class/dmi/id/product_uuid"),
		BootID:                  readTrimmed("/proc/sys/kernel/random/boot_id"),
		KernelVersion:           unix.ByteSliceToString(uts.Release[:]),
		OSImage:                 osImage(),
		ContainerRuntimeVersion: runtimeVersion,
		KubeletVersion:          r.cfg.KubeletVersion,
		OperatingSystem:         runtime.GOOS,
		Architecture:            runtime.GOARCH,
	}
	return corev1.NodeStatus{
		Capacity:        capacity,
		Allocatable:     allocatable,
		Conditions:      conditions,
		Addresses:       addresses,
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: r.cfg.KubeletPort}},
		NodeInfo:        info,
		Images:          r.nodeImages(ctx),
	}
}

// nodeImages lists the runtime's images, largest first, at most 50 as upstream.
func (r *Reporter) nodeImages(ctx context.Context) []corev1.ContainerImage {
	imgs, err := r.images.ListImages(ctx, &runtimeapi.ImageFilter{})
	if err != nil {
		return nil
	}
	out := make([]corev1.ContainerImage, 0, len(imgs))
	for _, img := range imgs {
		names := append(append([]string{}, img.RepoDigests...), img.RepoTags...)
		if len(names) == 0 {
			continue
		}
		out = append(out, corev1.ContainerImage{Names: names, SizeBytes: int64(img.GetSize())})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].SizeBytes > out[j].SizeBytes })
	if len(out) > 50 {
		out = out[:50]
	}
	return out
}

func readTrimmed(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func osImage() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return runtime.GOOS
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return runtime.GOOS
}

func memoryTotal() int64 {
	var info unix.Sysinfo_t
	if err := unix.Sysinfo(&info); err != nil {
		return 0
	}
	return int64(info.Totalram) * int64(info.Unit)
}
