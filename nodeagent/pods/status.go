package pods

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func mkdirAll(p string) error  { return os.MkdirAll(p, 0o755) }
func removeAll(p string) error { return os.RemoveAll(p) }

func (m *Manager) podDirByUID(uid types.UID) string { return filepath.Join(m.cfg.PodsDir, string(uid)) }

// carryWaiting returns the waiting reasons of the last pass; a reason stays
// until the container starts.
func (w *worker) carryWaiting() map[string]*waiting {
	out := map[string]*waiting{}
	for k, v := range w.waitingReasons {
		out[k] = v
	}
	return out
}

func (w *worker) keepWaiting(m map[string]*waiting) { w.waitingReasons = m }

const maxTerminationMessage = 4096

// terminationMessage reads what the container wrote to its termination
// message file or, with FallbackToLogsOnError and a failure, its log tail.
func (s *podSync) terminationMessage(c *runtimeapi.ContainerStatus) string {
	name := c.GetMetadata().GetName()
	p := s.m.terminationLogPath(s.pod, name, restartCount(c))
	if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
		if len(b) > maxTerminationMessage {
			b = b[:maxTerminationMessage]
		}
		return string(b)
	}
	if c.Annotations[annTerminationPolicy] == string(corev1.TerminationMessageFallbackToLogsOnError) && c.ExitCode != 0 {
		return tailLog(c.LogPath, 80, 2048)
	}
	return ""
}

// tailLog returns the last lines of a CRI log file, without the CRI prefix.
func tailLog(path string, lines, maxBytes int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	var out strings.Builder
	for _, l := range all {
		// "<time> <stream> <tag> <message>"
		f := strings.SplitN(l, " ", 4)
		if len(f) == 4 {
			out.WriteString(f[3])
			if f[2] != "P" {
				out.WriteByte('\n')
			}
		}
	}
	res := out.String()
	if len(res) > maxBytes {
		res = res[len(res)-maxBytes:]
	}
	return res
}

func terminatedState(c *runtimeapi.ContainerStatus, msg string) *corev1.ContainerStateTerminated {
	reason := c.Reason
	if reason == "" {
		reason = "Completed"
		if c.ExitCode != 0 {
			reason = "Error"
		}
	}
	t := &corev1.ContainerStateTerminated{
		ExitCode:    c.ExitCode,
		Reason:      reason,
		Message:     msg,
		ContainerID: "containerd://" + c.Id,
	}
	if c.StartedAt > 0 {
		t.StartedAt = metav1.NewTime(time.Unix(0, c.StartedAt))
	}
	if c.FinishedAt > 0 {
		t.FinishedAt = metav1.NewTime(time.Unix(0, c.FinishedAt))
	}
	return t
}

// containerStatus is the API status of one container from the runtime's
// view and this pass's waiting reasons.
func (s *podSync) containerStatus(c *corev1.Container, rt *podRuntime, inSandbox map[string]bool, defaultWaiting string, isInit bool) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image}
	list := rt.containers[c.Name]
	var cur, prev *runtimeapi.ContainerStatus
	if len(list) > 0 {
		cur = list[0]
	}
	if len(list) > 1 {
		prev = list[1]
	}
	if cur == nil {
		w := s.waiting[c.Name]
		if w == nil {
			w = &waiting{reason: defaultWaiting}
		}
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: w.reason, Message: w.message}
		cs.Started = ptrBool(false)
		return cs
	}
	cs.RestartCount = restartCount(cur)
	cs.ContainerID = "containerd://" + cur.Id
	cs.ImageID = cur.ImageRef
	if len(cur.GetImage().GetUserSpecifiedImage()) > 0 {
		cs.Image = c.Image
	}
	if prev != nil && prev.State == runtimeapi.ContainerState_CONTAINER_EXITED {
		cs.LastTerminationState.Terminated = terminatedState(prev, s.terminationMessage(prev))
	}
	switch cur.State {
	case runtimeapi.ContainerState_CONTAINER_RUNNING:
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(time.Unix(0, cur.StartedAt))}
		started := s.m.prober.Started(s.uid, c.Name)
		cs.Started = ptrBool(started)
		ready, known := s.m.prober.Readiness(s.uid, c.Name)
		if !known {
			ready = c.ReadinessProbe == nil
		}
		cs.Ready = started && ready
		if isInit && !isSidecar(c) {
			cs.Ready = false
		}
	case runtimeapi.ContainerState_CONTAINER_EXITED:
		term := terminatedState(cur, s.terminationMessage(cur))
		cs.Started = ptrBool(false)
		if w := s.waiting[c.Name]; w != nil {
			// It will be started again: show why it waits, the run that
			// ended as the last state.
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: w.reason, Message: w.message}
			cs.LastTerminationState = corev1.ContainerState{Terminated: term}
		} else {
			cs.State.Terminated = term
		}
		if isInit && !isSidecar(c) && cur.ExitCode == 0 {
			cs.Ready = true
		}
	default:
		cs.Started = ptrBool(false)
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
		if w := s.waiting[c.Name]; w != nil {
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: w.reason, Message: w.message}
		}
	}
	_ = inSandbox
	return cs
}

func ptrBool(b bool) *bool { return &b }

// computeStatus derives the pod's status as upstream's kubelet does.
func (s *podSync) computeStatus(rt *podRuntime, inSandbox map[string]bool) corev1.PodStatus {
	pod := s.pod
	st := *pod.Status.DeepCopy()
	if st.StartTime == nil {
		now := metav1.Now()
		st.StartTime = &now
	}
	if s.m.cfg.NodeIP != nil {
		st.HostIP = s.m.cfg.NodeIP.String()
		st.HostIPs = []corev1.HostIP{{IP: st.HostIP}}
	}
	if ips := s.podIPs(rt); len(ips) > 0 && (rt.sandboxReady() || pod.Spec.HostNetwork) {
		st.PodIP = ips[0]
		st.PodIPs = nil
		for _, ip := range ips {
			st.PodIPs = append(st.PodIPs, corev1.PodIP{IP: ip})
		}
	}

	// Init containers.
	initDone := true
	initFailed := false
	var pendingInit []string
	st.InitContainerStatuses = nil
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cs := s.containerStatus(c, rt, inSandbox, "PodInitializing", true)
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
		cur := rt.latestInSandbox(c.Name, inSandbox)
		if isSidecar(c) {
			if cur == nil || cur.State != runtimeapi.ContainerState_CONTAINER_RUNNING || !s.m.prober.Started(s.uid, c.Name) {
				if !s.initEverCompleted(rt) {
					initDone = false
					pendingInit = append(pendingInit, c.Name)
				}
			}
			continue
		}
		if cur == nil || cur.State != runtimeapi.ContainerState_CONTAINER_EXITED || cur.ExitCode != 0 {
			if s.initEverCompleted(rt) {
				continue
			}
			initDone = false
			pendingInit = append(pendingInit, c.Name)
			if cur != nil && cur.State == runtimeapi.ContainerState_CONTAINER_EXITED && cur.ExitCode != 0 && pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
				initFailed = true
			}
		}
	}
	if len(pod.Spec.InitContainers) > 0 && initDone {
		// Waiting containers after init show ContainerCreating.
	}
	waitReason := "ContainerCreating"
	if !initDone {
		waitReason = "PodInitializing"
	}

	// App containers.
	st.ContainerStatuses = nil
	var unready []string
	running, waitingN, succeeded, failed := 0, 0, 0, 0
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		cs := s.containerStatus(c, rt, inSandbox, waitReason, false)
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
		if !cs.Ready {
			unready = append(unready, c.Name)
		}
		switch {
		case cs.State.Running != nil:
			running++
		case cs.State.Terminated != nil:
			if cs.State.Terminated.ExitCode == 0 {
				succeeded++
			} else {
				failed++
			}
		case cs.State.Waiting != nil:
			if cs.LastTerminationState.Terminated != nil {
				// Restarting: counts as having run.
				running++
			} else {
				waitingN++
			}
		}
	}

	st.EphemeralContainerStatuses = nil
	for i := range pod.Spec.EphemeralContainers {
		c := (*corev1.Container)(&pod.Spec.EphemeralContainers[i].EphemeralContainerCommon)
		st.EphemeralContainerStatuses = append(st.EphemeralContainerStatuses, s.containerStatus(c, rt, inSandbox, "ContainerCreating", false))
	}

	// Phase.
	phase := corev1.PodPending
	switch {
	case initFailed:
		phase = corev1.PodFailed
	case !initDone:
		phase = corev1.PodPending
	case running > 0:
		phase = corev1.PodRunning
	case waitingN > 0:
		phase = corev1.PodPending
	case succeeded+failed == len(pod.Spec.Containers) && len(pod.Spec.Containers) > 0:
		switch pod.Spec.RestartPolicy {
		case corev1.RestartPolicyAlways:
			phase = corev1.PodRunning
		case corev1.RestartPolicyOnFailure:
			if failed > 0 {
				phase = corev1.PodRunning
			} else {
				phase = corev1.PodSucceeded
			}
		default:
			if failed > 0 {
				phase = corev1.PodFailed
			} else {
				phase = corev1.PodSucceeded
			}
		}
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		phase = pod.Status.Phase
	}
	st.Phase = phase

	// Conditions.
	sandboxOK := rt.sandboxReady() && (pod.Spec.HostNetwork || rt.sandboxStatus.GetNetwork().GetIp() != "")
	conds := []corev1.PodCondition{
		condition(corev1.PodReadyToStartContainers, sandboxOK, "", ""),
	}
	if initDone {
		conds = append(conds, condition(corev1.PodInitialized, true, "", ""))
	} else {
		conds = append(conds, condition(corev1.PodInitialized, false, "ContainersNotInitialized",
			fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(pendingInit, " "))))
	}
	terminal := phase == corev1.PodSucceeded || phase == corev1.PodFailed
	var readyCond, containersReady corev1.PodCondition
	switch {
	case terminal:
		readyReason := "PodCompleted"
		if phase == corev1.PodFailed {
			readyReason = "PodFailed"
		}
		containersReady = condition(corev1.ContainersReady, false, readyReason, "")
		readyCond = condition(corev1.PodReady, false, readyReason, "")
	case !initDone:
		msg := fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(pendingInit, " "))
		containersReady = condition(corev1.ContainersReady, false, "ContainersNotInitialized", msg)
		readyCond = condition(corev1.PodReady, false, "ContainersNotInitialized", msg)
	case len(unready) > 0:
		msg := fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))
		containersReady = condition(corev1.ContainersReady, false, "ContainersNotReady", msg)
		readyCond = condition(corev1.PodReady, false, "ContainersNotReady", msg)
	default:
		containersReady = condition(corev1.ContainersReady, true, "", "")
		readyCond = condition(corev1.PodReady, true, "", "")
		if msg := readinessGates(pod); msg != "" {
			readyCond = condition(corev1.PodReady, false, "ReadinessGatesNotReady", msg)
		}
	}
	conds = append(conds, containersReady, readyCond)
	// The agent has acted on this generation of the spec.
	st.ObservedGeneration = pod.Generation
	for i := range conds {
		conds[i].ObservedGeneration = pod.Generation
	}
	st.Conditions = mergeConditions(pod.Status.Conditions, conds)
	return st
}

// initEverCompleted tells whether the pod got past its init containers
// before; restarted init containers then no longer block it.
func (s *podSync) initEverCompleted(rt *podRuntime) bool {
	for i := range s.pod.Spec.Containers {
		if len(rt.containers[s.pod.Spec.Containers[i].Name]) > 0 {
			return true
		}
	}
	return false
}

func readinessGates(pod *corev1.Pod) string {
	var missing, unready []string
	for _, g := range pod.Spec.ReadinessGates {
		found := false
		for _, c := range pod.Status.Conditions {
			if c.Type == g.ConditionType {
				found = true
				if c.Status != corev1.ConditionTrue {
					unready = append(unready, string(g.ConditionType))
				}
			}
		}
		if !found {
			missing = append(missing, string(g.ConditionType))
		}
	}
	var msgs []string
	if len(missing) > 0 {
		msgs = append(msgs, fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", strings.Join(missing, ", ")))
	}
	if len(unready) > 0 {
		msgs = append(msgs, fmt.Sprintf("the status of pod readiness gate %q is not \"True\", but False", strings.Join(unready, ", ")))
	}
	return strings.Join(msgs, ", ")
}

func condition(t corev1.PodConditionType, ok bool, reason, msg string) corev1.PodCondition {
	st := corev1.ConditionFalse
	if ok {
		st = corev1.ConditionTrue
	}
	return corev1.PodCondition{Type: t, Status: st, Reason: reason, Message: msg}
}

// mergeConditions replaces the agent's conditions, keeping transition times
// of unchanged ones and every condition owned by someone else.
func mergeConditions(old, ours []corev1.PodCondition) []corev1.PodCondition {
	owned := map[corev1.PodConditionType]bool{}
	for _, c := range ours {
		owned[c.Type] = true
	}
	prev := map[corev1.PodConditionType]corev1.PodCondition{}
	var out []corev1.PodCondition
	for _, c := range old {
		prev[c.Type] = c
		if !owned[c.Type] {
			out = append(out, c)
		}
	}
	now := metav1.Now()
	for _, c := range ours {
		c.LastTransitionTime = now
		if p, ok := prev[c.Type]; ok && p.Status == c.Status {
			c.LastTransitionTime = p.LastTransitionTime
			c.LastProbeTime = p.LastProbeTime
		}
		out = append(out, c)
	}
	order := map[corev1.PodConditionType]int{corev1.PodReadyToStartContainers: 0, corev1.PodInitialized: 1, corev1.PodReady: 2, corev1.ContainersReady: 3, corev1.PodScheduled: 4}
	sort.SliceStable(out, func(i, j int) bool {
		oi, ok1 := order[out[i].Type]
		oj, ok2 := order[out[j].Type]
		if !ok1 {
			oi = 10
		}
		if !ok2 {
			oj = 10
		}
		return oi < oj
	})
	return out
}

// writeStatus stores the status unless it is what the API already has.
func (s *podSync) writeStatus(ctx context.Context, status corev1.PodStatus) error {
	if s.static {
		return s.writeMirrorStatus(ctx, status)
	}
	pod := s.pod
	if equality.Semantic.DeepEqual(pod.Status, status) {
		return nil
	}
	pods := s.m.client.CoreV1().Pods(pod.Namespace)
	cur := pod.DeepCopy()
	for attempt := 0; attempt < 3; attempt++ {
		cur.Status = status
		_, err := pods.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		if err == nil || !apierrors.IsConflict(err) {
			return err
		}
		fresh, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if fresh.UID != pod.UID {
			return nil
		}
		// Keep conditions other writers set meanwhile.
		status.Conditions = mergeConditions(fresh.Status.Conditions, status.Conditions)
		cur = fresh
	}
	return fmt.Errorf("pod status: too many conflicts")
}
