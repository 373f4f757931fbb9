package pods

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/capstan-dev/capstan/nodeagent/podenv"
)

// containerKind tells regular init, sidecar and app containers apart.
type containerKind int

const (
	kindApp containerKind = iota
	kindInit
	kindSidecar
	kindEphemeral
)

// waiting is a reason the agent could not start a container.
type waiting struct {
	reason, message string
}

func (w *waiting) Error() string { return w.message }

// ensureImage makes the image present per the pull policy.
func (s *podSync) ensureImage(ctx context.Context, c *corev1.Container, sbCfg *runtimeapi.PodSandboxConfig) (string, *waiting) {
	spec := &runtimeapi.ImageSpec{Image: c.Image}
	st, err := s.m.images.ImageStatus(ctx, spec, false)
	present := err == nil && st.GetImage() != nil
	policy := c.ImagePullPolicy
	if policy == "" {
		policy = corev1.PullIfNotPresent
	}
	switch {
	case policy == corev1.PullNever && !present:
		msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image)
		s.event(corev1.EventTypeWarning, "ErrImageNeverPull", msg)
		return "", &waiting{"ErrImageNeverPull", msg}
	case present && policy != corev1.PullAlways:
		s.eventOnce("Pulled:"+c.Name, corev1.EventTypeNormal, "Pulled", fmt.Sprintf("Container image %q already present on machine", c.Image))
		return st.GetImage().GetId(), nil
	}
	key := string(s.uid) + "/" + c.Image
	if s.m.pullBackoff.IsInBackOffSinceUpdate(key, time.Now()) {
		msg := fmt.Sprintf("Back-off pulling image %q", c.Image)
		s.event(corev1.EventTypeNormal, "BackOff", msg)
		return "", &waiting{"ImagePullBackOff", msg}
	}
	s.event(corev1.EventTypeNormal, "Pulling", fmt.Sprintf("Pulling image %q", c.Image))
	start := time.Now()
	ref, err := s.m.images.PullImage(ctx, spec, nil, sbCfg)
	if err != nil {
		s.m.pullBackoff.Next(key, time.Now())
		msg := fmt.Sprintf("Failed to pull image %q: %v", c.Image, err)
		s.event(corev1.EventTypeWarning, "Failed", msg)
		s.event(corev1.EventTypeWarning, "Failed", "Error: ErrImagePull")
		return "", &waiting{"ErrImagePull", msg}
	}
	s.m.pullBackoff.Reset(key)
	s.event(corev1.EventTypeNormal, "Pulled", fmt.Sprintf("Successfully pulled image %q in %s", c.Image, time.Since(start).Round(time.Millisecond)))
	return ref, nil
}

// terminationLogPath is the host file mounted at the container's
// terminationMessagePath for one container instance.
func (m *Manager) terminationLogPath(pod *corev1.Pod, name string, restart int32) string {
	return filepath.Join(m.podDir(pod), "containers", name, strconv.Itoa(int(restart)))
}

// startContainer creates and starts one instance of c in the sandbox.
func (s *podSync) startContainer(ctx context.Context, c *corev1.Container, kind containerKind, restart int32,
	sandboxID string, sbCfg *runtimeapi.PodSandboxConfig, volumePaths map[string]string, podIPs []string) *waiting {
	imageRef, w := s.ensureImage(ctx, c, sbCfg)
	if w != nil {
		return w
	}
	// The environment and downward API see the addresses the sandbox just
	// got, before they reach the API.
	pod := s.pod.DeepCopy()
	if len(podIPs) > 0 {
		pod.Status.PodIP = podIPs[0]
		pod.Status.PodIPs = nil
		for _, ip := range podIPs {
			pod.Status.PodIPs = append(pod.Status.PodIPs, corev1.PodIP{IP: ip})
		}
	}
	if s.m.cfg.NodeIP != nil {
		pod.Status.HostIP = s.m.cfg.NodeIP.String()
		pod.Status.HostIPs = []corev1.HostIP{{IP: pod.Status.HostIP}}
	}
	envs, err := s.m.env(ctx, pod, c)
	if err != nil {
		s.event(corev1.EventTypeWarning, "Failed", "Error: "+err.Error())
		return &waiting{"CreateContainerConfigError", err.Error()}
	}
	envMap := map[string]string{}
	var kvs []*runtimeapi.KeyValue
	for _, e := range envs {
		envMap[e.Name] = e.Value
		kvs = append(kvs, &runtimeapi.KeyValue{Key: e.Name, Value: []byte(e.Value)})
	}
	mounts, err := s.m.volumes.Mounts(pod, c, volumePaths, envMap)
	if err != nil {
		s.event(corev1.EventTypeWarning, "Failed", "Error: "+err.Error())
		return &waiting{"CreateContainerConfigError", err.Error()}
	}
	if !hostNetwork(pod) && !mountsPath(c, "/etc/hosts") {
		hosts, err := s.m.writeHostsFile(pod, podIPs)
		if err != nil {
			return &waiting{"CreateContainerError", err.Error()}
		}
		mounts = append(mounts, &runtimeapi.Mount{ContainerPath: "/etc/hosts", HostPath: hosts})
	}
	if c.TerminationMessagePath != "" && !mountsPath(c, c.TerminationMessagePath) {
		p := s.m.terminationLogPath(pod, c.Name, restart)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return &waiting{"CreateContainerError", err.Error()}
		}
		if err := os.WriteFile(p, nil, 0o666); err != nil {
			return &waiting{"CreateContainerError", err.Error()}
		}
		_ = os.Chmod(p, 0o666)
		mounts = append(mounts, &runtimeapi.Mount{ContainerPath: c.TerminationMessagePath, HostPath: p})
	}
	cfg, err := s.containerConfig(c, kind, restart, imageRef, kvs, envMap, mounts)
	if err != nil {
		s.event(corev1.EventTypeWarning, "Failed", "Error: "+err.Error())
		return &waiting{"CreateContainerConfigError", err.Error()}
	}
	id, err := s.m.runtime.CreateContainer(ctx, sandboxID, cfg, sbCfg)
	if err != nil {
		msg := err.Error()
		s.event(corev1.EventTypeWarning, "Failed", "Error: "+msg)
		return &waiting{"CreateContainerError", msg}
	}
	s.event(corev1.EventTypeNormal, "Created", "Created container: "+c.Name)
	if err := s.m.runtime.StartContainer(ctx, id); err != nil {
		msg := err.Error()
		s.event(corev1.EventTypeWarning, "Failed", "Error: "+msg)
		// The container stays as an exited instance, which counts as a
		// failed attempt (restart policy and back-off apply).
		return &waiting{"RunContainerError", msg}
	}
	s.event(corev1.EventTypeNormal, "Started", "Started container "+c.Name)
	if c.Lifecycle != nil && c.Lifecycle.PostStart != nil {
		if msg, err := s.runHook(ctx, c, id, c.Lifecycle.PostStart, podIPs); err != nil {
			s.event(corev1.EventTypeWarning, "FailedPostStartHook", msg)
			_ = s.m.runtime.StopContainer(ctx, id, gracePeriod(pod))
			return &waiting{"PostStartHookError", msg}
		}
	}
	s.m.prober.AddContainer(ctx, pod, c, id, time.Now())
	return nil
}

func mountsPath(c *corev1.Container, p string) bool {
	for _, m := range c.VolumeMounts {
		if filepath.Clean(m.MountPath) == filepath.Clean(p) {
			return true
		}
	}
	return false
}

func gracePeriod(pod *corev1.Pod) int64 {
	if pod.DeletionGracePeriodSeconds != nil {
		return *pod.DeletionGracePeriodSeconds
	}
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		return *pod.Spec.TerminationGracePeriodSeconds
	}
	return 30
}

// containerConfig is the CRI description of one container instance.
func (s *podSync) containerConfig(c *corev1.Container, kind containerKind, restart int32, imageRef string,
	envs []*runtimeapi.KeyValue, env map[string]string, mounts []*runtimeapi.Mount) (*runtimeapi.ContainerConfig, error) {
	pod := s.pod
	cmd := make([]string, len(c.Command))
	for i, a := range c.Command {
		cmd[i] = podenv.Expand(a, env)
	}
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = podenv.Expand(a, env)
	}
	ann := map[string]string{
		annRestartCount:      strconv.Itoa(int(restart)),
		annTerminationPath:   c.TerminationMessagePath,
		annTerminationPolicy: string(c.TerminationMessagePolicy),
	}
	switch kind {
	case kindInit:
		ann[annContainerIsInit] = "true"
	case kindSidecar:
		ann[annContainerIsSidecar] = "true"
	}
	labels := map[string]string{
		labelPodName: pod.Name, labelPodNamespace: pod.Namespace, labelPodUID: string(pod.UID),
		labelContainerName: c.Name, labelNode: s.m.cfg.NodeName,
	}
	cfg := &runtimeapi.ContainerConfig{
		Metadata:    &runtimeapi.ContainerMetadata{Name: c.Name, Attempt: uint32(restart)},
		Image:       &runtimeapi.ImageSpec{Image: imageRef, UserSpecifiedImage: c.Image},
		Command:     cmd,
		Args:        args,
		WorkingDir:  c.WorkingDir,
		Envs:        envs,
		Mounts:      mounts,
		Labels:      labels,
		Annotations: ann,
		LogPath:     filepath.Join(c.Name, strconv.Itoa(int(restart))+".log"),
		Stdin:       c.Stdin,
		StdinOnce:   c.StdinOnce,
		Tty:         c.TTY,
	}
	lc := &runtimeapi.LinuxContainerConfig{Resources: linuxResources(pod, c)}
	sc, err := containerSecurity(pod, c)
	if err != nil {
		return nil, err
	}
	if target := s.ephemeralTargets[c.Name]; kind == kindEphemeral && target != "" {
		// An ephemeral container shares the process namespace of its target.
		sc.NamespaceOptions.Pid = runtimeapi.NamespaceMode_TARGET
		sc.NamespaceOptions.TargetId = target
	}
	lc.SecurityContext = sc
	cfg.Linux = lc
	return cfg, nil
}

// linuxResources turns requests and limits into cgroup settings as upstream
// does: CPU shares from requests, CFS quota from limits, the memory limit,
// and an OOM score adjustment by QoS class.
func linuxResources(pod *corev1.Pod, c *corev1.Container) *runtimeapi.LinuxContainerResources {
	r := &runtimeapi.LinuxContainerResources{}
	cpuReq := c.Resources.Requests.Cpu()
	cpuLim := c.Resources.Limits.Cpu()
	memLim := c.Resources.Limits.Memory()
	if !cpuReq.IsZero() {
		r.CpuShares = milliCPUToShares(cpuReq.MilliValue())
	} else if !cpuLim.IsZero() {
		r.CpuShares = milliCPUToShares(cpuLim.MilliValue())
	} else {
		r.CpuShares = 2
	}
	if !cpuLim.IsZero() {
		r.CpuPeriod = 100000
		r.CpuQuota = cpuLim.MilliValue() * 100000 / 1000
		if r.CpuQuota < 1000 {
			r.CpuQuota = 1000
		}
	}
	if !memLim.IsZero() {
		r.MemoryLimitInBytes = memLim.Value()
	}
	r.OomScoreAdj = oomScoreAdj(pod, c)
	return r
}

func milliCPUToShares(milli int64) int64 {
	shares := milli * 1024 / 1000
	if shares < 2 {
		return 2
	}
	if shares > 262144 {
		return 262144
	}
	return shares
}

func oomScoreAdj(pod *corev1.Pod, c *corev1.Container) int64 {
	switch pod.Status.QOSClass {
	case corev1.PodQOSGuaranteed:
		return -997
	case corev1.PodQOSBestEffort:
		return 1000
	}
	mem := c.Resources.Requests.Memory()
	if mem.IsZero() {
		return 1000
	}
	total := resource.MustParse("16Gi")
	adj := 1000 - (1000*mem.Value())/total.Value()
	if adj < 3 {
		adj = 3
	}
	if adj > 999 {
		adj = 999
	}
	return adj
}

func containerSecurity(pod *corev1.Pod, c *corev1.Container) (*runtimeapi.LinuxContainerSecurityContext, error) {
	out := &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: namespaceOptions(pod)}
	psc := pod.Spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	csc := c.SecurityContext
	if csc == nil {
		csc = &corev1.SecurityContext{}
	}
	if u := firstInt64(csc.RunAsUser, psc.RunAsUser); u != nil {
		out.RunAsUser = &runtimeapi.Int64Value{Value: *u}
	}
	if g := firstInt64(csc.RunAsGroup, psc.RunAsGroup); g != nil {
		out.RunAsGroup = &runtimeapi.Int64Value{Value: *g}
	}
	if nonRoot := firstBool(csc.RunAsNonRoot, psc.RunAsNonRoot); nonRoot != nil && *nonRoot {
		if out.RunAsUser != nil && out.RunAsUser.Value == 0 {
			return nil, fmt.Errorf("container's runAsUser breaks non-root policy (pod: %q, container: %s)", pod.Namespace+"/"+pod.Name, c.Name)
		}
		out.RunAsUsername = ""
	}
	out.SupplementalGroups = append(out.SupplementalGroups, psc.SupplementalGroups...)
	if psc.FSGroup != nil {
		out.SupplementalGroups = append(out.SupplementalGroups, *psc.FSGroup)
	}
	if csc.Privileged != nil && *csc.Privileged {
		out.Privileged = true
	}
	if csc.ReadOnlyRootFilesystem != nil {
		out.ReadonlyRootfs = *csc.ReadOnlyRootFilesystem
	}
	if csc.AllowPrivilegeEscalation != nil {
		out.NoNewPrivs = !*csc.AllowPrivilegeEscalation
	}
	if caps := csc.Capabilities; caps != nil {
		out.Capabilities = &runtimeapi.Capability{}
		for _, a := range caps.Add {
			out.Capabilities.AddCapabilities = append(out.Capabilities.AddCapabilities, capName(a))
		}
		for _, d := range caps.Drop {
			out.Capabilities.DropCapabilities = append(out.Capabilities.DropCapabilities, capName(d))
		}
	}
	out.Seccomp = seccompProfile(psc.SeccompProfile, csc.SeccompProfile)
	if csc.ProcMount != nil && *csc.ProcMount == corev1.UnmaskedProcMount {
		out.MaskedPaths, out.ReadonlyPaths = []string{}, []string{}
	}
	return out, nil
}

func capName(c corev1.Capability) string {
	s := strings.ToUpper(string(c))
	if s == "ALL" || strings.HasPrefix(s, "CAP_") {
		return s
	}
	return "CAP_" + s
}

func firstInt64(a, b *int64) *int64 {
	if a != nil {
		return a
	}
	return b
}

func firstBool(a, b *bool) *bool {
	if a != nil {
		return a
	}
	return b
}
