package pods

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
)

type metav1ListOptions = metav1.ListOptions

func metav1ObjectMeta(ns, name string, uid types.UID) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid}
}

func labelsEverything() labels.Selector { return labels.Everything() }

var errNotFound = errors.New("pod not found")

// worker syncs one pod until the pod is gone from the API and from the runtime.
type worker struct {
	m         *Manager
	namespace string
	name      string
	uid       types.UID
	wake      chan struct{}

	// lastStatus is the status last written, to skip unchanged writes.
	lastStatus *corev1.PodStatus
	// probed remembers one-time events already recorded.
	probed map[string]bool
	// waitingReasons are why containers could not start in the last pass.
	waitingReasons map[string]*waiting
}

func newWorker(m *Manager, ns, name string, uid types.UID) *worker {
	return &worker{m: m, namespace: ns, name: name, uid: uid, wake: make(chan struct{}, 1), probed: map[string]bool{}}
}

func (w *worker) trigger() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) run(ctx context.Context) {
	logger := klog.FromContext(ctx).WithValues("pod", klog.KRef(w.namespace, w.name), "podUID", w.uid)
	ctx = klog.NewContext(ctx, logger)
	defer w.m.workerDone(w.uid)
	for {
		next, done := w.syncOnce(ctx)
		if done {
			return
		}
		timer := time.NewTimer(next)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-w.wake:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// syncOnce runs one sync and says when to look again, or that the worker is done.
func (w *worker) syncOnce(ctx context.Context) (time.Duration, bool) {
	logger := klog.FromContext(ctx)
	pod, err := w.m.lister.Pods(w.namespace).Get(w.name)
	if apierrors.IsNotFound(err) || (err == nil && pod.UID != w.uid) {
		pod = nil
	} else if err != nil {
		return time.Second, false
	}
	static := false
	if sp, _ := w.m.staticPod(w.uid); sp != nil {
		pod, static = sp, true
	}
	s := &podSync{m: w.m, w: w, pod: pod, uid: w.uid, static: static}
	next, err := s.sync(ctx)
	if err != nil {
		logger.V(2).Info("Pod sync failed", "err", err)
		if next == 0 || next > 2*time.Second {
			next = 2 * time.Second
		}
	}
	if pod == nil && s.gone {
		// A static pod whose manifest went away takes its mirror along.
		w.m.deleteMirror(ctx, w.namespace, w.name, w.uid)
		return 0, true
	}
	if next == 0 {
		next = w.m.cfg.SyncPeriod
	}
	return next, false
}
