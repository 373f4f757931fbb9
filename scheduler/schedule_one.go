package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/scheduler/framework"
	"github.com/capstan-dev/capstan/scheduler/queue"
)

const (
	// Searching for feasible nodes stops after this many, or this percentage
	// of the cluster, whichever is more.
	minFeasibleNodesToFind           = 100
	minFeasibleNodesPercentageToFind = 5
	// noteLengthLimit is the longest Event message the API accepts.
	noteLengthLimit = 1024
)

// ErrNoNodesAvailable is the failure when the cluster has no nodes at all.
var ErrNoNodesAvailable = errors.New("no nodes available to schedule pods")

// scheduleOne takes the next pod from the queue and tries to place it.
func (l *loop) scheduleOne(ctx context.Context) {
	qp := l.queue.Pop(klog.FromContext(ctx))
	if qp == nil {
		return
	}
	pod := qp.Pod
	logger := klog.LoggerWithValues(klog.FromContext(ctx), "pod", klog.KObj(pod))
	ctx = klog.NewContext(ctx, logger)
	if pod.DeletionTimestamp != nil || l.cache.IsAssumedPod(pod) {
		l.queue.Done(pod.UID)
		return
	}
	logger.V(3).Info("Attempting to schedule pod")
	start := time.Now()
	state := framework.NewCycleState()
	l.cache.UpdateSnapshot(l.snapshot)

	host, err := l.schedulePod(ctx, state, pod)
	if err != nil {
		status := framework.AsStatus(err)
		var fitErr *framework.FitError
		switch {
		case errors.Is(err, ErrNoNodesAvailable):
			status = framework.NewStatus(framework.UnschedulableAndUnresolvable, err.Error())
		case errors.As(err, &fitErr):
			status = framework.NewStatus(framework.Unschedulable, err.Error())
			if l.framework.HasPostFilterPlugins() {
				ps := l.framework.RunPostFilterPlugins(ctx, state, pod, fitErr.Diagnosis.NodeToStatus)
				fitErr.Diagnosis.PostFilterMsg = ps.Message()
				status = framework.NewStatus(framework.Unschedulable, fitErr.Error())
			}
			qp.UnschedulablePlugins = fitErr.Diagnosis.UnschedulablePlugins
		}
		l.handleSchedulingFailure(ctx, qp, status, err, start)
		return
	}

	// Assume the pod onto the node so that the next cycles count it there,
	// then bind in the background.
	assumed := qp.DeepCopy()
	assumed.Pod.Spec.NodeName = host
	if err := l.cache.AssumePod(assumed.Pod); err != nil {
		l.handleSchedulingFailure(ctx, qp, framework.AsStatus(err), err, start)
		return
	}
	l.queue.Done(pod.UID)
	l.bindings.Add(1)
	go func() {
		defer l.bindings.Done()
		l.bind(ctx, qp, assumed.Pod, host, start)
	}()
}

// bind posts the binding; on failure the assumption is undone and the pod retried.
func (l *loop) bind(ctx context.Context, qp *queue.QueuedPodInfo, assumed *v1.Pod, host string, start time.Time) {
	logger := klog.FromContext(ctx)
	binding := &v1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: assumed.Namespace, Name: assumed.Name, UID: assumed.UID},
		Target:     v1.ObjectReference{Kind: "Node", Name: host},
	}
	err := l.client.CoreV1().Pods(binding.Namespace).Bind(ctx, binding, metav1.CreateOptions{})
	if err != nil {
		if ferr := l.cache.ForgetPod(logger, assumed); ferr != nil {
			logger.Error(ferr, "Scheduler cache ForgetPod failed")
		}
		// The room the pod held is free again.
		l.queue.MoveAllToActiveOrBackoffQueue(logger, framework.EventAssignedPodDelete, assumed, nil, func(p *v1.Pod) bool { return p.UID != assumed.UID })
		err = fmt.Errorf("binding pod %s/%s to %s: %w", assumed.Namespace, assumed.Name, host, err)
		l.handleSchedulingFailure(ctx, qp, framework.AsStatus(err), err, start)
		return
	}
	logger.V(2).Info("Successfully bound pod to node", "node", host, "attempts", qp.Attempts, "duration", time.Since(start))
	l.recorder.Eventf(assumed, v1.EventTypeNormal, "Scheduled", "Successfully assigned %v/%v to %v", assumed.Namespace, assumed.Name, host)
}

// schedulePod filters and scores the nodes and returns the best one, a
// *framework.FitError when none fits, or another error.
func (l *loop) schedulePod(ctx context.Context, state *framework.CycleState, pod *v1.Pod) (string, error) {
	if l.snapshot.NumNodes() == 0 {
		return "", ErrNoNodesAvailable
	}
	feasible, diagnosis, err := l.findNodesThatFitPod(ctx, state, pod)
	if err != nil {
		return "", err
	}
	if len(feasible) == 0 {
		return "", &framework.FitError{Pod: pod, NumAllNodes: l.snapshot.NumNodes(), Diagnosis: diagnosis}
	}
	if len(feasible) == 1 {
		return feasible[0].Node().Name, nil
	}
	scores, err := l.prioritizeNodes(ctx, state, pod, feasible)
	if err != nil {
		return "", err
	}
	return framework.SelectHost(scores)
}

// findNodesThatFitPod runs the PreFilters, then the Filters on the nodes
// they leave, and records why each rejected node was rejected.
func (l *loop) findNodesThatFitPod(ctx context.Context, state *framework.CycleState, pod *v1.Pod) ([]*framework.NodeInfo, framework.Diagnosis, error) {
	diagnosis := framework.Diagnosis{NodeToStatus: framework.NewNodeToStatus()}
	all := l.snapshot.List()
	preRes, s, narrowing := l.framework.RunPreFilterPlugins(ctx, state, pod)
	diagnosis.UnschedulablePlugins = narrowing
	if !s.IsSuccess() {
		if !s.IsRejected() {
			return nil, diagnosis, s.AsError()
		}
		// Every node shares the PreFilter's verdict.
		diagnosis.NodeToStatus.SetAbsentNodesStatus(s)
		diagnosis.PreFilterMsg = s.Message()
		diagnosis.AddPluginStatus(s)
		return nil, diagnosis, nil
	}
	nodes := all
	if !preRes.AllNodes() {
		nodes = make([]*framework.NodeInfo, 0, len(preRes.NodeNames))
		for _, name := range sets.List(preRes.NodeNames) {
			if ni, err := l.snapshot.Get(name); err == nil {
				nodes = append(nodes, ni)
			}
		}
		diagnosis.NodeToStatus.SetAbsentNodesStatus(framework.NewStatus(framework.UnschedulableAndUnresolvable,
			fmt.Sprintf("node(s) didn't satisfy plugin(s) %v", sets.List(narrowing))))
	}
	feasible, err := l.findNodesThatPassFilters(ctx, state, pod, &diagnosis, nodes)
	processed := len(feasible) + diagnosis.NodeToStatus.Len()
	l.nextStartNodeIndex = (l.nextStartNodeIndex + processed) % len(all)
	return feasible, diagnosis, err
}

func (l *loop) findNodesThatPassFilters(ctx context.Context, state *framework.CycleState, pod *v1.Pod, diagnosis *framework.Diagnosis, nodes []*framework.NodeInfo) ([]*framework.NodeInfo, error) {
	n := len(nodes)
	if n == 0 {
		return nil, nil
	}
	toFind := numFeasibleNodesToFind(l.framework.PercentageOfNodesToScore(), n)
	if !l.framework.HasScorePlugins() {
		toFind = 1
	}
	feasible := make([]*framework.NodeInfo, toFind)
	if !l.framework.HasFilterPlugins() {
		for i := range feasible {
			feasible[i] = nodes[(l.nextStartNodeIndex+i)%n]
		}
		return feasible, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var found atomic.Int32
	statuses := make([]*framework.Status, n)
	var errOnce sync.Once
	var filterErr error
	start := l.nextStartNodeIndex
	l.framework.Parallelize(ctx, n, func(i int) {
		// Start where the last cycle stopped, so all nodes get examined across pods.
		ni := nodes[(start+i)%n]
		s := l.framework.RunFilterPlugins(ctx, state, pod, ni)
		switch {
		case s.Code() == framework.Error:
			errOnce.Do(func() { filterErr = s.AsError() })
			cancel()
		case s.IsSuccess():
			if k := found.Add(1); k > int32(toFind) {
				found.Add(-1)
				cancel()
			} else {
				feasible[k-1] = ni
			}
		default:
			statuses[i] = s
		}
	})
	feasible = feasible[:found.Load()]
	for i, s := range statuses {
		if s != nil {
			diagnosis.NodeToStatus.Set(nodes[(start+i)%n].Node().Name, s)
			diagnosis.AddPluginStatus(s)
		}
	}
	return feasible, filterErr
}

// numFeasibleNodesToFind is how many feasible nodes are enough to score:
// all of a small cluster; in a large one a percentage falling from 50%
// with size (or as configured), but at least 100 nodes.
func numFeasibleNodesToFind(percentage int32, numAllNodes int) int {
	if numAllNodes < minFeasibleNodesToFind {
		return numAllNodes
	}
	if percentage == 0 {
		percentage = int32(50 - numAllNodes/125)
		percentage = max(percentage, minFeasibleNodesPercentageToFind)
	}
	return max(numAllNodes*int(percentage)/100, minFeasibleNodesToFind)
}

func (l *loop) prioritizeNodes(ctx context.Context, state *framework.CycleState, pod *v1.Pod, nodes []*framework.NodeInfo) ([]framework.NodePluginScores, error) {
	if !l.framework.HasScorePlugins() {
		out := make([]framework.NodePluginScores, len(nodes))
		for i, n := range nodes {
			out[i] = framework.NodePluginScores{Name: n.Node().Name, TotalScore: 1}
		}
		return out, nil
	}
	if s := l.framework.RunPreScorePlugins(ctx, state, pod, nodes); !s.IsSuccess() {
		return nil, s.AsError()
	}
	scores, s := l.framework.RunScorePlugins(ctx, state, pod, nodes)
	if !s.IsSuccess() {
		return nil, s.AsError()
	}
	if v := klog.FromContext(ctx).V(10); v.Enabled() {
		for _, ns := range scores {
			v.Info("Scored node", "node", ns.Name, "scores", ns.Scores, "total", ns.TotalScore)
		}
	}
	return scores, nil
}

// handleSchedulingFailure requeues the pod and tells its owner why it was
// not placed: a PodScheduled=False condition and a FailedScheduling event.
func (l *loop) handleSchedulingFailure(ctx context.Context, qp *queue.QueuedPodInfo, status *framework.Status, err error, start time.Time) {
	logger := klog.FromContext(ctx)
	reason := v1.PodReasonSchedulerError
	if status.IsRejected() {
		reason = v1.PodReasonUnschedulable
	}
	var fitErr *framework.FitError
	switch {
	case errors.As(err, &fitErr):
		logger.V(2).Info("Unable to schedule pod; no fit; waiting", "err", status.Message())
	case errors.Is(err, ErrNoNodesAvailable):
		logger.V(2).Info("Unable to schedule pod; no nodes are registered to the cluster; waiting")
	default:
		logger.Error(err, "Error scheduling pod; retrying")
	}
	if fitErr == nil {
		// Only plugins that rejected the pod in this cycle decide when it is
		// retried; without any, it is retried once its back-off ends.
		qp.UnschedulablePlugins = nil
	}

	cached, lerr := l.podLister.Pods(qp.Pod.Namespace).Get(qp.Pod.Name)
	switch {
	case lerr != nil:
		logger.V(3).Info("Pod doesn't exist in informer cache", "err", lerr)
		l.queue.Done(qp.Pod.UID)
		return
	case cached.UID != qp.Pod.UID:
		logger.V(2).Info("Pod was recreated while being scheduled; skipping status updates", "oldUID", qp.Pod.UID, "newUID", cached.UID)
		l.queue.Done(qp.Pod.UID)
		return
	case cached.Spec.NodeName != "":
		logger.Info("Pod has been assigned to node. Abort adding it back to queue.", "node", cached.Spec.NodeName)
		l.queue.Done(qp.Pod.UID)
		return
	}
	pi, _ := framework.NewPodInfo(cached.DeepCopy())
	qp.PodInfo = pi
	if err := l.queue.AddUnschedulableIfNotPresent(logger, qp); err != nil {
		logger.Error(err, "Requeueing pod failed")
	}

	msg := status.Message()
	l.recorder.Event(cached, v1.EventTypeWarning, "FailedScheduling", truncateMessage(msg))
	cond := &v1.PodCondition{
		Type:               v1.PodScheduled,
		Status:             v1.ConditionFalse,
		Reason:             reason,
		Message:            msg,
		ObservedGeneration: cached.Generation,
	}
	if err := l.updatePodCondition(ctx, cached, cond); err != nil {
		logger.Error(err, "Error updating pod condition")
	}
	logger.V(4).Info("Scheduling attempt failed", "duration", time.Since(start))
}

func truncateMessage(msg string) string {
	const suffix = " ..."
	if len(msg) <= noteLengthLimit {
		return msg
	}
	return msg[:noteLengthLimit-len(suffix)] + suffix
}

// updatePodCondition sets cond on the pod's status unless it is already
// there, keeping the transition time when the status does not change.
func (l *loop) updatePodCondition(ctx context.Context, pod *v1.Pod, cond *v1.PodCondition) error {
	newStatus := pod.Status.DeepCopy()
	if !setPodCondition(newStatus, cond, metav1.Now()) {
		return nil
	}
	oldData, err := json.Marshal(v1.Pod{Status: pod.Status})
	if err != nil {
		return err
	}
	newData, err := json.Marshal(v1.Pod{Status: *newStatus})
	if err != nil {
		return err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(oldData, newData, &v1.Pod{})
	if err != nil {
		return fmt.Errorf("status patch for pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	if string(patch) == "{}" {
		return nil
	}
	retriable := func(err error) bool {
		return apierrors.IsConflict(err) || apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsServerTimeout(err)
	}
	return retry.OnError(retry.DefaultBackoff, retriable, func() error {
		_, err := l.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
		return err
	})
}

// setPodCondition puts cond into status and reports whether anything
// changed, as upstream's UpdatePodCondition.
func setPodCondition(status *v1.PodStatus, cond *v1.PodCondition, now metav1.Time) bool {
	cond.LastTransitionTime = now
	for i := range status.Conditions {
		old := &status.Conditions[i]
		if old.Type != cond.Type {
			continue
		}
		if cond.Status == old.Status {
			cond.LastTransitionTime = old.LastTransitionTime
		}
		same := cond.Status == old.Status && cond.Reason == old.Reason && cond.Message == old.Message &&
			cond.LastProbeTime.Equal(&old.LastProbeTime) && cond.LastTransitionTime.Equal(&old.LastTransitionTime)
		*old = *cond
		return !same
	}
	status.Conditions = append(status.Conditions, *cond)
	return true
}
