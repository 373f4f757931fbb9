package scheme

import (
	"maps"
	"math"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// addBatchDefaults registers the batch/v1 defaulters.
func addBatchDefaults(s *runtime.Scheme) {
	addGroupDefaulter(s, defaultJob)
	addGroupDefaulter(s, func(l *batchv1.JobList) { defaultEach(l.Items, defaultJob) })
	addGroupDefaulter(s, defaultCronJob)
	addGroupDefaulter(s, func(l *batchv1.CronJobList) { defaultEach(l.Items, defaultCronJob) })
}

// defaultJob follows 1.37's gates: JobBackoffLimitPerIndex and
// JobPodReplacementPolicy are GA. manualSelector is defaulted to false as
// upstream does; the selector itself (and the labels that go with a generated
// one) is not defaulting but the Job strategy's work on create.
func defaultJob(job *batchv1.Job) {
	spec := &job.Spec
	// A Job that sets neither count runs one pod to completion.
	if spec.Completions == nil && spec.Parallelism == nil {
		spec.Completions = new(int32(1))
	}
	if spec.Parallelism == nil {
		spec.Parallelism = new(int32(1))
	}
	if spec.BackoffLimit == nil {
		// With a per-index limit the global one is effectively unbounded.
		if spec.BackoffLimitPerIndex != nil {
			spec.BackoffLimit = new(int32(math.MaxInt32))
		} else {
			spec.BackoffLimit = new(int32(6))
		}
	}
	if len(job.Labels) == 0 && spec.Template.Labels != nil {
		job.Labels = maps.Clone(spec.Template.Labels)
	}
	if spec.CompletionMode == nil {
		spec.CompletionMode = new(batchv1.NonIndexedCompletion)
	}
	if spec.Suspend == nil {
		spec.Suspend = new(false)
	}
	if spec.PodReplacementPolicy == nil {
		// Pods are only replaced once fully gone when a failure policy has
		// to see their final state.
		if spec.PodFailurePolicy != nil {
			spec.PodReplacementPolicy = new(batchv1.Failed)
		} else {
			spec.PodReplacementPolicy = new(batchv1.TerminatingOrFailed)
		}
	}
	if spec.ManualSelector == nil {
		spec.ManualSelector = new(false)
	}
	defaultJobTemplateParts(spec)
}

// defaultJobTemplateParts defaults what a JobSpec embeds. It is all a
// CronJob's jobTemplate gets: the Job-level defaults above apply only to Job
// objects themselves.
func defaultJobTemplateParts(spec *batchv1.JobSpec) {
	DefaultPodTemplateSpec(&spec.Template)
	if spec.PodFailurePolicy != nil {
		for i := range spec.PodFailurePolicy.Rules {
			for j := range spec.PodFailurePolicy.Rules[i].OnPodConditions {
				pattern := &spec.PodFailurePolicy.Rules[i].OnPodConditions[j]
				if pattern.Status == "" {
					pattern.Status = corev1.ConditionTrue
				}
			}
		}
	}
}

func defaultCronJob(cj *batchv1.CronJob) {
	spec := &cj.Spec
	if spec.ConcurrencyPolicy == "" {
		spec.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if spec.Suspend == nil {
		spec.Suspend = new(false)
	}
	if spec.SuccessfulJobsHistoryLimit == nil {
		spec.SuccessfulJobsHistoryLimit = new(int32(3))
	}
	if spec.FailedJobsHistoryLimit == nil {
		spec.FailedJobsHistoryLimit = new(int32(1))
	}
	defaultJobTemplateParts(&spec.JobTemplate.Spec)
}
