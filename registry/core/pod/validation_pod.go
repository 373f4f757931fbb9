package pod

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/capstan-dev/capstan/registry/validate"
)

// updatablePodSpecFields is how upstream names what a pod update may change.
var updatablePodSpecFields = []string{
	"`spec.containers[*].image`",
	"`spec.initContainers[*].image`",
	"`spec.activeDeadlineSeconds`",
	"`spec.tolerations` (only additions to existing tolerations)",
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
}

// validatePodMetadataAndSpec is what create and every spec-changing update
// check beyond the generic object metadata.
func validatePodMetadataAndSpec(pod *corev1.Pod) field.ErrorList {
	specPath := field.NewPath("spec")
	errs := validatePodSpecificAnnotations(pod.Annotations, &pod.Spec, field.NewPath("metadata", "annotations"))
	errs = append(errs, validatePodSpec(&pod.Spec, &pod.ObjectMeta, specPath, options{resourceIsPod: true})...)
	if pod.Spec.ServiceAccountName == "" {
		for vi, v := range pod.Spec.Volumes {
			if v.Projected == nil {
				continue
			}
			for si, src := range v.Projected.Sources {
				if src.ServiceAccountToken != nil {
					errs = append(errs, field.Forbidden(specPath.Child("volumes").Index(vi).Child("projected", "sources").Index(si).Child("serviceAccountToken"),
						"must not be specified when serviceAccountName is not set"))
				}
			}
		}
	}
	for i := range pod.Spec.Containers {
		errs = append(errs, validateContainerOnlyForPod(&pod.Spec.Containers[i], specPath.Child("containers").Index(i))...)
	}
	for i := range pod.Spec.InitContainers {
		errs = append(errs, validateContainerOnlyForPod(&pod.Spec.InitContainers[i], specPath.Child("initContainers").Index(i))...)
	}
	return errs
}

// ValidatePod checks a pod being created (the generic metadata checks are
// the store's).
func ValidatePod(pod *corev1.Pod) field.ErrorList {
	errs := validatePodMetadataAndSpec(pod)
	specPath := field.NewPath("spec")
	if len(pod.Spec.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(specPath.Child("ephemeralContainers"), "cannot be set on create"))
	}
	if pod.Spec.NodeName != "" && len(pod.Spec.SchedulingGates) != 0 {
		errs = append(errs, field.Forbidden(specPath.Child("nodeName"), "cannot be set until all schedulingGates have been cleared"))
	}
	return errs
}

// validatePodSpecificAnnotationUpdates forbids changing the mirror pod and
// AppArmor annotations.
func validatePodSpecificAnnotationUpdates(pod, old *corev1.Pod, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sets.List(sets.KeySet(old.Annotations)) {
		if v, ok := pod.Annotations[k]; ok && v == old.Annotations[k] {
			continue
		}
		if strings.HasPrefix(k, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix) {
			errs = append(errs, field.Forbidden(p.Key(k), "may not remove or update AppArmor annotations"))
		}
		if k == corev1.MirrorPodAnnotationKey {
			errs = append(errs, field.Forbidden(p.Key(k), "may not remove or update mirror pod annotation"))
		}
	}
	for _, k := range sets.List(sets.KeySet(pod.Annotations)) {
		if _, ok := old.Annotations[k]; ok {
			continue
		}
		if strings.HasPrefix(k, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix) {
			errs = append(errs, field.Forbidden(p.Key(k), "may not add AppArmor annotations"))
		}
		if k == corev1.MirrorPodAnnotationKey {
			errs = append(errs, field.Forbidden(p.Key(k), "may not add mirror pod annotation"))
		}
	}
	return errs
}

func validateContainerUpdates(containers, old []corev1.Container, p *field.Path) (field.ErrorList, bool) {
	if len(containers) != len(old) {
		return field.ErrorList{field.Forbidden(p, "pod updates may not add or remove containers")}, true
	}
	var errs field.ErrorList
	for i, c := range containers {
		if c.Image == "" {
			errs = append(errs, field.Required(p.Index(i).Child("image"), ""))
		}
		if len(strings.TrimSpace(c.Image)) != len(c.Image) {
			errs = append(errs, field.Invalid(p.Index(i).Child("image"), c.Image, "must not have leading or trailing whitespace"))
		}
	}
	return errs, false
}

// ValidatePodUpdate allows only the changes upstream allows to a running
// pod's spec: images, a shorter active deadline, added tolerations, a
// negative grace period raised to 1, and removed scheduling gates (with
// node selector and affinity additions while gated).
func ValidatePodUpdate(pod, old *corev1.Pod) field.ErrorList {
	errs := validatePodMetadataAndSpec(pod)
	errs = append(errs, validatePodSpecificAnnotationUpdates(pod, old, field.NewPath("metadata", "annotations"))...)
	specPath := field.NewPath("spec")

	cErrs, stop := validateContainerUpdates(pod.Spec.Containers, old.Spec.Containers, specPath.Child("containers"))
	errs = append(errs, cErrs...)
	if stop {
		return errs
	}
	cErrs, stop = validateContainerUpdates(pod.Spec.InitContainers, old.Spec.InitContainers, specPath.Child("initContainers"))
	errs = append(errs, cErrs...)
	if stop {
		return errs
	}

	adsPath := specPath.Child("activeDeadlineSeconds")
	if ads := pod.Spec.ActiveDeadlineSeconds; ads != nil {
		if *ads < 0 || *ads > math.MaxInt32 {
			return append(errs, field.Invalid(adsPath, *ads, validation.InclusiveRangeError(0, math.MaxInt32)))
		}
		if old.Spec.ActiveDeadlineSeconds != nil && *old.Spec.ActiveDeadlineSeconds < *ads {
			return append(errs, field.Invalid(adsPath, *ads, "must be less than or equal to previous value"))
		}
	} else if old.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Invalid(adsPath, pod.Spec.ActiveDeadlineSeconds, "must not update from a positive integer to nil value"))
	}

	errs = append(errs, validateOnlyAddedTolerations(pod.Spec.Tolerations, old.Spec.Tolerations, specPath.Child("tolerations"))...)
	errs = append(errs, validateOnlyDeletedSchedulingGates(pod.Spec.SchedulingGates, old.Spec.SchedulingGates, specPath.Child("schedulingGates"))...)

	if apiequality.Semantic.DeepEqual(pod.Spec, old.Spec) {
		return errs
	}
	munged := *pod.Spec.DeepCopy()
	for i := range munged.Containers {
		munged.Containers[i].Image = old.Spec.Containers[i].Image
	}
	for i := range munged.InitContainers {
		munged.InitContainers[i].Image = old.Spec.InitContainers[i].Image
	}
	munged.ActiveDeadlineSeconds = nil
	if old.Spec.ActiveDeadlineSeconds != nil {
		v := *old.Spec.ActiveDeadlineSeconds
		munged.ActiveDeadlineSeconds = &v
	}
	munged.SchedulingGates = old.Spec.SchedulingGates
	munged.Tolerations = old.Spec.Tolerations
	if g := old.Spec.TerminationGracePeriodSeconds; g != nil && *g < 0 &&
		munged.TerminationGracePeriodSeconds != nil && *munged.TerminationGracePeriodSeconds == 1 {
		munged.TerminationGracePeriodSeconds = old.Spec.TerminationGracePeriodSeconds
	}
	if len(old.Spec.SchedulingGates) > 0 {
		// A gated pod may gain node selector entries and narrow its node affinity.
		if !apiequality.Semantic.DeepEqual(munged.NodeSelector, old.Spec.NodeSelector) {
			errs = append(errs, validateNodeSelectorMutation(specPath.Child("nodeSelector"), munged.NodeSelector, old.Spec.NodeSelector)...)
			munged.NodeSelector = old.Spec.NodeSelector
		}
		var oldNA, newNA *corev1.NodeAffinity
		if old.Spec.Affinity != nil {
			oldNA = old.Spec.Affinity.NodeAffinity
		}
		if munged.Affinity != nil {
			newNA = munged.Affinity.NodeAffinity
		}
		if !apiequality.Semantic.DeepEqual(oldNA, newNA) {
			errs = append(errs, validateNodeAffinityMutation(specPath.Child("affinity", "nodeAffinity"), newNA, oldNA)...)
			switch {
			case munged.Affinity == nil && oldNA == nil:
			case munged.Affinity == nil:
				munged.Affinity = &corev1.Affinity{NodeAffinity: oldNA}
			case old.Spec.Affinity == nil && munged.Affinity.PodAffinity == nil && munged.Affinity.PodAntiAffinity == nil:
				munged.Affinity = nil
			default:
				munged.Affinity.NodeAffinity = oldNA
			}
		}
	}
	if !apiequality.Semantic.DeepEqual(munged, old.Spec) {
		errs = append(errs, field.Forbidden(specPath, fmt.Sprintf("pod updates may not change fields other than %s\n%v",
			strings.Join(updatablePodSpecFields, ","), diff.Diff(old.Spec, munged))))
	}
	return errs
}

func validateOnlyAddedTolerations(tolerations, old []corev1.Toleration, p *field.Path) field.ErrorList {
	for _, o := range old {
		found := false
		for _, t := range tolerations {
			c := o
			c.TolerationSeconds = t.TolerationSeconds
			if reflect.DeepEqual(c, t) {
				found = true
				break
			}
		}
		if !found {
			return field.ErrorList{field.Forbidden(p, "existing toleration can not be modified except its tolerationSeconds")}
		}
	}
	return ValidateTolerations(tolerations, p)
}

func validateOnlyDeletedSchedulingGates(gates, old []corev1.PodSchedulingGate, p *field.Path) field.ErrorList {
	oldNames := sets.New[string]()
	for _, g := range old {
		oldNames.Insert(g.Name)
	}
	var errs field.ErrorList
	for i, g := range gates {
		if !oldNames.Has(g.Name) {
			errs = append(errs, field.Forbidden(p.Index(i).Child("name"), fmt.Sprintf("only deletion is allowed, but found new scheduling gate '%s'", g.Name)))
		}
	}
	return errs
}

func validateNodeSelectorMutation(p *field.Path, selector, old map[string]string) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sets.List(sets.KeySet(old)) {
		v, ok := selector[k]
		if !ok {
			errs = append(errs, field.Forbidden(p.Key(k), "no removals allowed"))
		} else if v != old[k] {
			errs = append(errs, field.Invalid(p.Key(k), v, "no mutations allowed"))
		}
	}
	return errs
}

// validateNodeAffinityMutation lets a gated pod add required node
// selector requirements but not drop or change existing ones, nor touch
// the preferred terms.
func validateNodeAffinityMutation(p *field.Path, na, old *corev1.NodeAffinity) field.ErrorList {
	var errs field.ErrorList
	var oldReq, newReq *corev1.NodeSelector
	var oldPref, newPref []corev1.PreferredSchedulingTerm
	if old != nil {
		oldReq, oldPref = old.RequiredDuringSchedulingIgnoredDuringExecution, old.PreferredDuringSchedulingIgnoredDuringExecution
	}
	if na != nil {
		newReq, newPref = na.RequiredDuringSchedulingIgnoredDuringExecution, na.PreferredDuringSchedulingIgnoredDuringExecution
	}
	rp := p.Child("requiredDuringSchedulingIgnoredDuringExecution")
	if oldReq != nil {
		if newReq == nil {
			errs = append(errs, field.Forbidden(rp, "no removals allowed"))
		} else if len(newReq.NodeSelectorTerms) != len(oldReq.NodeSelectorTerms) {
			errs = append(errs, field.Invalid(rp.Child("nodeSelectorTerms"), newReq.NodeSelectorTerms, "no additions/deletions to non-empty NodeSelectorTerms list are allowed"))
		} else {
			for i, t := range oldReq.NodeSelectorTerms {
				nt := newReq.NodeSelectorTerms[i]
				if !containsRequirements(nt.MatchExpressions, t.MatchExpressions) || !apiequality.Semantic.DeepEqual(nt.MatchFields, t.MatchFields) {
					errs = append(errs, field.Invalid(rp.Child("nodeSelectorTerms").Index(i), nt, "only addition of expressions is allowed"))
				}
			}
		}
	}
	if !apiequality.Semantic.DeepEqual(newPref, oldPref) {
		errs = append(errs, field.Invalid(p.Child("preferredDuringSchedulingIgnoredDuringExecution"), newPref, "no modifications allowed"))
	}
	return errs
}

func containsRequirements(have, want []corev1.NodeSelectorRequirement) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if apiequality.Semantic.DeepEqual(h, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

var systemPodConditions = sets.New(corev1.PodScheduled, corev1.PodReady, corev1.PodInitialized)

// ValidatePodStatusUpdate checks a write to pods/status.
func ValidatePodStatusUpdate(pod, old *corev1.Pod) field.ErrorList {
	errs := validatePodSpecificAnnotationUpdates(pod, old, field.NewPath("metadata", "annotations"))
	errs = append(errs, validatePodSpecificAnnotations(pod.Annotations, &pod.Spec, field.NewPath("metadata", "annotations"))...)
	for i, c := range pod.Status.Conditions {
		if !systemPodConditions.Has(c.Type) {
			errs = append(errs, qualifiedName(string(c.Type), field.NewPath("metadata", "conditions").Index(i).Child("Type"))...)
		}
	}
	sp := field.NewPath("status")
	if pod.Spec.NodeName != old.Spec.NodeName {
		errs = append(errs, field.Forbidden(sp.Child("nodeName"), "may not be changed directly"))
	}
	if n := pod.Status.NominatedNodeName; n != old.Status.NominatedNodeName && n != "" {
		errs = append(errs, validate.Invalid(sp.Child("nominatedNodeName"), n, apimachineryvalidation.NameIsDNSSubdomain(n, false))...)
	}
	errs = append(errs, apimachineryvalidation.ValidateImmutableField(pod.Status.QOSClass, old.Status.QOSClass, sp.Child("qosClass"))...)
	errs = append(errs, validateContainerStateTransition(pod.Status.ContainerStatuses, old.Status.ContainerStatuses, sp.Child("containerStatuses"), old.Spec.RestartPolicy, nil)...)
	errs = append(errs, validateContainerStateTransition(pod.Status.InitContainerStatuses, old.Status.InitContainerStatuses, sp.Child("initContainerStatuses"), old.Spec.RestartPolicy, old.Spec.InitContainers)...)
	errs = append(errs, validateContainerStateTransition(pod.Status.EphemeralContainerStatuses, old.Status.EphemeralContainerStatuses, sp.Child("ephemeralContainerStatuses"), corev1.RestartPolicyNever, nil)...)
	errs = append(errs, validateResourceClaimStatuses(pod.Status.ResourceClaimStatuses, pod.Spec.ResourceClaims, sp.Child("resourceClaimStatuses"))...)
	errs = append(errs, validateStatusIPs(pod.Status.PodIPs, old.Status.PodIPs, sp.Child("podIPs"))...)
	if len(pod.Status.HostIPs) > 0 && pod.Status.HostIP != pod.Status.HostIPs[0].IP {
		errs = append(errs, field.Invalid(sp.Child("hostIPs").Index(0).Child("ip"), pod.Status.HostIPs[0].IP, "must be equal to `hostIP`"))
	}
	hostIPs := make([]corev1.PodIP, len(pod.Status.HostIPs))
	for i, h := range pod.Status.HostIPs {
		hostIPs[i] = corev1.PodIP(h)
	}
	oldHostIPs := make([]corev1.PodIP, len(old.Status.HostIPs))
	for i, h := range old.Status.HostIPs {
		oldHostIPs[i] = corev1.PodIP(h)
	}
	errs = append(errs, validateStatusIPs(hostIPs, oldHostIPs, sp.Child("hostIPs"))...)
	return errs
}

// validateStatusIPs: valid addresses, at most one per family, no repeats.
func validateStatusIPs(ips, old []corev1.PodIP, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	var oldIPs []string
	for _, ip := range old {
		oldIPs = append(oldIPs, ip.IP)
	}
	for i, ip := range ips {
		errs = append(errs, validation.IsValidIPForLegacyField(p.Index(i), ip.IP, false, oldIPs)...)
	}
	if len(ips) <= 1 || len(errs) > 0 {
		return errs
	}
	strs := make([]string, len(ips))
	for i, ip := range ips {
		strs[i] = ip.IP
	}
	dual, err := netutils.IsDualStackIPStrings(strs)
	if err != nil {
		errs = append(errs, field.InternalError(p, fmt.Errorf("failed to check for dual stack with error:%v", err)))
	}
	if !dual || len(strs) > 2 {
		errs = append(errs, field.Invalid(p, ips, "may specify no more than one IP for each IP family"))
	}
	seen := sets.New[string]()
	for i, ip := range ips {
		if seen.Has(ip.IP) {
			errs = append(errs, field.Duplicate(p.Index(i), ip))
		}
		seen.Insert(ip.IP)
	}
	return errs
}

// validateContainerStateTransition forbids terminated containers of pods
// that do not restart them from becoming non-terminated again.
func validateContainerStateTransition(statuses, old []corev1.ContainerStatus, p *field.Path, restart corev1.RestartPolicy, inits []corev1.Container) field.ErrorList {
	if restart == corev1.RestartPolicyAlways {
		return nil
	}
	var errs field.ErrorList
	for i, o := range old {
		if o.State.Terminated == nil {
			continue
		}
		if o.State.Terminated.ExitCode != 0 && restart == corev1.RestartPolicyOnFailure {
			continue
		}
		sidecar := false
		for j := range inits {
			if inits[j].Name == o.Name {
				sidecar = isRestartableInitContainer(&inits[j])
				break
			}
		}
		if sidecar {
			continue
		}
		for _, s := range statuses {
			if s.Name == o.Name && s.State.Terminated == nil {
				errs = append(errs, field.Forbidden(p.Index(i).Child("state"), "may not be transitioned to non-terminated state"))
			}
		}
	}
	return errs
}

func validateResourceClaimStatuses(statuses []corev1.PodResourceClaimStatus, claims []corev1.PodResourceClaim, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for _, c := range claims {
		names.Insert(c.Name)
	}
	seen := sets.New[string]()
	for i, s := range statuses {
		ip := p.Index(i)
		if !names.Has(s.Name) {
			errs = append(errs, field.Invalid(ip.Child("name"), s.Name, "must match the name of an entry in `spec.resourceClaims`"))
		}
		if seen.Has(s.Name) {
			errs = append(errs, field.Duplicate(ip.Child("name"), s.Name))
		}
		seen.Insert(s.Name)
		if s.ResourceClaimName != nil {
			errs = append(errs, validate.Invalid(ip.Child("name"), s.ResourceClaimName, apimachineryvalidation.NameIsDNSSubdomain(*s.ResourceClaimName, false))...)
		}
	}
	return errs
}

// ValidatePodEphemeralContainersUpdate checks a write to
// pods/ephemeralcontainers: existing ephemeral containers stay as they are.
func ValidatePodEphemeralContainersUpdate(pod, old *corev1.Pod) field.ErrorList {
	errs := validatePodMetadataAndSpec(pod)
	errs = append(errs, validatePodSpecificAnnotationUpdates(pod, old, field.NewPath("metadata", "annotations"))...)
	if _, ok := old.Annotations[corev1.MirrorPodAnnotationKey]; ok {
		return field.ErrorList{field.Forbidden(field.NewPath(""), "static pods do not support ephemeral containers")}
	}
	byName := map[string]*corev1.EphemeralContainer{}
	for i := range pod.Spec.EphemeralContainers {
		byName[pod.Spec.EphemeralContainers[i].Name] = &pod.Spec.EphemeralContainers[i]
	}
	p := field.NewPath("spec", "ephemeralContainers")
	for _, o := range old.Spec.EphemeralContainers {
		n, ok := byName[o.Name]
		if !ok {
			errs = append(errs, field.Forbidden(p, fmt.Sprintf("existing ephemeral containers %q may not be removed\n", o.Name)))
		} else if !apiequality.Semantic.DeepEqual(o, *n) {
			errs = append(errs, field.Forbidden(p, fmt.Sprintf("existing ephemeral containers %q may not be changed\n%v", o.Name, diff.Diff(o, *n))))
		}
	}
	return errs
}

// ValidatePodResize checks a write to pods/resize: only container cpu and
// memory, within the same QoS class.
func ValidatePodResize(pod, old *corev1.Pod) field.ErrorList {
	errs := validatePodMetadataAndSpec(pod)
	levelSet := func(p *corev1.Pod) bool {
		return p.Spec.Resources != nil && len(p.Spec.Resources.Requests)+len(p.Spec.Resources.Limits) > 0
	}
	if levelSet(old) || levelSet(pod) {
		return field.ErrorList{field.Forbidden(field.NewPath(""), "pods with pod-level resources cannot be resized")}
	}
	if _, ok := old.Annotations[corev1.MirrorPodAnnotationKey]; ok {
		return field.ErrorList{field.Forbidden(field.NewPath(""), "static pods cannot be resized")}
	}
	if old.Spec.OS != nil && old.Spec.OS.Name == corev1.Windows {
		return field.ErrorList{field.Forbidden(field.NewPath(""), "windows pods cannot be resized")}
	}
	specPath := field.NewPath("spec")
	oldQOS := old.Status.QOSClass
	if oldQOS == "" {
		oldQOS = QOSClass(old)
	}
	if oldQOS != QOSClass(pod) {
		errs = append(errs, field.Invalid(specPath, pod.Status.QOSClass, "Pod QOS Class may not change as a result of resizing"))
	}
	if !resizeSupported(old) {
		errs = append(errs, field.Forbidden(specPath, "Pod running on node without support for resize"))
	}
	if len(pod.Spec.Containers) != len(old.Spec.Containers) || len(pod.Spec.InitContainers) != len(old.Spec.InitContainers) {
		return append(errs, field.Forbidden(specPath, "only cpu and memory resources are mutable"))
	}
	for i := range old.Spec.InitContainers {
		if isRestartableInitContainer(&old.Spec.InitContainers[i]) {
			errs = append(errs, validateContainerResize(&pod.Spec.InitContainers[i], &old.Spec.InitContainers[i], specPath.Child("initContainers").Index(i).Child("resources"))...)
		}
	}
	for i := range old.Spec.Containers {
		errs = append(errs, validateContainerResize(&pod.Spec.Containers[i], &old.Spec.Containers[i], specPath.Child("containers").Index(i).Child("resources"))...)
	}
	munged := *pod.Spec.DeepCopy()
	for i := range munged.Containers {
		c := &munged.Containers[i]
		keepCPUMemory(c, &old.Spec.Containers[i])
		if !apiequality.Semantic.DeepEqual(*c, old.Spec.Containers[i]) {
			errs = append(errs, field.Forbidden(specPath, "only cpu and memory resources are mutable"))
		}
	}
	for i := range munged.InitContainers {
		c := &munged.InitContainers[i]
		if isRestartableInitContainer(c) {
			keepCPUMemory(c, &old.Spec.InitContainers[i])
			if !apiequality.Semantic.DeepEqual(*c, old.Spec.InitContainers[i]) {
				errs = append(errs, field.Forbidden(specPath, "only cpu and memory resources for sidecar containers are mutable"))
			}
		} else if !apiequality.Semantic.DeepEqual(*c, old.Spec.InitContainers[i]) {
			errs = append(errs, field.Forbidden(specPath, "resources for non-sidecar init containers are immutable"))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	if !apiequality.Semantic.DeepEqual(munged, old.Spec) {
		errs = append(errs, field.Forbidden(specPath, "only cpu and memory resources are mutable"))
	}
	return errs
}

// keepCPUMemory resets c's cpu and memory (and resize policy) to old's, so
// that any remaining difference is a forbidden one.
func keepCPUMemory(c, old *corev1.Container) {
	reset := func(list, oldList corev1.ResourceList) corev1.ResourceList {
		if oldList == nil {
			return nil
		}
		out := corev1.ResourceList{}
		for k, v := range list {
			if k != corev1.ResourceCPU && k != corev1.ResourceMemory {
				out[k] = v
			}
		}
		for _, k := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if v, ok := oldList[k]; ok {
				out[k] = v
			}
		}
		return out
	}
	c.Resources = corev1.ResourceRequirements{
		Limits:   reset(c.Resources.Limits, old.Resources.Limits),
		Requests: reset(c.Resources.Requests, old.Resources.Requests),
		Claims:   c.Resources.Claims,
	}
	c.ResizePolicy = old.ResizePolicy
}

// resizeSupported: a running container must report its resources, which
// kubelets supporting in-place resize do.
func resizeSupported(pod *corev1.Pod) bool {
	for _, s := range pod.Status.ContainerStatuses {
		if s.State.Running != nil {
			return s.Resources != nil
		}
	}
	return true
}

func validateContainerResize(c, old *corev1.Container, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	removed := func(list, oldList corev1.ResourceList) bool {
		for name := range oldList {
			if _, ok := list[name]; !ok {
				return true
			}
		}
		return false
	}
	if removed(c.Resources.Requests, old.Resources.Requests) {
		errs = append(errs, field.Forbidden(p.Child("requests"), "resource requests cannot be removed"))
	}
	if removed(c.Resources.Limits, old.Resources.Limits) {
		errs = append(errs, field.Forbidden(p.Child("limits"), "resource limits cannot be removed"))
	}
	var memPolicy corev1.ResourceResizeRestartPolicy
	for _, rp := range c.ResizePolicy {
		if rp.ResourceName == corev1.ResourceMemory {
			memPolicy = rp.RestartPolicy
			break
		}
	}
	if memPolicy == corev1.NotRequired || memPolicy == "" {
		newLim, hasNew := c.Resources.Limits[corev1.ResourceMemory]
		oldLim, hasOld := old.Resources.Limits[corev1.ResourceMemory]
		mp := p.Child("limits").Key(string(corev1.ResourceMemory))
		if hasNew && hasOld && newLim.Cmp(oldLim) < 0 {
			errs = append(errs, field.Forbidden(mp, fmt.Sprintf("memory limits cannot be decreased unless resizePolicy is %s", corev1.RestartContainer)))
		} else if hasNew && !hasOld {
			errs = append(errs, field.Forbidden(mp, fmt.Sprintf("memory limits cannot be added unless resizePolicy is %s", corev1.RestartContainer)))
		}
	}
	return errs
}

// ValidatePodBinding checks a Binding's target.
func ValidatePodBinding(b *corev1.Binding) field.ErrorList {
	var errs field.ErrorList
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		errs = append(errs, field.NotSupported(field.NewPath("target", "kind"), b.Target.Kind, []string{"Node", "<empty>"}))
	}
	if b.Target.Name == "" {
		errs = append(errs, field.Required(field.NewPath("target", "name"), ""))
	}
	return errs
}
