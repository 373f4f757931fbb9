package job

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/capstan-dev/capstan/registry/scheme"
)

type fieldError struct {
	Type   field.ErrorType
	Field  string
	Detail string
}

func summarize(errs field.ErrorList) []fieldError {
	var out []fieldError
	for _, e := range errs {
		out = append(out, fieldError{e.Type, e.Field, e.Detail})
	}
	return out
}

// newJob is a Job as a client sends it, defaulted.
func newJob(mutate func(*batchv1.Job)) *batchv1.Job {
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "pi", Namespace: "default", UID: "0123"},
		Spec: batchv1.JobSpec{
			Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers:    []corev1.Container{{Name: "pi", Image: "perl"}},
				},
			},
		},
	}
	if mutate != nil {
		mutate(job)
	}
	scheme.Scheme.Default(job)
	return job
}

// created is newJob after the create strategy ran.
func created(mutate func(*batchv1.Job)) *batchv1.Job {
	job := newJob(mutate)
	Resource.PrepareForCreate(context.Background(), job)
	return job
}

func TestGenerateSelector(t *testing.T) {
	job := created(func(j *batchv1.Job) { j.Spec.Template.Labels = map[string]string{"app": "pi"} })
	got := struct {
		Selector *metav1.LabelSelector
		Labels   map[string]string
	}{job.Spec.Selector, job.Spec.Template.Labels}
	want := got
	want.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": "0123"}}
	want.Labels = map[string]string{
		"app":                                "pi",
		"batch.kubernetes.io/controller-uid": "0123",
		"batch.kubernetes.io/job-name":       "pi",
		"controller-uid":                     "0123",
		"job-name":                           "pi",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("generated (-want +got):\n%s", diff)
	}

	manual := created(func(j *batchv1.Job) {
		j.Spec.ManualSelector = new(true)
		j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "pi"}}
		j.Spec.Template.Labels = map[string]string{"app": "pi"}
	})
	if diff := cmp.Diff(map[string]string{"app": "pi"}, manual.Spec.Template.Labels); diff != "" {
		t.Errorf("manual selector labels (-want +got):\n%s", diff)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*batchv1.Job)
		want   []fieldError
	}{
		{name: "valid"},
		{
			name:   "restart policy Always",
			mutate: func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways },
			want:   []fieldError{{field.ErrorTypeRequired, "spec.template.spec.restartPolicy", `valid values: "OnFailure", "Never"`}},
		},
		{
			name: "negative counts",
			mutate: func(j *batchv1.Job) {
				j.Spec.Parallelism = new(int32(-1))
				j.Spec.Completions = new(int32(-1))
				j.Spec.BackoffLimit = new(int32(-1))
			},
			want: []fieldError{
				{field.ErrorTypeInvalid, "spec.parallelism", "must be greater than or equal to 0"},
				{field.ErrorTypeInvalid, "spec.completions", "must be greater than or equal to 0"},
				{field.ErrorTypeInvalid, "spec.backoffLimit", "must be greater than or equal to 0"},
			},
		},
		{
			name:   "completion mode",
			mutate: func(j *batchv1.Job) { j.Spec.CompletionMode = new(batchv1.CompletionMode("Sharded")) },
			want:   []fieldError{{field.ErrorTypeNotSupported, "spec.completionMode", `supported values: "NonIndexed", "Indexed"`}},
		},
		{
			name: "indexed without completions",
			mutate: func(j *batchv1.Job) {
				j.Spec.CompletionMode = new(batchv1.IndexedCompletion)
				j.Spec.Parallelism = new(int32(2))
			},
			want: []fieldError{{field.ErrorTypeRequired, "spec.completions", "when completion mode is Indexed"}},
		},
		{
			name:   "backoff limit per index needs indexed",
			mutate: func(j *batchv1.Job) { j.Spec.BackoffLimitPerIndex = new(int32(1)) },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.backoffLimitPerIndex", "requires indexed completion mode"}},
		},
		{
			name:   "generated label overridden",
			mutate: func(j *batchv1.Job) { j.Spec.Template.Labels = map[string]string{"job-name": "other"} },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.template.metadata.labels[job-name]", "must be 'pi'"}},
		},
		{
			name: "manual selector not matching",
			mutate: func(j *batchv1.Job) {
				j.Spec.ManualSelector = new(true)
				j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "pi"}}
			},
			want: []fieldError{{field.ErrorTypeInvalid, "spec.template.metadata.labels", "`selector` does not match template `labels`"}},
		},
		{
			name:   "manual without selector",
			mutate: func(j *batchv1.Job) { j.Spec.ManualSelector = new(true) },
			want: []fieldError{
				{field.ErrorTypeRequired, "spec.selector", ""},
				{field.ErrorTypeInvalid, "spec.template.metadata.labels", "`selector` does not match template `labels`"},
			},
		},
		{
			name: "pod failure policy",
			mutate: func(j *batchv1.Job) {
				j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
					{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
						ContainerName: new("nope"), Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{0, 3, 2},
					}},
					{Action: "Retry"},
				}}
			},
			want: []fieldError{
				{field.ErrorTypeInvalid, "spec.podFailurePolicy.rules[0].onExitCodes.containerName", "must be one of the container or initContainer names in the pod template"},
				{field.ErrorTypeInvalid, "spec.podFailurePolicy.rules[0].onExitCodes.values[0]", "must not be 0 for the In operator"},
				{field.ErrorTypeInvalid, "spec.podFailurePolicy.rules[0].onExitCodes.values[2]", "must be ordered"},
				{field.ErrorTypeNotSupported, "spec.podFailurePolicy.rules[1].action", `supported values: "Count", "FailIndex", "FailJob", "Ignore"`},
				{field.ErrorTypeInvalid, "spec.podFailurePolicy.rules[1]", "specifying one of OnExitCodes and OnPodConditions is required"},
			},
		},
		{
			name: "indexed job name too long for hostnames",
			mutate: func(j *batchv1.Job) {
				j.Name = "a-very-long-job-name-that-just-fits-in-a-dns-label-of-63-chars"
				j.Spec.CompletionMode = new(batchv1.IndexedCompletion)
				j.Spec.Completions = new(int32(100))
			},
			want: []fieldError{{field.ErrorTypeInvalid, "metadata.name", "will not able to create pod with invalid DNS label: a-very-long-job-name-that-just-fits-in-a-dns-label-of-63-chars-99"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := summarize(Resource.Validate(context.Background(), created(tc.mutate)))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	tests := []struct {
		name   string
		old    func(*batchv1.Job)
		mutate func(*batchv1.Job)
		want   []fieldError
	}{
		{
			name:   "parallelism and suspend",
			mutate: func(j *batchv1.Job) { j.Spec.Parallelism = new(int32(4)); j.Spec.Suspend = new(true) },
		},
		{
			name:   "template",
			mutate: func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "python" },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.template", "field is immutable"}},
		},
		{
			name:   "node selector of a running job",
			mutate: func(j *batchv1.Job) { j.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"} },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.template", "field is immutable"}},
		},
		{
			name:   "node selector of a suspended job that never started",
			old:    func(j *batchv1.Job) { j.Spec.Suspend = new(true) },
			mutate: func(j *batchv1.Job) { j.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"} },
		},
		{
			name:   "completions of a non-indexed job",
			mutate: func(j *batchv1.Job) { j.Spec.Completions = new(int32(2)) },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.completions", "field is immutable"}},
		},
		{
			name: "completions with parallelism of an indexed job",
			old: func(j *batchv1.Job) {
				j.Spec.CompletionMode = new(batchv1.IndexedCompletion)
				j.Spec.Completions = new(int32(2))
				j.Spec.Parallelism = new(int32(2))
			},
			mutate: func(j *batchv1.Job) { j.Spec.Completions = new(int32(5)); j.Spec.Parallelism = new(int32(5)) },
		},
		{
			name: "completions alone of an indexed job",
			old: func(j *batchv1.Job) {
				j.Spec.CompletionMode = new(batchv1.IndexedCompletion)
				j.Spec.Completions = new(int32(2))
				j.Spec.Parallelism = new(int32(2))
			},
			mutate: func(j *batchv1.Job) { j.Spec.Completions = new(int32(5)) },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.completions", "can only be modified in tandem with spec.parallelism"}},
		},
		{
			name:   "selector",
			mutate: func(j *batchv1.Job) { j.Spec.Selector.MatchLabels["job-name"] = "pi" },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.selector", "field is immutable"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := created(tc.old)
			job := old.DeepCopy()
			tc.mutate(job)
			got := summarize(Resource.ValidateUpdate(context.Background(), job, old))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRow(t *testing.T) {
	start := metav1.NewTime(time.Now().Add(-5 * time.Minute))
	end := metav1.NewTime(start.Add(90 * time.Second))
	cond := func(t batchv1.JobConditionType) []batchv1.JobCondition {
		return []batchv1.JobCondition{{Type: t, Status: corev1.ConditionTrue}}
	}
	tests := []struct {
		name   string
		mutate func(*batchv1.Job)
		want   []any
	}{
		{
			name: "complete",
			mutate: func(j *batchv1.Job) {
				j.Status = batchv1.JobStatus{Succeeded: 1, StartTime: &start, CompletionTime: &end, Conditions: cond(batchv1.JobComplete)}
			},
			want: []any{"pi", "Complete", "1/1", "90s"},
		},
		{
			name: "running with parallelism only",
			mutate: func(j *batchv1.Job) {
				j.Spec.Completions = nil
				j.Spec.Parallelism = new(int32(3))
			},
			want: []any{"pi", "Running", "0/1 of 3", ""},
		},
		{
			name:   "suspended",
			mutate: func(j *batchv1.Job) { j.Status.Conditions = cond(batchv1.JobSuspended) },
			want:   []any{"pi", "Suspended", "0/1", ""},
		},
		{
			name: "failed",
			mutate: func(j *batchv1.Job) {
				j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionFalse}, {Type: batchv1.JobFailed, Status: corev1.ConditionTrue}}
			},
			want: []any{"pi", "Failed", "0/1", ""},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			job := created(nil)
			tc.mutate(job)
			row := Resource.Row(job)
			want := append(tc.want, "<unknown>", "pi", "perl", "batch.kubernetes.io/controller-uid=0123")
			if diff := cmp.Diff(want, row); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFieldsAndPolicy(t *testing.T) {
	job := created(nil)
	job.Status.Succeeded = 3
	got := []any{Resource.Fields["status.successful"](job), Resource.GCPolicy}
	if diff := cmp.Diff([]any{"3", rest.OrphanDependents}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNameWarnings(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{name: "pi"},
		{name: "pi.v2", want: []string{"metadata.name: this is used in Pod names and hostnames, which can result in surprising behavior; a DNS label is recommended: [must not contain dots]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, NameWarnings(tc.name)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}
