// Package replicaset keeps the number of pods a ReplicaSet asks for: it
// adopts matching orphans, releases pods that stopped matching, creates and
// deletes pods in slow-start batches, and reports the counts in the status.
// The same controller serves ReplicationControllers through an Owners
// adapter (controllers/replicationcontroller).
package replicaset

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/controllers/controllerref"
	"github.com/capstan-dev/capstan/controllers/workloop"
)

// Name is the controller's name in the manager and in its user agent.
const Name = "replicaset"

// BurstReplicas caps the pods created or deleted in one sync, so that one
// owner scaled to thousands does not starve the others.
const BurstReplicas = 500

// Event reasons; failures use the ReplicaFailure reasons.
const (
	SuccessfulCreateReason = "SuccessfulCreate"
	SuccessfulDeleteReason = "SuccessfulDelete"
)

// Controller keeps pod replicas for one kind of owner.
type Controller struct {
	kind     schema.GroupVersionKind
	owners   Owners
	resolver controllerref.Resolver[*appsv1.ReplicaSet] // finds the owners a pod event concerns
	client   kubernetes.Interface
	podIndex cache.Indexer
	recorder record.EventRecorder
	exp      *expectations
	burst    int
	now      func() time.Time
	synced   []cache.InformerSynced
	loop     *workloop.Loop // keys are namespace/name of owners
}

// New returns the ReplicaSet controller; nothing runs until Run.
func New(client kubernetes.Interface, recorder record.EventRecorder, replicaSets appsinformers.ReplicaSetInformer, pods coreinformers.PodInformer) (*Controller, error) {
	return NewFor(Name, ReplicaSets(client, replicaSets), client, recorder, pods)
}

// NewFor returns a controller called name for the given owners. It adds an
// index to the shared pod informer, so it must run before informers start.
func NewFor(name string, owners Owners, client kubernetes.Interface, recorder record.EventRecorder, pods coreinformers.PodInformer) (*Controller, error) {
	podInformer := pods.Informer()
	if err := controllerref.AddIndex(podInformer); err != nil {
		return nil, fmt.Errorf("indexing pods by controller: %w", err)
	}
	c := &Controller{
		kind:   owners.Kind(),
		owners: owners,
		resolver: controllerref.Resolver[*appsv1.ReplicaSet]{
			Kind:     owners.Kind().Kind,
			Get:      owners.Get,
			List:     owners.List,
			Selector: func(rs *appsv1.ReplicaSet) *metav1.LabelSelector { return rs.Spec.Selector },
		},
		client:   client,
		podIndex: podInformer.GetIndexer(),
		recorder: recorder,
		burst:    BurstReplicas,
		now:      time.Now,
		synced:   []cache.InformerSynced{owners.Informer().HasSynced, podInformer.HasSynced},
	}
	c.exp = newExpectations(func() time.Time { return c.now() })
	c.loop = workloop.New(name, c.sync)
	_, _ = owners.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { c.enqueue(owners.FromInformer(obj)) },
		UpdateFunc: func(oldObj, newObj any) {
			old, cur := owners.FromInformer(oldObj), owners.FromInformer(newObj)
			if old != nil && cur != nil && old.UID != cur.UID {
				// Deleted and recreated under the same name: the old one's expectations are void.
				c.exp.forget(cache.MetaObjectToName(old).String())
			}
			c.enqueue(cur)
		},
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if rs := owners.FromInformer(obj); rs != nil {
				c.exp.forget(cache.MetaObjectToName(rs).String())
				c.enqueue(rs)
			}
		},
	})
	_, _ = podInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.podAdded,
		UpdateFunc: c.podUpdated,
		DeleteFunc: c.podDeleted,
	})
	return c, nil
}

// Run syncs owners with the given number of workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) { c.loop.Run(ctx, workers, c.synced...) }

func (c *Controller) enqueue(rs *appsv1.ReplicaSet) {
	if rs != nil {
		c.loop.Add(cache.MetaObjectToName(rs).String())
	}
}

// owner resolves a pod's controller reference to one of our owners; the
// reference must name the owners' API group as well as their kind.
func (c *Controller) owner(namespace string, ref *metav1.OwnerReference) *appsv1.ReplicaSet {
	if ref == nil {
		return nil
	}
	if gv, err := schema.ParseGroupVersion(ref.APIVersion); err != nil || gv.Group != c.kind.Group {
		return nil
	}
	return c.resolver.Owner(namespace, ref)
}

func (c *Controller) podAdded(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if pod.DeletionTimestamp != nil {
		// Seen for the first time already being deleted (say, after a relist).
		c.podDeleted(pod)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if rs := c.owner(pod.Namespace, ref); rs != nil {
			key := cache.MetaObjectToName(rs).String()
			c.exp.creationObserved(key)
			c.loop.Add(key)
		}
		return
	}
	for _, rs := range c.resolver.Selecting(pod.Namespace, pod.Labels) {
		c.enqueue(rs)
	}
}

func (c *Controller) podUpdated(oldObj, newObj any) {
	old, ok1 := oldObj.(*corev1.Pod)
	cur, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 || old.ResourceVersion == cur.ResourceVersion {
		return
	}
	labelsChanged := !reflect.DeepEqual(old.Labels, cur.Labels)
	if cur.DeletionTimestamp != nil {
		// A graceful deletion shows as an update; count it as deleted now,
		// so that the owner replaces the pod without waiting for the kubelet.
		c.podDeleted(cur)
		if labelsChanged {
			c.podDeleted(old)
		}
		return
	}
	oldRef, curRef := metav1.GetControllerOfNoCopy(old), metav1.GetControllerOfNoCopy(cur)
	refChanged := !reflect.DeepEqual(oldRef, curRef)
	if refChanged && oldRef != nil {
		c.enqueue(c.owner(old.Namespace, oldRef))
	}
	if curRef != nil {
		rs := c.owner(cur.Namespace, curRef)
		if rs == nil {
			return
		}
		c.enqueue(rs)
		// Nothing will announce when the pod becomes available; look again then.
		if !IsReady(old) && IsReady(cur) && rs.Spec.MinReadySeconds > 0 {
			c.loop.AddAfter(cache.MetaObjectToName(rs).String(), time.Duration(rs.Spec.MinReadySeconds)*time.Second)
		}
		return
	}
	if labelsChanged || refChanged {
		for _, rs := range c.resolver.Selecting(cur.Namespace, cur.Labels) {
			c.enqueue(rs)
		}
	}
}

func (c *Controller) podDeleted(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	rs := c.owner(pod.Namespace, metav1.GetControllerOfNoCopy(pod))
	if rs == nil {
		return
	}
	key := cache.MetaObjectToName(rs).String()
	c.exp.deletionObserved(key, podKey(pod))
	c.loop.Add(key)
}

// sync makes the pods of one owner match its spec and reports them in its status.
func (c *Controller) sync(ctx context.Context, key string) error {
	err := c.syncOwner(ctx, key)
	if apierrors.IsConflict(err) {
		// The cache was behind. The write that got in first brings an event,
		// and with it another sync; retrying now would only conflict again.
		klog.FromContext(ctx).V(4).Info("Conflict, waiting for the cache", "kind", c.kind.Kind, "key", key, "err", err)
		return nil
	}
	return err
}

func (c *Controller) syncOwner(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	rs, err := c.owners.Get(namespace, name)
	if apierrors.IsNotFound(err) {
		c.exp.forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	logger := klog.FromContext(ctx).WithValues("kind", c.kind.Kind, "owner", klog.KObj(rs))
	selector, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		// Validation rejects such selectors; there is nothing to retry.
		logger.Error(err, "Invalid selector")
		return nil
	}
	satisfied := c.exp.satisfied(key)

	candidates, err := c.candidatePods(rs)
	if err != nil {
		return err
	}
	var active, terminating []*corev1.Pod
	for _, p := range candidates {
		switch {
		case IsActive(p):
			active = append(active, p)
		case IsTerminating(p) && metav1.IsControlledBy(p, rs) && selector.Matches(labels.Set(p.Labels)):
			terminating = append(terminating, p)
		}
	}
	claimer := &controllerref.Claimer{
		Owner: rs, Kind: c.kind, Selector: selector,
		Patch: func(ctx context.Context, name string, patch []byte) error {
			_, err := c.client.CoreV1().Pods(namespace).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		},
		Recheck: controllerref.RecheckOwner(rs, c.kind.Kind, c.owners.Fetch),
	}
	pods, err := controllerref.Claim(ctx, claimer, active)
	if err != nil {
		return err
	}

	var manageErr error
	if satisfied && rs.DeletionTimestamp == nil {
		manageErr = c.manage(ctx, rs, pods)
	}
	now := c.now()
	status := computeStatus(rs, pods, terminating, c.owners.CountsTerminating(), manageErr, now)
	updated, err := c.writeStatus(ctx, rs, status)
	if err != nil {
		return err
	}
	if manageErr != nil {
		return manageErr
	}
	if after, ok := nextAvailabilityCheck(updated, pods, now); ok {
		// A little late rather than early: at the exact instant the pod is not available yet.
		c.loop.AddAfter(key, after+100*time.Millisecond)
	}
	return nil
}

// candidatePods are the pods the owner controls and the orphans of its namespace.
func (c *Controller) candidatePods(rs *appsv1.ReplicaSet) ([]*corev1.Pod, error) {
	owned, err := controllerref.Owned[*corev1.Pod](c.podIndex, rs.UID)
	if err != nil {
		return nil, err
	}
	orphans, err := controllerref.Orphans[*corev1.Pod](c.podIndex, rs.Namespace)
	if err != nil {
		return nil, err
	}
	return append(owned, orphans...), nil
}

// manage creates or deletes pods so that the owner has the replicas it asks for.
func (c *Controller) manage(ctx context.Context, rs *appsv1.ReplicaSet, pods []*corev1.Pod) error {
	key := cache.MetaObjectToName(rs).String()
	logger := klog.FromContext(ctx)
	diff := len(pods) - int(replicas(rs))
	switch {
	case diff < 0:
		n := min(-diff, c.burst)
		// Expect before acting: the informer may show a new pod before Create returns.
		c.exp.expectCreations(key, n)
		logger.V(2).Info("Too few replicas", "kind", c.kind.Kind, "owner", klog.KObj(rs), "need", replicas(rs), "creating", n)
		ref := metav1.NewControllerRef(rs, c.kind)
		created, err := slowStart(n, func() error { return c.createPod(ctx, rs, ref) })
		for i := created; i < n; i++ {
			// Never made (failed or skipped): no event will come for these.
			c.exp.creationObserved(key)
		}
		return err
	case diff > 0:
		n := min(diff, c.burst)
		logger.V(2).Info("Too many replicas", "kind", c.kind.Kind, "owner", klog.KObj(rs), "need", replicas(rs), "deleting", n)
		victims := c.podsToDelete(rs, pods, n)
		keys := make([]string, len(victims))
		for i, p := range victims {
			keys[i] = podKey(p)
		}
		c.exp.expectDeletions(key, keys)
		errs := make(chan error, len(victims))
		var wg sync.WaitGroup
		for _, p := range victims {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.deletePod(ctx, rs, p); err != nil {
					c.exp.deletionObserved(key, podKey(p))
					if !apierrors.IsNotFound(err) {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		return <-errs // the first error, or nil
	}
	return nil
}

// slowStart calls fn count times in batches of 1, 2, 4, ... and stops after
// the first batch with a failure, so that a systematic error (quota, admission)
// costs a few requests rather than count. It returns the successes.
func slowStart(count int, fn func() error) (int, error) {
	done := 0
	for batch := min(count, 1); batch > 0; batch = min(2*batch, count-done) {
		errs := make(chan error, batch)
		var wg sync.WaitGroup
		for i := 0; i < batch; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := fn(); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		done += batch - len(errs)
		if err := <-errs; err != nil {
			return done, err
		}
	}
	return done, nil
}

// eventTarget is what events about rs refer to: the owner in its own kind.
func (c *Controller) eventTarget(rs *appsv1.ReplicaSet) *corev1.ObjectReference {
	return &corev1.ObjectReference{
		APIVersion: c.kind.GroupVersion().String(), Kind: c.kind.Kind,
		Namespace: rs.Namespace, Name: rs.Name, UID: rs.UID, ResourceVersion: rs.ResourceVersion,
	}
}

// PodFromTemplate is the pod an owner creates from its template.
func PodFromTemplate(template *corev1.PodTemplateSpec, ownerName string, ref *metav1.OwnerReference) *corev1.Pod {
	prefix := ownerName + "-"
	if len(validation.IsDNS1123Subdomain(prefix+"x")) != 0 {
		prefix = ownerName
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: prefix,
			Labels:       copyMap(template.Labels),
			Annotations:  copyMap(template.Annotations),
			Finalizers:   append([]string(nil), template.Finalizers...),
		},
		Spec: *template.Spec.DeepCopy(),
	}
	if ref != nil {
		pod.OwnerReferences = []metav1.OwnerReference{*ref}
	}
	return pod
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (c *Controller) createPod(ctx context.Context, rs *appsv1.ReplicaSet, ref *metav1.OwnerReference) error {
	pod := PodFromTemplate(&rs.Spec.Template, rs.Name, ref)
	if len(pod.Labels) == 0 {
		return fmt.Errorf("creating a pod for %s %s/%s: the template has no labels", c.kind.Kind, rs.Namespace, rs.Name)
	}
	created, err := c.client.CoreV1().Pods(rs.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		// A terminating namespace refuses all pods; its deletion ends the owner too.
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil
		}
		c.recorder.Eventf(c.eventTarget(rs), corev1.EventTypeWarning, FailedCreateReason, "Error creating: %v", err)
		return err
	}
	c.recorder.Eventf(c.eventTarget(rs), corev1.EventTypeNormal, SuccessfulCreateReason, "Created pod: %v", created.Name)
	return nil
}

func (c *Controller) deletePod(ctx context.Context, rs *appsv1.ReplicaSet, pod *corev1.Pod) error {
	err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: metav1.NewUIDPreconditions(string(pod.UID))})
	if apierrors.IsNotFound(err) {
		return err
	}
	if err != nil {
		c.recorder.Eventf(c.eventTarget(rs), corev1.EventTypeWarning, FailedDeleteReason, "Error deleting: %v", err)
		return fmt.Errorf("deleting pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	c.recorder.Eventf(c.eventTarget(rs), corev1.EventTypeNormal, SuccessfulDeleteReason, "Deleted pod: %v", pod.Name)
	return nil
}

// podsToDelete picks the n least valuable of pods. Pods sharing a node with
// many pods of the owner's siblings (the other ReplicaSets of its
// Deployment) go first, which spreads what remains.
func (c *Controller) podsToDelete(rs *appsv1.ReplicaSet, pods []*corev1.Pod, n int) []*corev1.Pod {
	if n >= len(pods) {
		return pods
	}
	perNode := map[string]int{}
	for _, p := range c.relatedPods(rs) {
		if IsActive(p) {
			perNode[p.Spec.NodeName]++
		}
	}
	sorted := byDeletionPreference{pods: append([]*corev1.Pod(nil), pods...), rank: make([]int, len(pods)), now: c.now()}
	for i, p := range sorted.pods {
		sorted.rank[i] = perNode[p.Spec.NodeName]
	}
	sort.Sort(sorted)
	return sorted.pods[:n]
}

// relatedPods are the pods controlled by rs and by the owners that share its controller.
func (c *Controller) relatedPods(rs *appsv1.ReplicaSet) []*corev1.Pod {
	owners := []*appsv1.ReplicaSet{rs}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
		all, err := c.owners.List(rs.Namespace)
		if err != nil {
			utilruntime.HandleError(err)
		}
		owners = owners[:0]
		for _, o := range all {
			if r := metav1.GetControllerOfNoCopy(o); r != nil && r.UID == ref.UID {
				owners = append(owners, o)
			}
		}
	}
	var pods []*corev1.Pod
	for _, o := range owners {
		owned, err := controllerref.Owned[*corev1.Pod](c.podIndex, o.UID)
		if err != nil {
			continue
		}
		pods = append(pods, owned...)
	}
	return pods
}
