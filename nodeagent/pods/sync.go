package pods

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// podSync is one pass over one pod.
type podSync struct {
	m   *Manager
	w   *worker
	pod *corev1.Pod
	uid types.UID
	// gone is set when the pod has left the API and the runtime.
	gone bool
	// waiting holds why containers could not be started in this pass.
	waiting map[string]*waiting
	// soon asks for an early next sync.
	soon time.Duration
	// static is set for a pod from a manifest file; its status goes to
	// its mirror pod.
	static bool
	// deadlineExceeded is set when activeDeadlineSeconds ran out.
	deadlineExceeded bool
	// ephemeralTargets maps an ephemeral container to the ID of the
	// running container whose processes it joins.
	ephemeralTargets map[string]string
}

const deadlineMessage = "Pod was active on the node longer than the specified deadline"

func (s *podSync) requeue(d time.Duration) {
	if s.soon == 0 || d < s.soon {
		s.soon = d
	}
}

func (s *podSync) event(typ, reason, msg string) {
	if s.pod != nil {
		s.m.recorder.Event(s.pod, typ, reason, msg)
	}
}

// eventOnce records an event once per worker for the key.
func (s *podSync) eventOnce(key, typ, reason, msg string) {
	if s.w.probed["event:"+key] {
		return
	}
	s.w.probed["event:"+key] = true
	s.event(typ, reason, msg)
}

func (s *podSync) sync(ctx context.Context) (time.Duration, error) {
	rt, inSandbox, err := s.m.observe(ctx, s.uid)
	if err != nil {
		return time.Second, fmt.Errorf("reading runtime state: %w", err)
	}
	s.waiting = s.w.carryWaiting()
	if s.pod == nil {
		return s.cleanup(ctx, rt)
	}
	if s.pod.DeletionTimestamp != nil {
		return s.terminate(ctx, rt, inSandbox, true)
	}
	if s.pod.Status.Phase == corev1.PodSucceeded || s.pod.Status.Phase == corev1.PodFailed {
		return s.terminate(ctx, rt, inSandbox, false)
	}
	// activeDeadlineSeconds counts from the pod's start on the node.
	if d := s.pod.Spec.ActiveDeadlineSeconds; d != nil && s.pod.Status.StartTime != nil {
		left := time.Duration(*d)*time.Second - time.Since(s.pod.Status.StartTime.Time)
		if left <= 0 {
			s.deadlineExceeded = true
			s.event(corev1.EventTypeNormal, "DeadlineExceeded", deadlineMessage)
			return s.terminate(ctx, rt, inSandbox, false)
		}
		s.requeue(left)
	}
	if err := s.run(ctx, rt, inSandbox); err != nil {
		return time.Second, err
	}
	rt, inSandbox, err = s.m.observe(ctx, s.uid)
	if err != nil {
		return time.Second, err
	}
	status := s.computeStatus(rt, inSandbox)
	if err := s.writeStatus(ctx, status); err != nil {
		return time.Second, err
	}
	if status.Phase == corev1.PodSucceeded || status.Phase == corev1.PodFailed {
		s.requeue(10 * time.Millisecond)
	}
	s.w.keepWaiting(s.waiting)
	return s.soon, nil
}

// run brings the runtime to what the spec asks for.
func (s *podSync) run(ctx context.Context, rt *podRuntime, inSandbox map[string]bool) error {
	pod := s.pod
	logger := klog.FromContext(ctx)
	paths, err := s.m.volumes.Setup(ctx, pod)
	if err != nil {
		for _, e := range splitErrors(err) {
			s.event(corev1.EventTypeWarning, "FailedMount", e.Error())
		}
		s.requeue(2 * time.Second)
		// A volume that was set up before and failed to refresh keeps its
		// content; the pod goes on with it. One that never came up holds
		// the pod back.
		if len(paths) < len(pod.Spec.Volumes) {
			return nil
		}
	}

	// A sandbox that is gone or not ready means a fresh start: kill what is
	// left and create a new one (its attempt number counts up).
	if !rt.sandboxReady() || sandboxNetworkGone(rt, pod) {
		if rt.sandbox() != nil && !s.shouldRecreateSandbox(rt) {
			return nil
		}
		for _, list := range rt.containers {
			for _, c := range list {
				if c.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
					_ = s.m.runtime.StopContainer(ctx, c.Id, 0)
				}
			}
		}
		attempt := uint32(0)
		if sb := rt.sandbox(); sb != nil {
			attempt = sb.Metadata.GetAttempt() + 1
			if sb.State == runtimeapi.PodSandboxState_SANDBOX_READY {
				_ = s.m.runtime.StopPodSandbox(ctx, sb.Id)
			}
			s.event(corev1.EventTypeNormal, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
		}
		cfg, err := s.m.sandboxConfig(pod, attempt)
		if err != nil {
			return err
		}
		if err := mkdirAll(cfg.LogDirectory); err != nil {
			return err
		}
		handler, err := s.runtimeHandler(ctx)
		if err != nil {
			s.event(corev1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: "+err.Error())
			s.requeue(2 * time.Second)
			return nil
		}
		if _, err := s.m.runtime.RunPodSandbox(ctx, cfg, handler); err != nil {
			s.event(corev1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: "+err.Error())
			s.requeue(2 * time.Second)
			return nil
		}
		logger.V(2).Info("Started pod sandbox", "attempt", attempt)
		if rt, inSandbox, err = s.m.observe(ctx, s.uid); err != nil {
			return err
		}
		if !rt.sandboxReady() {
			s.requeue(time.Second)
			return nil
		}
		if f := s.m.cfg.OnSandboxIP; f != nil && !pod.Spec.HostNetwork {
			f(s.podIPs(rt))
		}
	}
	sb := rt.sandbox()
	sbCfg, err := s.m.sandboxConfig(pod, sb.Metadata.GetAttempt())
	if err != nil {
		return err
	}
	podIPs := s.podIPs(rt)

	// Init containers, in order; each regular one must succeed before the
	// next starts, each sidecar must be started (and, with a startup probe,
	// have passed it).
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		sidecar := isSidecar(c)
		cur := rt.latestInSandbox(c.Name, inSandbox)
		if sidecar {
			if cur != nil && cur.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
				if s.livenessKill(ctx, c, cur) {
					return nil
				}
				if !s.m.prober.Started(pod.UID, c.Name) {
					s.requeue(time.Second)
					return nil
				}
				continue
			}
			if cur != nil && cur.State == runtimeapi.ContainerState_CONTAINER_CREATED {
				s.requeue(time.Second)
				return nil
			}
			s.startWithBackoff(ctx, c, kindSidecar, rt.latest(c.Name), cur != nil, sb.Id, sbCfg, paths, podIPs)
			return nil
		}
		if cur != nil {
			switch cur.State {
			case runtimeapi.ContainerState_CONTAINER_EXITED:
				if cur.ExitCode == 0 {
					continue
				}
				if pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
					return nil // the pod has failed; status says so
				}
			case runtimeapi.ContainerState_CONTAINER_RUNNING, runtimeapi.ContainerState_CONTAINER_CREATED:
				s.requeue(time.Second)
				return nil
			}
		}
		s.startWithBackoff(ctx, c, kindInit, rt.latest(c.Name), cur != nil, sb.Id, sbCfg, paths, podIPs)
		return nil
	}

	// App containers, all at once.
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		cur := rt.latestInSandbox(c.Name, inSandbox)
		if cur != nil && cur.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
			s.livenessKill(ctx, c, cur)
			continue
		}
		if cur != nil && cur.State == runtimeapi.ContainerState_CONTAINER_CREATED {
			s.requeue(time.Second)
			continue
		}
		if cur != nil && !shouldRestart(pod.Spec.RestartPolicy, c, cur) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sub := *s
			sub.waiting = map[string]*waiting{}
			sub.startWithBackoff(ctx, c, kindApp, rt.latest(c.Name), cur != nil, sb.Id, sbCfg, paths, podIPs)
			mu.Lock()
			for k, v := range sub.waiting {
				s.waiting[k] = v
			}
			if sub.soon != 0 {
				s.requeue(sub.soon)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()

	// Ephemeral containers run once each, never restarted.
	s.ephemeralTargets = map[string]string{}
	for i := range pod.Spec.EphemeralContainers {
		ec := &pod.Spec.EphemeralContainers[i]
		if len(rt.containers[ec.Name]) > 0 {
			continue
		}
		if t := ec.TargetContainerName; t != "" {
			if cur := rt.latestInSandbox(t, inSandbox); cur != nil && cur.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
				s.ephemeralTargets[ec.Name] = cur.Id
			}
		}
		c := (*corev1.Container)(&ec.EphemeralContainerCommon)
		if w := s.startContainer(ctx, c, kindEphemeral, 0, sb.Id, sbCfg, paths, podIPs); w != nil {
			s.waiting[c.Name] = w
			s.requeue(2 * time.Second)
		}
	}
	return nil
}

// runtimeHandler is the CRI handler of the pod's RuntimeClass ("" for the
// runtime's default).
func (s *podSync) runtimeHandler(ctx context.Context) (string, error) {
	name := s.pod.Spec.RuntimeClassName
	if name == nil || *name == "" {
		return "", nil
	}
	rc, err := s.m.client.NodeV1().RuntimeClasses().Get(ctx, *name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("RuntimeHandler for RuntimeClass %q: %w", *name, err)
	}
	return rc.Handler, nil
}

// shouldRecreateSandbox is false for a pod that has finished for good: a
// restartPolicy Never pod whose sandbox went away after its containers ran.
func (s *podSync) shouldRecreateSandbox(rt *podRuntime) bool {
	if s.pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
		return true
	}
	for _, list := range rt.containers {
		if len(list) > 0 {
			return false
		}
	}
	return true
}

func sandboxNetworkGone(rt *podRuntime, pod *corev1.Pod) bool {
	if pod.Spec.HostNetwork || rt.sandboxStatus == nil {
		return false
	}
	return rt.sandboxStatus.GetNetwork().GetIp() == ""
}

func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

func shouldRestart(policy corev1.RestartPolicy, c *corev1.Container, cur *runtimeapi.ContainerStatus) bool {
	if c.RestartPolicy != nil {
		policy = corev1.RestartPolicy(*c.RestartPolicy)
	}
	switch policy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return cur.ExitCode != 0
	}
	return true
}

// startWithBackoff starts a new instance unless the container is in its
// crash-loop back-off.
func (s *podSync) startWithBackoff(ctx context.Context, c *corev1.Container, kind containerKind, last *runtimeapi.ContainerStatus,
	restarting bool, sandboxID string, sbCfg *runtimeapi.PodSandboxConfig, paths map[string]string, podIPs []string) {
	restart := int32(0)
	if last != nil {
		restart = restartCount(last) + 1
	}
	key := string(s.uid) + "/" + c.Name
	if restarting && last != nil {
		finished := time.Unix(0, last.FinishedAt)
		// A container that ran long enough without trouble starts its back-off afresh.
		if last.StartedAt > 0 && finished.Sub(time.Unix(0, last.StartedAt)) > 10*time.Minute {
			s.m.backoff.Reset(key)
		}
		if s.m.backoff.IsInBackOffSince(key, finished) {
			left := s.m.backoff.Get(key) - time.Since(finished)
			msg := fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", s.m.backoff.Get(key), c.Name, s.pod.Name, s.pod.Namespace, s.pod.UID)
			s.waiting[c.Name] = &waiting{"CrashLoopBackOff", msg}
			s.eventOnce("backoff:"+c.Name+":"+strconv.Itoa(int(restart)), corev1.EventTypeWarning, "BackOff", "Back-off restarting failed container "+c.Name+" in pod "+s.pod.Name+"_"+s.pod.Namespace+"("+string(s.pod.UID)+")")
			if left < 0 {
				left = 100 * time.Millisecond
			}
			s.requeue(left)
			return
		}
		s.m.backoff.Next(key, finished)
	}
	// Keep only the previous instance, for lastState and `logs --previous`.
	s.pruneOldInstances(ctx, c.Name)
	if w := s.startContainer(ctx, c, kind, restart, sandboxID, sbCfg, paths, podIPs); w != nil {
		s.waiting[c.Name] = w
		s.requeue(2 * time.Second)
		if w.reason == "RunContainerError" || w.reason == "PostStartHookError" {
			s.m.backoff.Next(key, time.Now())
		}
		return
	}
	delete(s.waiting, c.Name)
	s.requeue(500 * time.Millisecond)
}

func (s *podSync) pruneOldInstances(ctx context.Context, name string) {
	sel := map[string]string{labelPodUID: string(s.uid), labelContainerName: name, labelNode: s.m.cfg.NodeName}
	cs, err := s.m.runtime.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: sel})
	if err != nil || len(cs) < 2 {
		return
	}
	var newest *runtimeapi.Container
	for _, c := range cs {
		if newest == nil || c.CreatedAt > newest.CreatedAt {
			newest = c
		}
	}
	for _, c := range cs {
		if c != newest && c.State == runtimeapi.ContainerState_CONTAINER_EXITED {
			_ = s.m.runtime.RemoveContainer(ctx, c.Id)
		}
	}
}

// livenessKill stops a running container whose liveness or startup probe
// failed; the normal restart logic starts it again. It reports whether it
// killed.
func (s *podSync) livenessKill(ctx context.Context, c *corev1.Container, cur *runtimeapi.ContainerStatus) bool {
	kill, ok := s.m.prober.KillRequested(s.uid, c.Name)
	if !ok {
		return false
	}
	msg := kill.Message
	if shouldRestart(s.pod.Spec.RestartPolicy, c, &runtimeapi.ContainerStatus{ExitCode: 137}) {
		msg += ", will be restarted"
	}
	s.event(corev1.EventTypeNormal, "Killing", msg)
	grace := gracePeriod(s.pod)
	if kill.TerminationGracePeriodSeconds != nil {
		grace = *kill.TerminationGracePeriodSeconds
	}
	s.stopContainer(ctx, c, cur.Id, grace)
	s.m.prober.RemoveContainer(s.uid, c.Name)
	s.requeue(10 * time.Millisecond)
	return true
}

// stopContainer runs the preStop hook, then stops the container within
// what is left of the grace period.
func (s *podSync) stopContainer(ctx context.Context, c *corev1.Container, id string, grace int64) {
	start := time.Now()
	if c != nil && c.Lifecycle != nil && c.Lifecycle.PreStop != nil && grace > 0 {
		hctx, cancel := context.WithTimeout(ctx, time.Duration(grace)*time.Second)
		if msg, err := s.runHook(hctx, c, id, c.Lifecycle.PreStop, s.podIPs(nil)); err != nil {
			s.event(corev1.EventTypeWarning, "FailedPreStopHook", msg)
		}
		cancel()
		grace -= int64(time.Since(start) / time.Second)
		if grace < 2 {
			grace = 2
		}
	}
	if err := s.m.runtime.StopContainer(ctx, id, grace); err != nil {
		klog.FromContext(ctx).V(2).Info("Stopping container failed", "container", id, "err", err)
	}
}

// runHook runs a lifecycle handler (exec, httpGet, sleep) and returns the
// upstream-style failure message.
func (s *podSync) runHook(ctx context.Context, c *corev1.Container, id string, h *corev1.LifecycleHandler, podIPs []string) (string, error) {
	switch {
	case h.Exec != nil:
		timeout := 30 * time.Second
		if dl, ok := ctx.Deadline(); ok {
			timeout = time.Until(dl)
		}
		out, stderr, err := s.m.runtime.ExecSync(ctx, id, h.Exec.Command, timeout)
		if err != nil {
			return fmt.Sprintf("Exec lifecycle hook (%v) for Container %q in Pod %q failed - error: %v, message: %q", h.Exec.Command, c.Name, s.pod.Name+"_"+s.pod.Namespace+"("+string(s.pod.UID)+")", err, string(out)+string(stderr)), err
		}
		return "", nil
	case h.HTTPGet != nil:
		host := h.HTTPGet.Host
		if host == "" && len(podIPs) > 0 {
			host = podIPs[0]
		}
		port, err := resolvePort(h.HTTPGet.Port, c)
		if err != nil {
			return err.Error(), err
		}
		scheme := "http"
		if h.HTTPGet.Scheme == corev1.URISchemeHTTPS {
			scheme = "https"
		}
		url := fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(host, strconv.Itoa(port)), h.HTTPGet.Path)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err.Error(), err
		}
		for _, hd := range h.HTTPGet.HTTPHeaders {
			req.Header.Add(hd.Name, hd.Value)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Sprintf("HTTP lifecycle hook (%s) for Container %q in Pod %q failed - error: %v", h.HTTPGet.Path, c.Name, s.pod.Name, err), err
		}
		resp.Body.Close()
		if resp.StatusCode >= 400 {
			err := fmt.Errorf("HTTP lifecycle hook failed with statuscode %d", resp.StatusCode)
			return fmt.Sprintf("HTTP lifecycle hook (%s) for Container %q in Pod %q failed - error: %v", h.HTTPGet.Path, c.Name, s.pod.Name, err), err
		}
		return "", nil
	case h.Sleep != nil:
		select {
		case <-time.After(time.Duration(h.Sleep.Seconds) * time.Second):
		case <-ctx.Done():
		}
		return "", nil
	}
	return "", nil
}

func resolvePort(p intstr.IntOrString, c *corev1.Container) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("couldn't find port: %v in %v", p.StrVal, c.Name)
}

func (s *podSync) podIPs(rt *podRuntime) []string {
	if s.pod.Spec.HostNetwork {
		return []string{s.m.cfg.NodeIP.String()}
	}
	if rt == nil {
		var ips []string
		for _, ip := range s.pod.Status.PodIPs {
			ips = append(ips, ip.IP)
		}
		return ips
	}
	var ips []string
	if n := rt.sandboxStatus.GetNetwork(); n != nil && n.Ip != "" {
		ips = append(ips, n.Ip)
		for _, a := range n.AdditionalIps {
			ips = append(ips, a.Ip)
		}
	}
	return ips
}

// terminate stops the pod's containers (preStop hooks, grace period, app
// containers before sidecars) and its sandbox. For a deleted pod it then
// writes the final status and removes the pod from the API.
func (s *podSync) terminate(ctx context.Context, rt *podRuntime, inSandbox map[string]bool, deleting bool) (time.Duration, error) {
	pod := s.pod
	grace := gracePeriod(pod)
	if deleting && pod.DeletionTimestamp != nil && pod.DeletionGracePeriodSeconds != nil {
		deadline := pod.DeletionTimestamp.Time
		if left := int64(time.Until(deadline) / time.Second); left < grace {
			grace = max(left, 0)
		}
	}
	stopAll := func(list []corev1.Container) {
		var wg sync.WaitGroup
		for i := range list {
			c := &list[i]
			cur := rt.latest(c.Name)
			if cur == nil || cur.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.event(corev1.EventTypeNormal, "Killing", "Stopping container "+c.Name)
				s.stopContainer(ctx, c, cur.Id, grace)
			}()
		}
		wg.Wait()
	}
	stopAll(pod.Spec.Containers)
	// Sidecars stop after the app containers, in reverse order.
	for i := len(pod.Spec.InitContainers) - 1; i >= 0; i-- {
		stopAll(pod.Spec.InitContainers[i : i+1])
	}
	for _, sb := range rt.sandboxes {
		if sb.State == runtimeapi.PodSandboxState_SANDBOX_READY {
			_ = s.m.runtime.StopPodSandbox(ctx, sb.Id)
		}
	}
	s.m.prober.RemovePod(pod.UID)
	rt, inSandbox, err := s.m.observe(ctx, s.uid)
	if err != nil {
		return time.Second, err
	}
	status := s.computeStatus(rt, inSandbox)
	if s.deadlineExceeded {
		status.Phase, status.Reason, status.Message = corev1.PodFailed, "DeadlineExceeded", deadlineMessage
	}
	if deleting && status.Phase != corev1.PodSucceeded && status.Phase != corev1.PodFailed {
		status.Phase = corev1.PodFailed
		if allSucceeded(status) {
			status.Phase = corev1.PodSucceeded
		}
	}
	if err := s.writeStatus(ctx, status); err != nil && !apierrors.IsNotFound(err) {
		return time.Second, err
	}
	if !deleting {
		return 0, nil
	}
	zero := int64(0)
	err = s.m.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero,
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return time.Second, fmt.Errorf("deleting pod: %w", err)
	}
	return time.Second, nil
}

func allSucceeded(st corev1.PodStatus) bool {
	for _, cs := range st.ContainerStatuses {
		if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 {
			return false
		}
	}
	return true
}

// cleanup removes everything of a pod that has left the API.
func (s *podSync) cleanup(ctx context.Context, rt *podRuntime) (time.Duration, error) {
	for _, list := range rt.containers {
		for _, c := range list {
			if c.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
				_ = s.m.runtime.StopContainer(ctx, c.Id, 2)
			}
			_ = s.m.runtime.RemoveContainer(ctx, c.Id)
		}
	}
	for _, sb := range rt.sandboxes {
		_ = s.m.runtime.StopPodSandbox(ctx, sb.Id)
		if err := s.m.runtime.RemovePodSandbox(ctx, sb.Id); err != nil {
			return time.Second, fmt.Errorf("removing sandbox: %w", err)
		}
	}
	s.m.prober.RemovePod(s.uid)
	if err := s.m.volumes.Cleanup(s.uid); err != nil {
		return time.Second, err
	}
	_ = removeAll(s.m.podDirByUID(s.uid))
	s.gone = true
	return 0, nil
}

// splitErrors undoes errors.Join, so each volume gets its own event.
func splitErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
