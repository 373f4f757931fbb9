package job

import (
	"fmt"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/core/pod"
	"github.com/capstan-dev/capstan/registry/validate"
)

// Limits of the fields upstream bounds.
const (
	maxParallelismForIndexedJob                = 100_000
	maxFailedIndexesForIndexedJob              = 100_000
	maxCompletionsWithBackoffLimitPerIndex     = 100_000
	maxPodFailurePolicyRules                   = 20
	maxPodFailurePolicyOnExitCodesValues       = 255
	maxPodFailurePolicyOnPodConditionsPatterns = 20
	maxManagedByLength                         = 63
	maxSuccessPolicyRules                      = 20
	maxSuccessPolicySucceededIndexesLength     = 64 * 1024
)

// Options relax validation of a Job, mostly for updates.
type Options struct {
	// RequirePrefixedLabels checks the batch.kubernetes.io/ forms of the
	// generated labels too (not on Jobs created before they existed).
	RequirePrefixedLabels bool
	// AllowMutableSchedulingDirectives lets a suspended Job that never
	// started change where its pods may run.
	AllowMutableSchedulingDirectives bool
}

// Validate checks a Job.
func Validate(job *batchv1.Job, opts Options) field.ErrorList {
	errs := validateGeneratedSelector(job, opts.RequirePrefixedLabels)
	errs = append(errs, ValidateSpec(&job.Spec, field.NewPath("spec"))...)
	if job.Spec.CompletionMode != nil && *job.Spec.CompletionMode == batchv1.IndexedCompletion &&
		job.Spec.Completions != nil && *job.Spec.Completions > 0 {
		// Pods of an Indexed Job get the hostname <job name>-<index>.
		hostname := fmt.Sprintf("%s-%d", job.Name, *job.Spec.Completions-1)
		if len(utilvalidation.IsDNS1123Label(hostname)) > 0 {
			errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), job.Name,
				fmt.Sprintf("will not able to create pod with invalid DNS label: %s", hostname)))
		}
	}
	return errs
}

// ValidateUpdate checks an updated Job: a valid Job of which only some spec
// fields changed.
func ValidateUpdate(job, old *batchv1.Job) field.ErrorList {
	_, hadJobName := old.Spec.Template.Labels[batchv1.JobNameLabel]
	opts := Options{
		RequirePrefixedLabels:            hadJobName,
		AllowMutableSchedulingDirectives: old.Spec.Suspend != nil && *old.Spec.Suspend && old.Status.StartTime == nil,
	}
	errs := Validate(job, opts)
	return append(errs, validateSpecUpdate(&job.Spec, &old.Spec, field.NewPath("spec"), opts)...)
}

// validateGeneratedSelector checks that a Job whose selector was generated
// still carries the generated labels and selector.
func validateGeneratedSelector(job *batchv1.Job, prefixed bool) field.ErrorList {
	if job.Spec.ManualSelector != nil && *job.Spec.ManualSelector || job.Spec.Selector == nil {
		return nil
	}
	var errs field.ErrorList
	if job.UID == "" {
		errs = append(errs, field.Required(field.NewPath("metadata", "uid"), ""))
	}
	tp := field.NewPath("spec", "template", "metadata")
	expected := map[string]string{}
	keys := [][2]string{{LegacyControllerUIDLabel, string(job.UID)}, {LegacyJobNameLabel, job.Name}}
	if prefixed {
		keys = append(keys, [2]string{batchv1.ControllerUidLabel, string(job.UID)}, [2]string{batchv1.JobNameLabel, job.Name})
	}
	for _, kv := range keys {
		errs = append(errs, validateHasLabel(job.Spec.Template.ObjectMeta, tp, kv[0], kv[1])...)
		expected[kv[0]] = kv[1]
	}
	if selector, err := metav1.LabelSelectorAsSelector(job.Spec.Selector); err == nil && !selector.Matches(labels.Set(expected)) {
		errs = append(errs, field.Invalid(field.NewPath("spec", "selector"), job.Spec.Selector, "`selector` not auto-generated"))
	}
	return errs
}

func validateHasLabel(meta metav1.ObjectMeta, p *field.Path, key, expected string) field.ErrorList {
	actual, ok := meta.Labels[key]
	if !ok {
		return field.ErrorList{field.Required(p.Child("labels").Key(key), expected)}
	}
	if actual != expected {
		return field.ErrorList{field.Invalid(p.Child("labels").Key(key), meta.Labels, fmt.Sprintf("must be '%s'", expected))}
	}
	return nil
}

// ValidateSpec checks the spec of a Job, whose selector must be set and
// match the template.
func ValidateSpec(spec *batchv1.JobSpec, p *field.Path) field.ErrorList {
	errs := ValidateTemplateSpec(spec, p)
	if spec.Selector == nil {
		errs = append(errs, field.Required(p.Child("selector"), ""))
	} else {
		errs = append(errs, metavalidation.ValidateLabelSelector(spec.Selector, metavalidation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	}
	if selector, err := metav1.LabelSelectorAsSelector(spec.Selector); err == nil && !selector.Matches(labels.Set(spec.Template.Labels)) {
		errs = append(errs, field.Invalid(p.Child("template", "metadata", "labels"), spec.Template.Labels, "`selector` does not match template `labels`"))
	}
	return errs
}

// ValidateTemplateSpec checks what a JobSpec says about its pods and their
// completion, without the selector (which a CronJob's template leaves out).
func ValidateTemplateSpec(spec *batchv1.JobSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	nonNegative := func(v *int32, name string) {
		if v != nil {
			errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(*v), p.Child(name))...)
		}
	}
	nonNegative(spec.Parallelism, "parallelism")
	nonNegative(spec.Completions, "completions")
	if spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(*spec.ActiveDeadlineSeconds, p.Child("activeDeadlineSeconds"))...)
	}
	nonNegative(spec.BackoffLimit, "backoffLimit")
	nonNegative(spec.TTLSecondsAfterFinished, "ttlSecondsAfterFinished")
	nonNegative(spec.BackoffLimitPerIndex, "backoffLimitPerIndex")
	if spec.MaxFailedIndexes != nil {
		nonNegative(spec.MaxFailedIndexes, "maxFailedIndexes")
		if spec.BackoffLimitPerIndex == nil {
			errs = append(errs, field.Required(p.Child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"))
		}
	}
	if spec.ManagedBy != nil {
		errs = append(errs, validate.Invalid(p.Child("managedBy"), *spec.ManagedBy, utilvalidation.IsQualifiedName(*spec.ManagedBy))...)
		if len(*spec.ManagedBy) > maxManagedByLength {
			errs = append(errs, field.TooLong(p.Child("managedBy"), "", maxManagedByLength))
		}
	}

	indexed := spec.CompletionMode != nil && *spec.CompletionMode == batchv1.IndexedCompletion
	if spec.CompletionMode != nil {
		if *spec.CompletionMode != batchv1.NonIndexedCompletion && !indexed {
			errs = append(errs, field.NotSupported(p.Child("completionMode"), *spec.CompletionMode,
				[]batchv1.CompletionMode{batchv1.NonIndexedCompletion, batchv1.IndexedCompletion}))
		}
		if indexed {
			if spec.Completions == nil {
				errs = append(errs, field.Required(p.Child("completions"), fmt.Sprintf("when completion mode is %s", batchv1.IndexedCompletion)))
			}
			if spec.Parallelism != nil && *spec.Parallelism > maxParallelismForIndexedJob {
				errs = append(errs, field.Invalid(p.Child("parallelism"), *spec.Parallelism,
					fmt.Sprintf("must be less than or equal to %d when completion mode is %s", maxParallelismForIndexedJob, batchv1.IndexedCompletion)))
			}
			if spec.Completions != nil && spec.MaxFailedIndexes != nil && *spec.MaxFailedIndexes > *spec.Completions {
				errs = append(errs, field.Invalid(p.Child("maxFailedIndexes"), *spec.MaxFailedIndexes, "must be less than or equal to completions"))
			}
			if spec.MaxFailedIndexes != nil && *spec.MaxFailedIndexes > maxFailedIndexesForIndexedJob {
				errs = append(errs, field.Invalid(p.Child("maxFailedIndexes"), *spec.MaxFailedIndexes,
					fmt.Sprintf("must be less than or equal to %d", maxFailedIndexesForIndexedJob)))
			}
			if spec.Completions != nil && spec.BackoffLimitPerIndex != nil && *spec.Completions > maxCompletionsWithBackoffLimitPerIndex {
				errs = append(errs, field.Invalid(p.Child("completions"), *spec.Completions,
					fmt.Sprintf("must be less than or equal to %d when backoffLimitPerIndex is specified", maxCompletionsWithBackoffLimitPerIndex)))
			}
		}
	}
	if !indexed {
		if spec.BackoffLimitPerIndex != nil {
			errs = append(errs, field.Invalid(p.Child("backoffLimitPerIndex"), *spec.BackoffLimitPerIndex, "requires indexed completion mode"))
		}
		if spec.MaxFailedIndexes != nil {
			errs = append(errs, field.Invalid(p.Child("maxFailedIndexes"), *spec.MaxFailedIndexes, "requires indexed completion mode"))
		}
	}

	if spec.PodFailurePolicy != nil {
		errs = append(errs, validatePodFailurePolicy(spec, p.Child("podFailurePolicy"))...)
	}
	if spec.SuccessPolicy != nil {
		errs = append(errs, validateSuccessPolicy(spec, p.Child("successPolicy"))...)
	}
	if spec.PodReplacementPolicy != nil {
		allowed := []batchv1.PodReplacementPolicy{batchv1.Failed, batchv1.TerminatingOrFailed}
		if spec.PodFailurePolicy != nil {
			// The failure policy needs to see pods in their final phase.
			allowed = []batchv1.PodReplacementPolicy{batchv1.Failed}
		}
		ok := false
		for _, a := range allowed {
			ok = ok || *spec.PodReplacementPolicy == a
		}
		if !ok {
			errs = append(errs, field.NotSupported(p.Child("podReplacementPolicy"), *spec.PodReplacementPolicy, allowed))
		}
	}

	errs = append(errs, pod.ValidatePodTemplateSpec(&spec.Template, p.Child("template"))...)
	rp := p.Child("template", "spec", "restartPolicy")
	switch policy := spec.Template.Spec.RestartPolicy; {
	case policy == corev1.RestartPolicyAlways || policy == "":
		errs = append(errs, field.Required(rp, fmt.Sprintf("valid values: %q, %q", corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever)))
	case policy != corev1.RestartPolicyOnFailure && policy != corev1.RestartPolicyNever:
		errs = append(errs, field.NotSupported(rp, policy, []corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}))
	case spec.PodFailurePolicy != nil && policy != corev1.RestartPolicyNever:
		errs = append(errs, field.Invalid(rp, policy, fmt.Sprintf("only %q is supported when podFailurePolicy is specified", corev1.RestartPolicyNever)))
	}
	return errs
}

var podFailurePolicyActions = []batchv1.PodFailurePolicyAction{
	batchv1.PodFailurePolicyActionCount, batchv1.PodFailurePolicyActionFailIndex,
	batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyActionIgnore,
}

func validatePodFailurePolicy(spec *batchv1.JobSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	rules := spec.PodFailurePolicy.Rules
	rulesPath := p.Child("rules")
	if len(rules) > maxPodFailurePolicyRules {
		errs = append(errs, field.TooMany(rulesPath, len(rules), maxPodFailurePolicyRules))
	}
	containers := sets.New[string]()
	for _, c := range spec.Template.Spec.Containers {
		containers.Insert(c.Name)
	}
	for _, c := range spec.Template.Spec.InitContainers {
		containers.Insert(c.Name)
	}
	for i := range rules {
		rule, rp := &rules[i], rulesPath.Index(i)
		ap := rp.Child("action")
		switch {
		case rule.Action == "":
			errs = append(errs, field.Required(ap, fmt.Sprintf("valid values: %q", podFailurePolicyActions)))
		case rule.Action == batchv1.PodFailurePolicyActionFailIndex:
			if spec.BackoffLimitPerIndex == nil {
				errs = append(errs, field.Invalid(ap, rule.Action, "requires the backoffLimitPerIndex to be set"))
			}
		case !sets.New(podFailurePolicyActions...).Has(rule.Action):
			errs = append(errs, field.NotSupported(ap, rule.Action, podFailurePolicyActions))
		}
		if rule.OnExitCodes != nil {
			errs = append(errs, validateOnExitCodes(rule.OnExitCodes, rp.Child("onExitCodes"), containers)...)
		}
		if len(rule.OnPodConditions) > 0 {
			cp := rp.Child("onPodConditions")
			if len(rule.OnPodConditions) > maxPodFailurePolicyOnPodConditionsPatterns {
				errs = append(errs, field.TooMany(cp, len(rule.OnPodConditions), maxPodFailurePolicyOnPodConditionsPatterns))
			}
			for j, c := range rule.OnPodConditions {
				if c.Status != corev1.ConditionTrue && c.Status != corev1.ConditionFalse && c.Status != corev1.ConditionUnknown {
					errs = append(errs, field.NotSupported(cp.Index(j).Child("status"), c.Status,
						[]corev1.ConditionStatus{corev1.ConditionTrue, corev1.ConditionFalse, corev1.ConditionUnknown}))
				}
				errs = append(errs, validate.Invalid(cp.Index(j).Child("type"), c.Type, utilvalidation.IsQualifiedName(string(c.Type)))...)
			}
		}
		switch {
		case rule.OnExitCodes != nil && len(rule.OnPodConditions) > 0:
			errs = append(errs, field.Invalid(rp, field.OmitValueType{}, "specifying both OnExitCodes and OnPodConditions is not supported"))
		case rule.OnExitCodes == nil && len(rule.OnPodConditions) == 0:
			errs = append(errs, field.Invalid(rp, field.OmitValueType{}, "specifying one of OnExitCodes and OnPodConditions is required"))
		}
	}
	return errs
}

func validateOnExitCodes(r *batchv1.PodFailurePolicyOnExitCodesRequirement, p *field.Path, containers sets.Set[string]) field.ErrorList {
	var errs field.ErrorList
	switch r.Operator {
	case batchv1.PodFailurePolicyOnExitCodesOpIn, batchv1.PodFailurePolicyOnExitCodesOpNotIn:
	default:
		errs = append(errs, field.NotSupported(p.Child("operator"), r.Operator,
			[]batchv1.PodFailurePolicyOnExitCodesOperator{batchv1.PodFailurePolicyOnExitCodesOpIn, batchv1.PodFailurePolicyOnExitCodesOpNotIn}))
	}
	if r.ContainerName != nil && !containers.Has(*r.ContainerName) {
		errs = append(errs, field.Invalid(p.Child("containerName"), *r.ContainerName, "must be one of the container or initContainer names in the pod template"))
	}
	vp := p.Child("values")
	if len(r.Values) == 0 || len(r.Values) > maxPodFailurePolicyOnExitCodesValues {
		errs = append(errs, field.Invalid(vp, len(r.Values), fmt.Sprintf("at least one value is required, and at most %d are allowed", maxPodFailurePolicyOnExitCodesValues)))
	}
	seen := sets.New[int32]()
	for i, v := range r.Values {
		if r.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && v == 0 {
			errs = append(errs, field.Invalid(vp.Index(i), v, "must not be 0 for the In operator"))
		}
		if seen.Has(v) {
			errs = append(errs, field.Duplicate(vp.Index(i), v))
		} else {
			seen.Insert(v)
		}
		if i > 0 && r.Values[i-1] > v {
			errs = append(errs, field.Invalid(vp.Index(i), v, "must be ordered"))
		}
	}
	return errs
}

func validateSuccessPolicy(spec *batchv1.JobSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
		errs = append(errs, field.Invalid(field.NewPath("spec", "completionMode"), spec.CompletionMode, "requires indexed completion mode"))
	}
	rules := spec.SuccessPolicy.Rules
	rulesPath := p.Child("rules")
	if len(rules) == 0 {
		errs = append(errs, field.Required(rulesPath, "at least one rules must be specified when the successPolicy is specified"))
	}
	if len(rules) > maxSuccessPolicyRules {
		errs = append(errs, field.TooMany(rulesPath, len(rules), maxSuccessPolicyRules))
	}
	for i, rule := range rules {
		rp := rulesPath.Index(i)
		if rule.SucceededIndexes == nil && rule.SucceededCount == nil {
			errs = append(errs, field.Required(rp, "at least one of succeededCount or succeededIndexes must be specified"))
		}
		var indexes int64 = -1
		if rule.SucceededIndexes != nil {
			ip := rp.Child("succeededIndexes")
			n, err := countIndexes(*rule.SucceededIndexes, spec.Completions)
			if err != nil {
				errs = append(errs, field.Invalid(ip, *rule.SucceededIndexes, fmt.Sprintf("error parsing succeededIndexes: %s", err)))
			}
			indexes = n
			if len(*rule.SucceededIndexes) > maxSuccessPolicySucceededIndexesLength {
				errs = append(errs, field.TooLong(ip, "", maxSuccessPolicySucceededIndexesLength))
			}
		}
		if rule.SucceededCount != nil {
			cp := rp.Child("succeededCount")
			c := *rule.SucceededCount
			switch {
			case c < 0:
				errs = append(errs, field.Invalid(cp, c, "must be greater than or equal to 0"))
			case spec.Completions != nil && c > *spec.Completions:
				errs = append(errs, field.Invalid(cp, c, fmt.Sprintf("must be less than or equal to %d (the number of specified completions)", *spec.Completions)))
			case indexes >= 0 && int64(c) > indexes:
				errs = append(errs, field.Invalid(cp, c, fmt.Sprintf("must be smaller or equal to the number of indexes in succeededIndexes (%d)", indexes)))
			}
		}
	}
	return errs
}

// countIndexes parses an ordered list of indexes and ranges ("1,3-5,7")
// and counts the indexes it names, each below completions when set.
func countIndexes(s string, completions *int32) (int64, error) {
	var total int64
	last := int64(-1)
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.ParseInt(lo, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("cannot convert string to integer for index: %q", lo)
		}
		end := first
		if isRange {
			if end, err = strconv.ParseInt(hi, 10, 32); err != nil {
				return 0, fmt.Errorf("cannot convert string to integer for index: %q", hi)
			}
			if end < first {
				return 0, fmt.Errorf("range must be ordered, got %q", part)
			}
		}
		if first <= last {
			return 0, fmt.Errorf("overlapping or unordered intervals: %q", part)
		}
		if completions != nil && end >= int64(*completions) {
			return 0, fmt.Errorf("too large index: %q", part)
		}
		total += end - first + 1
		last = end
	}
	return total, nil
}

func validateSpecUpdate(spec, old *batchv1.JobSpec, p *field.Path, opts Options) field.ErrorList {
	var errs field.ErrorList
	immutable := func(a, b any, name string) {
		errs = append(errs, apimachineryvalidation.ValidateImmutableField(a, b, p.Child(name))...)
	}
	errs = append(errs, validateCompletionsUpdate(spec, old, p.Child("completions"))...)
	immutable(spec.Selector, old.Selector, "selector")
	errs = append(errs, validateTemplateUpdate(spec, old, p, opts)...)
	immutable(spec.CompletionMode, old.CompletionMode, "completionMode")
	immutable(spec.PodFailurePolicy, old.PodFailurePolicy, "podFailurePolicy")
	immutable(spec.BackoffLimitPerIndex, old.BackoffLimitPerIndex, "backoffLimitPerIndex")
	immutable(spec.ManagedBy, old.ManagedBy, "managedBy")
	immutable(spec.SuccessPolicy, old.SuccessPolicy, "successPolicy")
	return errs
}

// validateCompletionsUpdate: completions only change for an Indexed Job,
// together with parallelism (elastic Indexed Jobs).
func validateCompletionsUpdate(spec, old *batchv1.JobSpec, p *field.Path) field.ErrorList {
	indexed := spec.CompletionMode != nil && *spec.CompletionMode == batchv1.IndexedCompletion
	if !indexed {
		return apimachineryvalidation.ValidateImmutableField(spec.Completions, old.Completions, p)
	}
	if apiequality.Semantic.DeepEqual(spec.Completions, old.Completions) || spec.Completions == nil {
		return nil
	}
	if spec.Parallelism == nil || *spec.Completions != *spec.Parallelism {
		return field.ErrorList{field.Invalid(p, spec.Completions, "can only be modified in tandem with spec.parallelism")}
	}
	return nil
}

// validateTemplateUpdate keeps the pod template as it was, except the
// scheduling directives of a Job that is suspended and never ran.
func validateTemplateUpdate(spec, old *batchv1.JobSpec, p *field.Path, opts Options) field.ErrorList {
	t, o := &spec.Template, &old.Template
	if opts.AllowMutableSchedulingDirectives {
		o = old.Template.DeepCopy()
		switch {
		case t.Spec.Affinity == nil && o.Spec.Affinity != nil:
			o.Spec.Affinity.NodeAffinity = nil
			if apiequality.Semantic.DeepEqual(*o.Spec.Affinity, corev1.Affinity{}) {
				o.Spec.Affinity = nil
			}
		case t.Spec.Affinity != nil && o.Spec.Affinity == nil:
			o.Spec.Affinity = &corev1.Affinity{NodeAffinity: t.Spec.Affinity.NodeAffinity}
		case t.Spec.Affinity != nil && o.Spec.Affinity != nil:
			o.Spec.Affinity.NodeAffinity = t.Spec.Affinity.NodeAffinity
		}
		o.Spec.NodeSelector = t.Spec.NodeSelector
		o.Spec.Tolerations = t.Spec.Tolerations
		o.Spec.SchedulingGates = t.Spec.SchedulingGates
		o.Annotations = t.Annotations
		o.Labels = t.Labels
	}
	return apimachineryvalidation.ValidateImmutableField(t, o, p.Child("template"))
}

// ValidateStatus checks a status written through /status.
func ValidateStatus(s *batchv1.JobStatus, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, f := range []struct {
		name string
		v    *int32
	}{
		{"active", &s.Active}, {"succeeded", &s.Succeeded}, {"failed", &s.Failed},
		{"ready", s.Ready}, {"terminating", s.Terminating},
	} {
		if f.v != nil {
			errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(*f.v), p.Child(f.name))...)
		}
	}
	return errs
}
