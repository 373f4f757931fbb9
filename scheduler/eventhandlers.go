package scheduler

import (
	"context"

	v1 "k8s.io/api/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/scheduler/framework"
)

// addEventHandlers keeps the cache and the queue in step with the informers.
func (l *loop) addEventHandlers(logger klog.Logger) error {
	if _, err := l.podInformer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { l.addPod(logger, obj) },
		UpdateFunc: func(oldObj, newObj any) { l.updatePod(logger, oldObj, newObj) },
		DeleteFunc: func(obj any) { l.deletePod(logger, obj) },
	}); err != nil {
		return err
	}
	_, err := l.nodeInformer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { l.addNode(logger, obj) },
		UpdateFunc: func(oldObj, newObj any) { l.updateNode(logger, oldObj, newObj) },
		DeleteFunc: func(obj any) { l.deleteNode(logger, obj) },
	})
	return err
}

func assigned(pod *v1.Pod) bool { return pod.Spec.NodeName != "" }

func (l *loop) responsibleFor(pod *v1.Pod) bool { return pod.Spec.SchedulerName == l.schedulerName }

// wantsScheduling: an unassigned pod of ours that is not being deleted.
func (l *loop) wantsScheduling(pod *v1.Pod) bool {
	return !assigned(pod) && l.responsibleFor(pod) && pod.DeletionTimestamp == nil
}

func (l *loop) addPod(logger klog.Logger, obj any) {
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	switch {
	case assigned(pod):
		logger.V(4).Info("Add event for scheduled pod", "pod", klog.KObj(pod))
		if err := l.cache.AddPod(logger, pod); err != nil {
			logger.Error(err, "Scheduler cache AddPod failed", "pod", klog.KObj(pod))
		}
		l.queue.MoveAllToActiveOrBackoffQueue(logger, framework.EventAssignedPodAdd, nil, pod, nil)
	case l.wantsScheduling(pod):
		logger.V(3).Info("Add event for unscheduled pod", "pod", klog.KObj(pod))
		l.queue.Add(klog.NewContext(context.Background(), logger), pod)
	}
}

func (l *loop) updatePod(logger klog.Logger, oldObj, newObj any) {
	oldPod, ok1 := oldObj.(*v1.Pod)
	newPod, ok2 := newObj.(*v1.Pod)
	if !ok1 || !ok2 {
		return
	}
	switch {
	case assigned(oldPod):
		if err := l.cache.UpdatePod(logger, oldPod, newPod); err != nil {
			logger.Error(err, "Scheduler cache UpdatePod failed", "pod", klog.KObj(newPod))
		}
		for _, e := range framework.PodSchedulingPropertiesChange(newPod, oldPod, false) {
			l.queue.MoveAllToActiveOrBackoffQueue(logger, e, oldPod, newPod, nil)
		}
	case assigned(newPod):
		// The binding, ours or someone else's.
		if err := l.cache.AddPod(logger, newPod); err != nil {
			logger.Error(err, "Scheduler cache AddPod failed", "pod", klog.KObj(newPod))
		}
		l.queue.Delete(oldPod)
		l.queue.MoveAllToActiveOrBackoffQueue(logger, framework.EventAssignedPodAdd, nil, newPod, nil)
	case l.responsibleFor(oldPod):
		if oldPod.ResourceVersion == newPod.ResourceVersion {
			return
		}
		if l.cache.IsAssumedPod(newPod) {
			// Bound by us, not yet seen bound by the informer.
			if newPod.DeletionTimestamp != nil && oldPod.DeletionTimestamp == nil {
				l.forgetAssumedPod(logger, newPod)
			}
			return
		}
		if newPod.DeletionTimestamp != nil {
			l.queue.Delete(newPod)
			return
		}
		l.queue.Update(klog.NewContext(context.Background(), logger), oldPod, newPod)
	}
}

func (l *loop) deletePod(logger klog.Logger, obj any) {
	var pod *v1.Pod
	switch t := obj.(type) {
	case *v1.Pod:
		pod = t
	case toolscache.DeletedFinalStateUnknown:
		p, ok := t.Obj.(*v1.Pod)
		if !ok {
			return
		}
		// The final state may be stale: clean up everywhere.
		l.cache.RemovePod(logger, p)
		l.queue.Delete(p)
		l.queue.MoveAllToActiveOrBackoffQueue(logger, framework.EventAssignedPodDelete, p, nil, nil)
		return
	default:
		return
	}
	if assigned(pod) {
		logger.V(4).Info("Delete event for scheduled pod", "pod", klog.KObj(pod))
		l.cache.RemovePod(logger, pod)
		l.queue.MoveAllToActiveOrBackoffQueue(logger, framework.EventAssignedPodDelete, pod, nil, nil)
		return
	}
	if !l.responsibleFor(pod) {
		return
	}
	logger.V(3).Info("Delete event for unscheduled pod", "pod", klog.KObj(pod))
	l.queue.Delete(pod)
	if l.cache.IsAssumedPod(pod) {
		l.forgetAssumedPod(logger, pod)
	}
}

// forgetAssumedPod releases what an assumed pod holds once it is being
// deleted: its binding will fail, and other pods may use the room now.
func (l *loop) forgetAssumedPod(logger klog.Logger, pod *v1.Pod) {
	cached, ok := l.cache.GetPod(pod)
	if !ok {
		return
	}
	l.cache.RemovePod(logger, cached)
	l.queue.MoveAllToActiveOrBackoffQueue(logger, framework.EventAssignedPodDelete, cached, nil, nil)
}

func (l *loop) addNode(logger klog.Logger, obj any) {
	node, ok := obj.(*v1.Node)
	if !ok {
		return
	}
	logger.V(3).Info("Add event for node", "node", klog.KObj(node))
	l.cache.AddNode(node)
	l.queue.MoveAllToActiveOrBackoffQueue(logger, framework.EventNodeAdd, nil, node, nil)
}

func (l *loop) updateNode(logger klog.Logger, oldObj, newObj any) {
	oldNode, ok1 := oldObj.(*v1.Node)
	newNode, ok2 := newObj.(*v1.Node)
	if !ok1 || !ok2 {
		return
	}
	l.cache.UpdateNode(oldNode, newNode)
	for _, e := range framework.NodeSchedulingPropertiesChange(newNode, oldNode) {
		l.queue.MoveAllToActiveOrBackoffQueue(logger, e, oldNode, newNode, nil)
	}
}

func (l *loop) deleteNode(logger klog.Logger, obj any) {
	var node *v1.Node
	switch t := obj.(type) {
	case *v1.Node:
		node = t
	case toolscache.DeletedFinalStateUnknown:
		n, ok := t.Obj.(*v1.Node)
		if !ok {
			return
		}
		node = n
	default:
		return
	}
	logger.V(3).Info("Delete event for node", "node", klog.KObj(node))
	l.cache.RemoveNode(node)
	l.queue.MoveAllToActiveOrBackoffQueue(logger, framework.ClusterEvent{Resource: framework.Node, ActionType: framework.Delete}, node, nil, nil)
}
