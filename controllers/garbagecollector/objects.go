package garbagecollector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/util/retry"
)

// errClusterScopedWithNamespacedOwner marks a cluster-scoped object that
// names a namespaced owner: no retry can resolve that.
var errClusterScopedWithNamespacedOwner = errors.New("cluster-scoped objects cannot refer to namespaced owners")

// mappingError: the apiVersion and kind of a reference are not (yet) served.
type mappingError struct {
	apiVersion, kind string
	err              error
}

func (e *mappingError) Error() string {
	return fmt.Sprintf("unable to get REST mapping for %s/%s: %v", e.apiVersion, e.kind, e.err)
}

func (e *mappingError) Unwrap() error { return e.err }

// resourceFor maps an apiVersion and kind to its resource and scope.
func (c *Controller) resourceFor(apiVersion, kind string) (schema.GroupVersionResource, bool, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return schema.GroupVersionResource{}, false, &mappingError{apiVersion, kind, err}
	}
	m, err := c.mapper.RESTMapping(gv.WithKind(kind).GroupKind(), gv.Version)
	if err != nil {
		// Perhaps a custom resource discovery has not reported yet.
		c.requestResync()
		return schema.GroupVersionResource{}, false, &mappingError{apiVersion, kind, err}
	}
	return m.Resource, m.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

// resourceClient is the metadata client for id's resource and namespace.
func (c *Controller) resourceClient(id ref) (metadata.ResourceInterface, error) {
	gvr, namespaced, err := c.resourceFor(id.APIVersion, id.Kind)
	if err != nil {
		return nil, err
	}
	if !namespaced {
		return c.metadata.Resource(gvr), nil
	}
	if id.Namespace == "" {
		// Only a cluster-scoped object's reference leads here.
		return nil, errClusterScopedWithNamespacedOwner
	}
	return c.metadata.Resource(gvr).Namespace(id.Namespace), nil
}

func (c *Controller) getObject(ctx context.Context, id ref) (*metav1.PartialObjectMetadata, error) {
	rc, err := c.resourceClient(id)
	if err != nil {
		return nil, err
	}
	return rc.Get(ctx, id.Name, metav1.GetOptions{})
}

// deleteObject deletes id if it still has its UID and, when rv is set, is
// unchanged since rv. A conflict caused by changes other than to the owner
// references is retried without the resourceVersion precondition, so that
// objects updated often are still collected.
func (c *Controller) deleteObject(ctx context.Context, id ref, rv string, owners []metav1.OwnerReference, policy metav1.DeletionPropagation) error {
	rc, err := c.resourceClient(id)
	if err != nil {
		return err
	}
	uid := id.UID
	pre := &metav1.Preconditions{UID: &uid}
	if rv != "" {
		pre.ResourceVersion = &rv
	}
	err = rc.Delete(ctx, id.Name, metav1.DeleteOptions{Preconditions: pre, PropagationPolicy: &policy})
	if !apierrors.IsConflict(err) || rv == "" {
		return err
	}
	live, getErr := rc.Get(ctx, id.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(getErr) {
		return getErr
	}
	if getErr == nil && live.UID == id.UID && live.ResourceVersion != rv && apiequality.Semantic.DeepEqual(live.OwnerReferences, owners) {
		return c.deleteObject(ctx, id, "", nil, policy)
	}
	return err
}

// patchOwnerRefs changes id's owner references: first by a strategic merge
// patch carrying the object's UID, which needs no resourceVersion; for
// resources that take no strategic merge patch (custom resources), by a
// JSON merge patch of the whole list computed from the live object.
func (c *Controller) patchOwnerRefs(ctx context.Context, id ref, smp []map[string]any, edit func([]metav1.OwnerReference) []metav1.OwnerReference) error {
	rc, err := c.resourceClient(id)
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"metadata": map[string]any{"uid": id.UID, "ownerReferences": smp}})
	if err != nil {
		return err
	}
	_, err = rc.Patch(ctx, id.Name, types.StrategicMergePatchType, body, metav1.PatchOptions{})
	if !apierrors.IsUnsupportedMediaType(err) {
		return err
	}
	live, err := rc.Get(ctx, id.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if live.UID != id.UID {
		return apierrors.NewNotFound(schema.GroupResource{}, id.Name)
	}
	body, err = json.Marshal(map[string]any{"metadata": map[string]any{
		"resourceVersion": live.ResourceVersion,
		"ownerReferences": edit(live.OwnerReferences),
	}})
	if err != nil {
		return err
	}
	_, err = rc.Patch(ctx, id.Name, types.MergePatchType, body, metav1.PatchOptions{})
	return err
}

// removeOwnerRefs drops id's references to the given owner UIDs.
func (c *Controller) removeOwnerRefs(ctx context.Context, id ref, owners []types.UID) error {
	smp := make([]map[string]any, 0, len(owners))
	for _, uid := range owners {
		smp = append(smp, map[string]any{"$patch": "delete", "uid": uid})
	}
	return c.patchOwnerRefs(ctx, id, smp, func(refs []metav1.OwnerReference) []metav1.OwnerReference {
		return slices.DeleteFunc(slices.Clone(refs), func(o metav1.OwnerReference) bool { return slices.Contains(owners, o.UID) })
	})
}

// unblockOwnerRefs clears blockOwnerDeletion on id's references, so that an
// owner waiting for it in the foreground is not stuck in a cycle.
func (c *Controller) unblockOwnerRefs(ctx context.Context, id ref, owners []metav1.OwnerReference) error {
	var smp []map[string]any
	for _, o := range owners {
		if !blocking(o) {
			continue
		}
		entry := map[string]any{"apiVersion": o.APIVersion, "kind": o.Kind, "name": o.Name, "uid": o.UID, "blockOwnerDeletion": false}
		if o.Controller != nil {
			entry["controller"] = *o.Controller
		}
		smp = append(smp, entry)
	}
	if len(smp) == 0 {
		return nil
	}
	no := false
	return c.patchOwnerRefs(ctx, id, smp, func(refs []metav1.OwnerReference) []metav1.OwnerReference {
		out := slices.Clone(refs)
		for i := range out {
			out[i].BlockOwnerDeletion = &no
		}
		return out
	})
}

// removeFinalizer takes finalizer off id, retrying on conflicts.
func (c *Controller) removeFinalizer(ctx context.Context, id ref, finalizer string) error {
	rc, err := c.resourceClient(id)
	if err != nil {
		return err
	}
	err = retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		live, err := rc.Get(ctx, id.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if live.UID != id.UID || !slices.Contains(live.Finalizers, finalizer) {
			return nil
		}
		rest := slices.DeleteFunc(slices.Clone(live.Finalizers), func(f string) bool { return f == finalizer })
		body, err := json.Marshal(map[string]any{"metadata": map[string]any{"resourceVersion": live.ResourceVersion, "finalizers": rest}})
		if err != nil {
			return err
		}
		_, err = rc.Patch(ctx, id.Name, types.MergePatchType, body, metav1.PatchOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("removing finalizer %s from %s: %w", finalizer, id, err)
	}
	return nil
}
