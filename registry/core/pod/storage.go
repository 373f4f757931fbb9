package pod

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	storeerr "k8s.io/apiserver/pkg/storage/errors"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/capstan-dev/capstan/registry/store"
)

// Storage holds every pod endpoint this package serves.
type Storage struct {
	Pod                 *store.REST
	Status              *store.StatusREST
	Binding             *BindingREST
	EphemeralContainers *EphemeralContainersREST
	Resize              *ResizeREST
	Eviction            *EvictionREST
}

// NewStorage builds the pod storage. pdbs gives eviction access to the
// PodDisruptionBudgets of the policy group.
func NewStorage(opts generic.RESTOptionsGetter, pdbs PodDisruptionBudgets) (*Storage, error) {
	s, err := store.New(Resource, opts)
	if err != nil {
		return nil, err
	}
	st := s.REST.Store
	st.TableConvertor = tableConvertor{st.TableConvertor}
	return &Storage{
		Pod:    s.REST,
		Status: s.Status,
		Binding: &BindingREST{
			store: st,
		},
		EphemeralContainers: &EphemeralContainersREST{podSubresourceREST{store: subresourceStore(st, prepareEphemeralContainersUpdate, ValidatePodEphemeralContainersUpdate)}},
		Resize:              &ResizeREST{podSubresourceREST{store: subresourceStore(st, prepareResizeUpdate, ValidatePodResize)}},
		Eviction:            NewEvictionREST(s.REST, s.Status, pdbs),
	}, nil
}

// BindingREST serves pods/binding: it assigns a pod to a node.
type BindingREST struct {
	store *genericregistry.Store
}

var _ rest.NamedCreater = &BindingREST{}

func (r *BindingREST) New() runtime.Object { return &corev1.Binding{} }
func (r *BindingREST) Destroy()            {}

// Create binds the pod named in the URL to binding.target.name.
func (r *BindingREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	binding, ok := obj.(*corev1.Binding)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a Binding object: %#v", obj))
	}
	if name != binding.Name {
		return nil, apierrors.NewBadRequest("name in URL does not match name in Binding object")
	}
	if errs := ValidatePodBinding(binding); len(errs) != 0 {
		// Upstream returns the bare aggregate here, which clients see as a
		// 500; an invalid Binding is the client's error, so answer 422.
		return nil, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Binding").GroupKind(), binding.Name, errs)
	}
	if createValidation != nil {
		if err := createValidation(ctx, binding.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	dryRun := options != nil && len(options.DryRun) > 0
	if _, err := r.bind(ctx, binding, dryRun); err != nil {
		err = storeerr.InterpretGetError(err, Resource.Resource, name)
		err = storeerr.InterpretUpdateError(err, Resource.Resource, name)
		if _, ok := err.(*apierrors.StatusError); !ok {
			err = apierrors.NewConflict(schema.GroupResource{Resource: "pods/binding"}, name, err)
		}
		return nil, err
	}
	return &metav1.Status{Status: metav1.StatusSuccess}, nil
}

// bind sets spec.nodeName of an unbound, undeleted, ungated pod, merges the
// binding's annotations and labels into the pod and marks it scheduled.
// The binding's uid and resourceVersion, when set, are preconditions.
func (r *BindingREST) bind(ctx context.Context, b *corev1.Binding, dryRun bool) (*corev1.Pod, error) {
	key, err := r.store.KeyFunc(ctx, b.Name)
	if err != nil {
		return nil, err
	}
	var pre *storage.Preconditions
	if b.UID != "" || b.ResourceVersion != "" {
		pre = &storage.Preconditions{}
		if b.UID != "" {
			uid := b.UID
			pre.UID = &uid
		}
		if b.ResourceVersion != "" {
			rv := b.ResourceVersion
			pre.ResourceVersion = &rv
		}
	}
	var final *corev1.Pod
	err = r.store.Storage.GuaranteedUpdate(ctx, key, &corev1.Pod{}, false, pre, storage.SimpleUpdate(func(obj runtime.Object) (runtime.Object, error) {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return nil, fmt.Errorf("unexpected object: %#v", obj)
		}
		if err := bindPod(pod, b.Target.Name, b.Annotations, b.Labels); err != nil {
			return nil, err
		}
		final = pod
		return pod, nil
	}), dryRun, nil)
	return final, err
}

// bindPod is the mutation a binding makes to the stored pod.
func bindPod(pod *corev1.Pod, node string, annotations, labels map[string]string) error {
	if pod.DeletionTimestamp != nil {
		return fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", pod.Name)
	}
	if pod.Spec.NodeName != "" {
		return fmt.Errorf("pod %v is already assigned to node %q", pod.Name, pod.Spec.NodeName)
	}
	if len(pod.Spec.SchedulingGates) != 0 {
		return fmt.Errorf("pod %v has non-empty .spec.schedulingGates", pod.Name)
	}
	pod.Spec.NodeName = node
	pod.Status.NominatedNodeName = ""
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	for k, v := range annotations {
		pod.Annotations[k] = v
	}
	if len(labels) > 0 {
		if pod.Labels == nil {
			pod.Labels = map[string]string{}
		}
		for k, v := range labels {
			pod.Labels[k] = v
		}
	}
	updatePodCondition(&pod.Status, corev1.PodCondition{
		Type:               corev1.PodScheduled,
		Status:             corev1.ConditionTrue,
		ObservedGeneration: pod.Generation,
	})
	return nil
}

// subresourceStrategy limits an update of the pod to what one subresource
// may change.
type subresourceStrategy struct {
	rest.RESTUpdateStrategy
	prepare  func(pod, old *corev1.Pod)
	validate func(pod, old *corev1.Pod) field.ErrorList
}

func (s subresourceStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	pod, oldPod := obj.(*corev1.Pod), old.(*corev1.Pod)
	s.prepare(pod, oldPod)
	pod.Generation = oldPod.Generation
	if !apiequality.Semantic.DeepEqual(pod.Spec, oldPod.Spec) {
		pod.Generation++
	}
}

func (s subresourceStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	pod, oldPod := obj.(*corev1.Pod), old.(*corev1.Pod)
	errs := apimachineryvalidation.ValidateObjectMetaUpdate(&pod.ObjectMeta, &oldPod.ObjectMeta, field.NewPath("metadata"))
	return append(errs, s.validate(pod, oldPod)...)
}

func (s subresourceStrategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}

func subresourceStore(st *genericregistry.Store, prepare func(pod, old *corev1.Pod), validate func(pod, old *corev1.Pod) field.ErrorList) *genericregistry.Store {
	sub := *st
	sub.UpdateStrategy = subresourceStrategy{RESTUpdateStrategy: st.UpdateStrategy, prepare: prepare, validate: validate}
	return &sub
}

// prepareEphemeralContainersUpdate keeps everything of the stored pod but
// the new ephemeral containers.
func prepareEphemeralContainersUpdate(pod, old *corev1.Pod) {
	ephemeral := pod.Spec.EphemeralContainers
	pod.Spec = old.Spec
	pod.Spec.EphemeralContainers = ephemeral
	pod.Status = old.Status
	metav1.ResetObjectMetaForStatus(pod, old)
}

// prepareResizeUpdate keeps everything of the stored pod but the
// containers' resources and resize policies. Added, removed, reordered or
// renamed containers are left for validation to reject.
func prepareResizeUpdate(pod, old *corev1.Pod) {
	if len(pod.Spec.Containers) != len(old.Spec.Containers) || len(pod.Spec.InitContainers) != len(old.Spec.InitContainers) {
		return
	}
	merge := func(cs, olds []corev1.Container) ([]corev1.Container, bool) {
		out := make([]corev1.Container, len(olds))
		copy(out, olds)
		for i := range cs {
			if cs[i].Name != olds[i].Name {
				return nil, false
			}
			out[i].Resources = cs[i].Resources
			out[i].ResizePolicy = cs[i].ResizePolicy
		}
		return out, true
	}
	containers, ok := merge(pod.Spec.Containers, old.Spec.Containers)
	if !ok {
		return
	}
	inits, ok := merge(pod.Spec.InitContainers, old.Spec.InitContainers)
	if !ok {
		return
	}
	pod.Spec = old.Spec
	pod.Spec.Containers = containers
	if len(inits) > 0 {
		pod.Spec.InitContainers = inits
	}
	pod.Status = old.Status
	metav1.ResetObjectMetaForStatus(pod, old)
}

// podSubresourceREST is get, update and patch of a pod through a
// restricted update strategy.
type podSubresourceREST struct {
	store *genericregistry.Store
}

func (r *podSubresourceREST) New() runtime.Object { return &corev1.Pod{} }
func (r *podSubresourceREST) Destroy()            {}

func (r *podSubresourceREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return r.store.Get(ctx, name, options)
}

func (r *podSubresourceREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, _ bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	return r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}

// EphemeralContainersREST serves pods/ephemeralcontainers.
type EphemeralContainersREST struct{ podSubresourceREST }

// ResizeREST serves pods/resize.
type ResizeREST struct{ podSubresourceREST }

var (
	_ rest.Patcher                   = &EphemeralContainersREST{}
	_ rest.ResetFieldsFilterStrategy = &EphemeralContainersREST{}
	_ rest.Patcher                   = &ResizeREST{}
	_ rest.ResetFieldsFilterStrategy = &ResizeREST{}
)

// GetResetFieldsFilter keeps only spec.ephemeralContainers of an apply.
func (r *EphemeralContainersREST) GetResetFieldsFilter() map[fieldpath.APIVersion]fieldpath.Filter {
	return map[fieldpath.APIVersion]fieldpath.Filter{
		"v1": fieldpath.NewIncludeMatcherFilter(fieldpath.MakePrefixMatcherOrDie("spec", "ephemeralContainers")),
	}
}

// GetResetFieldsFilter keeps only container resources and resize policies of an apply.
func (r *ResizeREST) GetResetFieldsFilter() map[fieldpath.APIVersion]fieldpath.Filter {
	var matchers []*fieldpath.SetMatcher
	for _, list := range []string{"containers", "initContainers"} {
		for _, f := range []string{"resources", "resizePolicy"} {
			matchers = append(matchers, fieldpath.MakePrefixMatcherOrDie("spec", list, fieldpath.MatchAnyPathElement(), f))
		}
	}
	return map[fieldpath.APIVersion]fieldpath.Filter{"v1": fieldpath.NewIncludeMatcherFilter(matchers...)}
}

// LegacyBindingREST serves the top-level core/v1 bindings resource: a POST
// of a Binding whose name is the pod's, equivalent to pods/binding.
type LegacyBindingREST struct{ *BindingREST }

var (
	_ rest.Creater              = &LegacyBindingREST{}
	_ rest.Scoper               = &LegacyBindingREST{}
	_ rest.SingularNameProvider = &LegacyBindingREST{}
)

func (r *LegacyBindingREST) NamespaceScoped() bool   { return true }
func (r *LegacyBindingREST) GetSingularName() string { return "binding" }

func (r *LegacyBindingREST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	b, ok := obj.(*corev1.Binding)
	if !ok {
		return nil, fmt.Errorf("expected a Binding, got %T", obj)
	}
	return r.BindingREST.Create(ctx, b.Name, obj, createValidation, options)
}
