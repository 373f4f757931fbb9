package namespace

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

// conditionTypes are the namespace conditions this controller owns, each
// False with a fixed reason and message when all is well.
var conditionTypes = []struct {
	typ       corev1.NamespaceConditionType
	okReason  string
	okMessage string
}{
	{corev1.NamespaceDeletionDiscoveryFailure, "ResourcesDiscovered", "All resources successfully discovered"},
	{corev1.NamespaceDeletionGVParsingFailure, "ParsedGroupVersions", "All legacy kube types successfully parsed"},
	{corev1.NamespaceDeletionContentFailure, "ContentDeleted", "All content successfully deleted, may be waiting on finalization"},
	{corev1.NamespaceContentRemaining, "ContentRemoved", "All content successfully removed"},
	{corev1.NamespaceFinalizersRemaining, "ContentHasNoFinalizers", "All content-preserving finalizers finished"},
}

// conditions collects, during one deletion pass, what went wrong; apply
// turns that into the namespace's status conditions.
type conditions struct {
	failing       map[corev1.NamespaceConditionType]corev1.NamespaceCondition
	contentErrors []error
}

func newConditions() *conditions {
	return &conditions{failing: map[corev1.NamespaceConditionType]corev1.NamespaceCondition{}}
}

func (c *conditions) fail(typ corev1.NamespaceConditionType, reason, message string) {
	c.failing[typ] = corev1.NamespaceCondition{Type: typ, Status: corev1.ConditionTrue, Reason: reason, Message: message}
}

func (c *conditions) discoveryFailed(err error) {
	msg := err.Error()
	var partial *discovery.ErrGroupDiscoveryFailed
	if errors.As(err, &partial) {
		msg = fmt.Sprintf("Discovery failed for some groups, %d failing: %v", len(partial.Groups), err)
	}
	c.fail(corev1.NamespaceDeletionDiscoveryFailure, "DiscoveryFailed", msg)
}

func (c *conditions) groupVersionParsingFailed(err error) {
	c.fail(corev1.NamespaceDeletionGVParsingFailure, "GroupVersionParsingFailed", err.Error())
}

func (c *conditions) contentFailed(err error) { c.contentErrors = append(c.contentErrors, err) }

// remaining records what is left: counts per resource and per finalizer.
func (c *conditions) remaining(byResource map[schema.GroupVersionResource]int, byFinalizer map[string]int) {
	var resources []string
	for gvr, n := range byResource {
		if n > 0 {
			resources = append(resources, fmt.Sprintf("%s.%s has %d resource instances", gvr.Resource, gvr.Group, n))
		}
	}
	if len(resources) > 0 {
		sort.Strings(resources)
		c.fail(corev1.NamespaceContentRemaining, "SomeResourcesRemain", "Some resources are remaining: "+strings.Join(resources, ", "))
	}
	var finalizers []string
	for f, n := range byFinalizer {
		if n > 0 {
			finalizers = append(finalizers, fmt.Sprintf("%s in %d resource instances", f, n))
		}
	}
	if len(finalizers) > 0 {
		sort.Strings(finalizers)
		c.fail(corev1.NamespaceFinalizersRemaining, "SomeFinalizersRemain", "Some content in the namespace has finalizers remaining: "+strings.Join(finalizers, ", "))
	}
}

// apply sets every owned condition on status and reports whether anything changed.
func (c *conditions) apply(status *corev1.NamespaceStatus, now metav1.Time) bool {
	if _, ok := c.failing[corev1.NamespaceDeletionContentFailure]; !ok && len(c.contentErrors) > 0 {
		msgs := make([]string, 0, len(c.contentErrors))
		for _, err := range c.contentErrors {
			msgs = append(msgs, err.Error())
		}
		sort.Strings(msgs)
		c.fail(corev1.NamespaceDeletionContentFailure, "ContentDeletionFailed",
			fmt.Sprintf("Failed to delete all resource types, %d remaining: %v", len(msgs), strings.Join(msgs, ", ")))
	}
	changed := false
	for _, t := range conditionTypes {
		want, ok := c.failing[t.typ]
		if !ok {
			want = corev1.NamespaceCondition{Type: t.typ, Status: corev1.ConditionFalse, Reason: t.okReason, Message: t.okMessage}
		}
		i := indexOf(status.Conditions, t.typ)
		if i < 0 {
			want.LastTransitionTime = now
			status.Conditions = append(status.Conditions, want)
			changed = true
			continue
		}
		have := &status.Conditions[i]
		if have.Status == want.Status && have.Reason == want.Reason && have.Message == want.Message {
			continue
		}
		if have.Status != want.Status {
			have.LastTransitionTime = now
		}
		have.Status, have.Reason, have.Message = want.Status, want.Reason, want.Message
		changed = true
	}
	return changed
}

func indexOf(conds []corev1.NamespaceCondition, typ corev1.NamespaceConditionType) int {
	for i := range conds {
		if conds[i].Type == typ {
			return i
		}
	}
	return -1
}
