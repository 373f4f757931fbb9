package pods

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/capstan-dev/capstan/nodeagent/staticpods"
)

// SetStaticPods replaces the set of static pods (from manifest files); new,
// changed and removed ones are synced.
func (m *Manager) SetStaticPods(pods []*corev1.Pod) {
	m.mu.Lock()
	old := m.static
	m.static = map[types.UID]*corev1.Pod{}
	for _, p := range pods {
		m.static[p.UID] = p
	}
	m.mu.Unlock()
	for _, p := range pods {
		m.kick(p)
	}
	for uid, p := range old {
		if _, ok := m.static[uid]; !ok {
			m.kick(p)
		}
	}
}

// staticPod returns the static pod with uid, with the status its mirror
// pod carries, or nil.
func (m *Manager) staticPod(uid types.UID) (*corev1.Pod, *corev1.Pod) {
	m.mu.Lock()
	p := m.static[uid]
	m.mu.Unlock()
	if p == nil {
		return nil, nil
	}
	p = p.DeepCopy()
	mirror, err := m.lister.Pods(p.Namespace).Get(p.Name)
	if err != nil || mirror.Annotations[staticpods.AnnotationMirror] != string(uid) {
		return p, nil
	}
	p.Status = *mirror.Status.DeepCopy()
	return p, mirror
}

// writeMirrorStatus shows a static pod's status on its mirror pod, creating
// the mirror when it is missing (or replacing one of another manifest).
func (s *podSync) writeMirrorStatus(ctx context.Context, status corev1.PodStatus) error {
	pods := s.m.client.CoreV1().Pods(s.pod.Namespace)
	_, mirror := s.m.staticPod(s.uid)
	if mirror != nil && mirror.DeletionTimestamp != nil {
		// Someone deleted the mirror: the static pod keeps running, and
		// its mirror comes back (as upstream).
		zero := int64(0)
		err := pods.Delete(ctx, mirror.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &mirror.UID}})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("removing deleted mirror pod: %w", err)
		}
		mirror = nil
	}
	if mirror == nil {
		var node *corev1.Node
		if s.m.cfg.Node != nil {
			node = s.m.cfg.Node()
		}
		cur, err := pods.Get(ctx, s.pod.Name, metav1.GetOptions{})
		switch {
		case err == nil && cur.Annotations[staticpods.AnnotationMirror] == string(s.uid) && cur.DeletionTimestamp == nil:
			mirror = cur
		case err == nil:
			// A stale mirror (an older manifest) or a pod in the way.
			if staticpods.IsMirror(cur) {
				_ = pods.Delete(ctx, cur.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &cur.UID}})
			}
			return fmt.Errorf("pod %s/%s is in the way of the mirror pod", cur.Namespace, cur.Name)
		case apierrors.IsNotFound(err):
			if mirror, err = pods.Create(ctx, staticpods.Mirror(s.pod, node), metav1.CreateOptions{}); err != nil {
				return fmt.Errorf("creating mirror pod: %w", err)
			}
		default:
			return err
		}
	}
	if equality.Semantic.DeepEqual(mirror.Status, status) {
		return nil
	}
	m := mirror.DeepCopy()
	m.Status = status
	_, err := pods.UpdateStatus(ctx, m, metav1.UpdateOptions{})
	return err
}

// deleteMirror removes the mirror of a static pod that is gone.
func (m *Manager) deleteMirror(ctx context.Context, ns, name string, uid types.UID) {
	mirror, err := m.lister.Pods(ns).Get(name)
	if err != nil || mirror.Annotations[staticpods.AnnotationMirror] != string(uid) {
		return
	}
	zero := int64(0)
	_ = m.client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &mirror.UID}})
}
