// Package podgc force-deletes pods nobody else will: terminated pods beyond
// a threshold, pods bound to nodes that no longer exist, terminating pods
// that were never scheduled, and terminating pods on out-of-service nodes,
// as upstream's pod garbage collector does.
package podgc

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/wait"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/controllers/workloop"
)

// Name is the controller's name in the manager and in its user agent.
const Name = "podgc"

// Defaults for Options, upstream's.
const (
	// DefaultTerminatedPodThreshold is kube-controller-manager's --terminated-pod-gc-threshold.
	DefaultTerminatedPodThreshold = 12500
	DefaultPeriod                 = 20 * time.Second
	// DefaultQuarantine is how long a node must stay missing before the
	// pods bound to it count as orphans: informers may not have seen a new node yet.
	DefaultQuarantine = 40 * time.Second
)

// Reason and message of the DisruptionTarget condition set on orphaned pods.
const (
	ReasonDeletionByPodGC = "DeletionByPodGC"
	messageNodeGone       = "PodGC: node no longer exists"
)

// Options tune the collector; zero values take the defaults.
type Options struct {
	// TerminatedPodThreshold is how many terminated pods may exist before
	// the oldest are deleted; negative disables that collection.
	TerminatedPodThreshold int
	// Period is how often all pods are examined.
	Period time.Duration
	// Quarantine: see DefaultQuarantine.
	Quarantine time.Duration
}

func (o Options) withDefaults() Options {
	if o.TerminatedPodThreshold == 0 {
		o.TerminatedPodThreshold = DefaultTerminatedPodThreshold
	}
	if o.Period <= 0 {
		o.Period = DefaultPeriod
	}
	if o.Quarantine <= 0 {
		o.Quarantine = DefaultQuarantine
	}
	return o
}

// Controller is the pod garbage collector.
type Controller struct {
	client kubernetes.Interface
	pods   corelisters.PodLister
	nodes  corelisters.NodeLister
	synced []cache.InformerSynced
	opts   Options
	// missing holds the names of nodes pods are bound to but that were not
	// found, until their quarantine ends.
	missing workqueue.TypedDelayingInterface[string]
}

// New wires the collector to its informers; nothing runs until Run.
func New(client kubernetes.Interface, pods coreinformers.PodInformer, nodes coreinformers.NodeInformer, opts Options) *Controller {
	c := &Controller{
		client:  client,
		pods:    pods.Lister(),
		nodes:   nodes.Lister(),
		synced:  []cache.InformerSynced{pods.Informer().HasSynced, nodes.Informer().HasSynced},
		opts:    opts.withDefaults(),
		missing: workqueue.NewTypedDelayingQueueWithConfig(workqueue.TypedDelayingQueueConfig[string]{Name: "orphaned_pods_nodes"}),
	}
	// A deleted node starts its quarantine at once rather than at the next period.
	_, _ = nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if n, ok := obj.(*corev1.Node); ok {
				c.missing.AddAfter(n.Name, c.opts.Quarantine)
			}
		},
	})
	return c
}

// Run collects pods until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	workloop.Serve(ctx, Name, c.synced, c.missing.ShutDown,
		func() { wait.UntilWithContext(ctx, c.gc, c.opts.Period) },
		func() {
			for c.processMissingNode(ctx) {
			}
		})
}

// gc examines every pod once.
func (c *Controller) gc(ctx context.Context) {
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		utilruntime.HandleErrorWithContext(ctx, err, "Listing pods failed")
		return
	}
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		utilruntime.HandleErrorWithContext(ctx, err, "Listing nodes failed")
		return
	}
	if c.opts.TerminatedPodThreshold > 0 {
		c.gcTerminated(ctx, pods)
	}
	c.gcOutOfService(ctx, pods)
	c.quarantineOrphans(pods, nodes)
	c.gcUnscheduledTerminating(ctx, pods)
}

func terminated(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodPending && p.Status.Phase != corev1.PodRunning && p.Status.Phase != corev1.PodUnknown
}

// gcTerminated deletes the oldest terminated pods beyond the threshold,
// evicted pods first.
func (c *Controller) gcTerminated(ctx context.Context, pods []*corev1.Pod) {
	var done []*corev1.Pod
	for _, p := range pods {
		if terminated(p) {
			done = append(done, p)
		}
	}
	excess := len(done) - c.opts.TerminatedPodThreshold
	if excess <= 0 {
		return
	}
	klog.FromContext(ctx).Info("Garbage collecting terminated pods", "count", excess)
	sortForDeletion(done)
	c.deleteAll(ctx, done[:excess], nil, "terminated")
}

// sortForDeletion orders pods evicted first, then oldest first, then by name.
func sortForDeletion(pods []*corev1.Pod) {
	evicted := func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed && p.Status.Reason == "Evicted" }
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if evicted(a) != evicted(b) {
			return evicted(a)
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
}

// gcOutOfService deletes terminating pods on nodes that are not ready and
// carry the node.kubernetes.io/out-of-service taint: their kubelet will not.
func (c *Controller) gcOutOfService(ctx context.Context, pods []*corev1.Pod) {
	var doomed []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp == nil || p.Spec.NodeName == "" {
			continue
		}
		node, err := c.nodes.Get(p.Spec.NodeName)
		if err != nil {
			continue
		}
		if !nodeReady(node) && slices.ContainsFunc(node.Spec.Taints, func(t corev1.Taint) bool { return t.Key == corev1.TaintNodeOutOfService }) {
			doomed = append(doomed, p)
		}
	}
	if len(doomed) == 0 {
		return
	}
	sortForDeletion(doomed)
	c.deleteAll(ctx, doomed, nil, "terminating on an out-of-service node")
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// quarantineOrphans starts the quarantine of nodes that pods are bound to
// but that the informer does not know.
func (c *Controller) quarantineOrphans(pods []*corev1.Pod, nodes []*corev1.Node) {
	known := sets.New[string]()
	for _, n := range nodes {
		known.Insert(n.Name)
	}
	for _, p := range pods {
		if p.Spec.NodeName != "" && !known.Has(p.Spec.NodeName) {
			c.missing.AddAfter(p.Spec.NodeName, c.opts.Quarantine)
		}
	}
}

// processMissingNode takes a node whose quarantine ended and, if the API
// server confirms it is gone, deletes the pods bound to it.
func (c *Controller) processMissingNode(ctx context.Context) bool {
	name, quit := c.missing.Get()
	if quit {
		return false
	}
	defer c.missing.Done(name)
	if _, err := c.nodes.Get(name); err == nil {
		return true
	}
	_, err := c.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	switch {
	case err == nil:
		return true
	case !apierrors.IsNotFound(err):
		// The next period puts the node back in quarantine if pods still name it.
		utilruntime.HandleErrorWithContext(ctx, err, "Checking node failed", "node", name)
		return true
	}
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		utilruntime.HandleErrorWithContext(ctx, err, "Listing pods failed")
		return true
	}
	var orphans []*corev1.Pod
	for _, p := range pods {
		if p.Spec.NodeName == name {
			orphans = append(orphans, p)
		}
	}
	for _, p := range orphans {
		klog.FromContext(ctx).V(2).Info("Found orphaned pod bound to a deleted node", "pod", klog.KObj(p), "node", name)
	}
	c.deleteAll(ctx, orphans, func(p *corev1.Pod) *corev1.PodCondition {
		return &corev1.PodCondition{
			Type:               corev1.DisruptionTarget,
			ObservedGeneration: p.Generation,
			Status:             corev1.ConditionTrue,
			Reason:             ReasonDeletionByPodGC,
			Message:            messageNodeGone,
		}
	}, "orphaned")
	return true
}

// gcUnscheduledTerminating deletes terminating pods never bound to a node:
// no kubelet will ever finish their deletion.
func (c *Controller) gcUnscheduledTerminating(ctx context.Context, pods []*corev1.Pod) {
	var doomed []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp != nil && p.Spec.NodeName == "" {
			doomed = append(doomed, p)
		}
	}
	c.deleteAll(ctx, doomed, nil, "unscheduled and terminating")
}

// deleteAll marks pods Failed (with the condition cond returns, if any) and
// force-deletes them, a few at a time.
func (c *Controller) deleteAll(ctx context.Context, pods []*corev1.Pod, cond func(*corev1.Pod) *corev1.PodCondition, why string) {
	logger := klog.FromContext(ctx)
	workqueue.ParallelizeUntil(ctx, 8, len(pods), func(i int) {
		p := pods[i]
		var pc *corev1.PodCondition
		if cond != nil {
			pc = cond(p)
		}
		if err := c.failAndDelete(ctx, p, pc); err != nil {
			utilruntime.HandleErrorWithContext(ctx, err, "Deleting pod failed", "pod", klog.KObj(p), "reason", why)
			return
		}
		logger.Info("Forced deletion of pod succeeded", "pod", klog.KObj(p), "reason", why)
	})
}

// failAndDelete moves a pod that has not finished to the Failed phase
// (otherwise a pod whose kubelet is gone would stay Running for ever in the
// eyes of its controller) and deletes it with no grace period.
func (c *Controller) failAndDelete(ctx context.Context, p *corev1.Pod, cond *corev1.PodCondition) error {
	if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
		status := p.Status.DeepCopy()
		status.Phase = corev1.PodFailed
		status.ObservedGeneration = p.Generation
		if cond != nil {
			setCondition(status, *cond, metav1.Now())
		}
		if err := c.patchStatus(ctx, p, status); err != nil {
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("marking pod %s/%s failed: %w", p.Namespace, p.Name, err)
		}
	}
	zero := int64(0)
	uid := p.UID
	err := c.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// setCondition adds or replaces cond in status, keeping the transition time
// when the status did not change.
func setCondition(status *corev1.PodStatus, cond corev1.PodCondition, now metav1.Time) {
	cond.LastTransitionTime = now
	for i := range status.Conditions {
		if status.Conditions[i].Type != cond.Type {
			continue
		}
		if status.Conditions[i].Status == cond.Status {
			cond.LastTransitionTime = status.Conditions[i].LastTransitionTime
		}
		status.Conditions[i] = cond
		return
	}
	status.Conditions = append(status.Conditions, cond)
}

// patchStatus sends the difference between p's status and status as a
// strategic merge patch that only applies to the pod with p's UID.
func (c *Controller) patchStatus(ctx context.Context, p *corev1.Pod, status *corev1.PodStatus) error {
	before, err := json.Marshal(corev1.Pod{Status: p.Status})
	if err != nil {
		return err
	}
	after, err := json.Marshal(corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: p.UID}, Status: *status})
	if err != nil {
		return err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(before, after, corev1.Pod{})
	if err != nil {
		return err
	}
	_, err = c.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	return err
}
