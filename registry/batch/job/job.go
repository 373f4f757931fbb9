// Package job is the storage of batch/v1 Jobs. Its spec validation is also
// what a CronJob's job template gets.
package job

import (
	"context"
	"fmt"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/warning"

	"github.com/capstan-dev/capstan/registry/store"
)

// Legacy, unprefixed forms of the labels of a generated selector; both
// forms are set and checked.
const (
	LegacyJobNameLabel       = "job-name"
	LegacyControllerUIDLabel = "controller-uid"
)

// Resource describes jobs.
var Resource = &store.Resource[*batchv1.Job]{
	Resource:   schema.GroupResource{Group: batchv1.GroupName, Resource: "jobs"},
	Kind:       "Job",
	Namespaced: true,
	Categories: []string{"all"},
	HasStatus:  true,
	Generation: true,
	// batch/v1 keeps a Job's pods when the client names no propagation.
	GCPolicy: rest.OrphanDependents,
	New:      func() *batchv1.Job { return &batchv1.Job{} },
	NewList:  func() runtime.Object { return &batchv1.JobList{} },
	PrepareForCreate: func(_ context.Context, job *batchv1.Job) {
		if job.Spec.ManualSelector == nil || !*job.Spec.ManualSelector {
			GenerateSelector(job)
		}
	},
	Validate: func(_ context.Context, job *batchv1.Job) field.ErrorList {
		return Validate(job, Options{RequirePrefixedLabels: true})
	},
	ValidateUpdate: func(_ context.Context, job, old *batchv1.Job) field.ErrorList {
		return ValidateUpdate(job, old)
	},
	WarningsOnCreate: func(_ context.Context, job *batchv1.Job) []string {
		return NameWarnings(job.Name)
	},
	ValidateStatusUpdate: func(_ context.Context, job, _ *batchv1.Job) field.ErrorList {
		return ValidateStatus(&job.Status, field.NewPath("status"))
	},
	Fields: map[string]func(*batchv1.Job) string{
		"status.successful": func(job *batchv1.Job) string { return strconv.Itoa(int(job.Status.Succeeded)) },
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Status", Type: "string", Description: "Status of the job."},
		{Name: "Completions", Type: "string", Description: batchv1.JobStatus{}.SwaggerDoc()["succeeded"]},
		{Name: "Duration", Type: "string", Description: "Time required to complete the job."},
		store.AgeColumn,
		ContainersColumn,
		ImagesColumn,
		{Name: "Selector", Type: "string", Priority: 1, Description: batchv1.JobSpec{}.SwaggerDoc()["selector"]},
	},
	Row: Row,
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// Wide columns of jobs and cronjobs.
var (
	ContainersColumn = metav1.TableColumnDefinition{Name: "Containers", Type: "string", Priority: 1, Description: "Names of each container in the template."}
	ImagesColumn     = metav1.TableColumnDefinition{Name: "Images", Type: "string", Priority: 1, Description: "Images referenced by each container in the template."}
)

// Row is the table row of a Job.
func Row(job *batchv1.Job) []any {
	var completions string
	switch {
	case job.Spec.Completions != nil:
		completions = fmt.Sprintf("%d/%d", job.Status.Succeeded, *job.Spec.Completions)
	case job.Spec.Parallelism != nil && *job.Spec.Parallelism > 1:
		completions = fmt.Sprintf("%d/1 of %d", job.Status.Succeeded, *job.Spec.Parallelism)
	default:
		completions = fmt.Sprintf("%d/1", job.Status.Succeeded)
	}
	var jobDuration string
	switch {
	case job.Status.StartTime == nil:
	case job.Status.CompletionTime == nil:
		jobDuration = duration.HumanDuration(time.Since(job.Status.StartTime.Time))
	default:
		jobDuration = duration.HumanDuration(job.Status.CompletionTime.Sub(job.Status.StartTime.Time))
	}
	names, images := ContainerCells(job.Spec.Template.Spec.Containers)
	return []any{job.Name, jobStatus(job), completions, jobDuration, store.Age(job.CreationTimestamp),
		names, images, metav1.FormatLabelSelector(job.Spec.Selector)}
}

func jobStatus(job *batchv1.Job) string {
	switch {
	case hasCondition(job, batchv1.JobComplete):
		return "Complete"
	case hasCondition(job, batchv1.JobFailed):
		return "Failed"
	case job.DeletionTimestamp != nil:
		return "Terminating"
	case hasCondition(job, batchv1.JobSuspended):
		return "Suspended"
	case hasCondition(job, batchv1.JobFailureTarget):
		return "FailureTarget"
	}
	return "Running"
}

// hasCondition reports whether the first condition of the type is true.
func hasCondition(job *batchv1.Job, t batchv1.JobConditionType) bool {
	for _, c := range job.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// ContainerCells lists the names and the images of containers, comma-separated.
func ContainerCells(containers []corev1.Container) (names, images string) {
	for i, c := range containers {
		if i > 0 {
			names += ","
			images += ","
		}
		names += c.Name
		images += c.Image
	}
	return names, images
}

// NameWarnings warns of a name that is no DNS label: pods and hostnames are named after it.
func NameWarnings(name string) []string {
	if msgs := utilvalidation.IsDNS1123Label(name); len(msgs) != 0 {
		return []string{fmt.Sprintf("metadata.name: this is used in Pod names and hostnames, which can result in surprising behavior; a DNS label is recommended: %v", msgs)}
	}
	return nil
}

// GenerateSelector selects the Job's own pods: it labels the template with
// the job's name and uid (keeping labels the user already set, which
// validation then checks) and selects on the uid.
func GenerateSelector(job *batchv1.Job) {
	if job.Spec.Template.Labels == nil {
		job.Spec.Template.Labels = map[string]string{}
	}
	for _, k := range []string{LegacyJobNameLabel, batchv1.JobNameLabel} {
		if _, found := job.Spec.Template.Labels[k]; !found {
			job.Spec.Template.Labels[k] = job.Name
		}
	}
	for _, k := range []string{LegacyControllerUIDLabel, batchv1.ControllerUidLabel} {
		if _, found := job.Spec.Template.Labels[k]; !found {
			job.Spec.Template.Labels[k] = string(job.UID)
		}
	}
	if job.Spec.Selector == nil {
		job.Spec.Selector = &metav1.LabelSelector{}
	}
	if job.Spec.Selector.MatchLabels == nil {
		job.Spec.Selector.MatchLabels = map[string]string{}
	}
	if _, found := job.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel]; !found {
		job.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] = string(job.UID)
	}
}

// deleteWarning is what a delete that keeps the pods by default says.
const deleteWarning = "child pods are preserved by default when jobs are deleted; " +
	"set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning"

// REST warns that deleting a Job without a propagation policy orphans its pods.
type REST struct{ *store.REST }

//nolint:staticcheck // OrphanDependents is still honoured upstream.
func warnOrphaning(ctx context.Context, options *metav1.DeleteOptions) {
	if options != nil && options.PropagationPolicy == nil && options.OrphanDependents == nil {
		warning.AddWarning(ctx, "", deleteWarning)
	}
}

func (r *REST) Delete(ctx context.Context, name string, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions) (runtime.Object, bool, error) {
	warnOrphaning(ctx, options)
	return r.Store.Delete(ctx, name, deleteValidation, options)
}

func (r *REST) DeleteCollection(ctx context.Context, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions, listOptions *internalversion.ListOptions) (runtime.Object, error) {
	warnOrphaning(ctx, options)
	return r.Store.DeleteCollection(ctx, deleteValidation, options, listOptions)
}

// Storage holds the job endpoints.
type Storage struct {
	REST   *REST
	Status *store.StatusREST
}

// NewStorage builds the job storage.
func NewStorage(opts generic.RESTOptionsGetter) (*Storage, error) {
	s, err := store.New(Resource, opts)
	if err != nil {
		return nil, err
	}
	return &Storage{REST: &REST{REST: s.REST}, Status: s.Status}, nil
}
