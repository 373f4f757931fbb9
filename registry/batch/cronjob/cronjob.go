// Package cronjob is the storage of batch/v1 CronJobs.
package cronjob

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	// Time zones are checked against the IANA database even where the host has none.
	_ "time/tzdata"

	batchv1 "k8s.io/api/batch/v1"
	batchv1beta1 "k8s.io/api/batch/v1beta1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/batch/job"
	"github.com/capstan-dev/capstan/registry/store"
)

// MaxNameLength leaves room for the 11-character suffix of the Jobs a
// CronJob creates, whose names are DNS labels.
const MaxNameLength = 63 - 11

// Resource describes cronjobs.
var Resource = &store.Resource[*batchv1.CronJob]{
	Resource:   schema.GroupResource{Group: batchv1.GroupName, Resource: "cronjobs"},
	Kind:       "CronJob",
	Namespaced: true,
	ShortNames: []string{"cj"},
	Categories: []string{"all"},
	HasStatus:  true,
	Generation: true,
	New:        func() *batchv1.CronJob { return &batchv1.CronJob{} },
	NewList:    func() runtime.Object { return &batchv1.CronJobList{} },
	Validate: func(_ context.Context, cj *batchv1.CronJob) field.ErrorList {
		errs := ValidateSpec(&cj.Spec, nil, field.NewPath("spec"))
		if len(cj.Name) > MaxNameLength {
			errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), cj.Name, fmt.Sprintf("must be no more than %d characters", MaxNameLength)))
		}
		return errs
	},
	// The name length is not checked again: older, longer names stay updatable.
	ValidateUpdate: func(_ context.Context, cj, old *batchv1.CronJob) field.ErrorList {
		return ValidateSpec(&cj.Spec, &old.Spec, field.NewPath("spec"))
	},
	WarningsOnCreate: func(_ context.Context, cj *batchv1.CronJob) []string {
		w := job.NameWarnings(cj.Name)
		if strings.Contains(cj.Spec.Schedule, "TZ") {
			w = append(w, "CRON_TZ or TZ used in spec.schedule is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details")
		}
		return w
	},
	WarningsOnUpdate: func(_ context.Context, cj, old *batchv1.CronJob) []string {
		if cj.Spec.Schedule != old.Spec.Schedule && strings.Contains(cj.Spec.Schedule, "TZ") {
			return []string{"CRON_TZ or TZ used in spec.schedule is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details"}
		}
		return nil
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Schedule", Type: "string", Description: batchv1beta1.CronJobSpec{}.SwaggerDoc()["schedule"]},
		{Name: "Timezone", Type: "string", Description: batchv1beta1.CronJobSpec{}.SwaggerDoc()["timeZone"]},
		{Name: "Suspend", Type: "boolean", Description: batchv1beta1.CronJobSpec{}.SwaggerDoc()["suspend"]},
		{Name: "Active", Type: "integer", Description: batchv1beta1.CronJobStatus{}.SwaggerDoc()["active"]},
		{Name: "Last Schedule", Type: "string", Description: batchv1beta1.CronJobStatus{}.SwaggerDoc()["lastScheduleTime"]},
		store.AgeColumn,
		job.ContainersColumn,
		job.ImagesColumn,
		{Name: "Selector", Type: "string", Priority: 1, Description: batchv1.JobSpec{}.SwaggerDoc()["selector"]},
	},
	Row: func(cj *batchv1.CronJob) []any {
		last := "<none>"
		if cj.Status.LastScheduleTime != nil {
			last = store.Age(*cj.Status.LastScheduleTime)
		}
		tz := "<none>"
		if cj.Spec.TimeZone != nil {
			tz = *cj.Spec.TimeZone
		}
		suspend := "<unset>"
		if cj.Spec.Suspend != nil {
			suspend = "False"
			if *cj.Spec.Suspend {
				suspend = "True"
			}
		}
		names, images := job.ContainerCells(cj.Spec.JobTemplate.Spec.Template.Spec.Containers)
		return []any{cj.Name, cj.Spec.Schedule, tz, suspend, int64(len(cj.Status.Active)), last, store.Age(cj.CreationTimestamp),
			names, images, metav1.FormatLabelSelector(cj.Spec.JobTemplate.Spec.Selector)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// ValidateSpec checks a CronJob spec; old is the stored spec on update.
func ValidateSpec(spec, old *batchv1.CronJobSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.Schedule == "" {
		errs = append(errs, field.Required(p.Child("schedule"), ""))
	} else {
		// Schedules stored with a TZ prefix before the timeZone field existed stay valid.
		allowTZ := old != nil && strings.Contains(old.Schedule, "TZ")
		errs = append(errs, validateSchedule(spec.Schedule, allowTZ, spec.TimeZone, p.Child("schedule"))...)
	}
	if spec.StartingDeadlineSeconds != nil {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(*spec.StartingDeadlineSeconds, p.Child("startingDeadlineSeconds"))...)
	}
	if old == nil || !sameString(old.TimeZone, spec.TimeZone) {
		errs = append(errs, validateTimeZone(spec.TimeZone, p.Child("timeZone"))...)
	}
	switch cp := p.Child("concurrencyPolicy"); spec.ConcurrencyPolicy {
	case batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent:
	case "":
		errs = append(errs, field.Required(cp, ""))
	default:
		errs = append(errs, field.NotSupported(cp, spec.ConcurrencyPolicy,
			[]batchv1.ConcurrencyPolicy{batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent}))
	}
	errs = append(errs, validateJobTemplate(&spec.JobTemplate, p.Child("jobTemplate"))...)
	if spec.SuccessfulJobsHistoryLimit != nil {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(*spec.SuccessfulJobsHistoryLimit), p.Child("successfulJobsHistoryLimit"))...)
	}
	if spec.FailedJobsHistoryLimit != nil {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(*spec.FailedJobsHistoryLimit), p.Child("failedJobsHistoryLimit"))...)
	}
	return errs
}

func validateSchedule(schedule string, allowTZ bool, timeZone *string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if err := ParseSchedule(schedule); err != nil {
		errs = append(errs, field.Invalid(p, schedule, err.Error()))
	}
	switch hasTZ := strings.Contains(schedule, "TZ"); {
	case allowTZ && hasTZ && timeZone != nil:
		errs = append(errs, field.Invalid(p, schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"))
	case !allowTZ && hasTZ:
		errs = append(errs, field.Invalid(p, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
	}
	return errs
}

// timeZonePart is what one component of an IANA zone name may look like.
var timeZonePart = regexp.MustCompile(`^[A-Za-z\.\-_0-9+]{1,14}$`)

func validateTimeZone(tz *string, p *field.Path) field.ErrorList {
	if tz == nil {
		return nil
	}
	if *tz == "" {
		return field.ErrorList{field.Invalid(p, tz, "timeZone must be nil or non-empty string")}
	}
	for _, part := range strings.Split(*tz, "/") {
		if part == "." || part == ".." || strings.HasPrefix(part, "-") || !timeZonePart.MatchString(part) {
			return field.ErrorList{field.Invalid(p, tz, fmt.Sprintf("unknown time zone %s", *tz))}
		}
	}
	var errs field.ErrorList
	if strings.EqualFold(*tz, "Local") {
		errs = append(errs, field.Invalid(p, tz, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"))
	}
	if _, err := time.LoadLocation(*tz); err != nil {
		errs = append(errs, field.Invalid(p, tz, err.Error()))
	}
	return errs
}

// validateJobTemplate checks the template of the Jobs: its selector is
// always generated when a Job is made from it.
func validateJobTemplate(t *batchv1.JobTemplateSpec, p *field.Path) field.ErrorList {
	errs := metavalidation.ValidateLabels(t.Labels, p.Child("metadata", "labels"))
	errs = append(errs, apimachineryvalidation.ValidateAnnotations(t.Annotations, p.Child("metadata", "annotations"))...)
	sp := p.Child("spec")
	errs = append(errs, job.ValidateTemplateSpec(&t.Spec, sp)...)
	if t.Spec.Selector != nil {
		errs = append(errs, field.Invalid(sp.Child("selector"), t.Spec.Selector, "`selector` will be auto-generated"))
	}
	if t.Spec.ManualSelector != nil && *t.Spec.ManualSelector {
		errs = append(errs, field.NotSupported(sp.Child("manualSelector"), t.Spec.ManualSelector, []string{"nil", "false"}))
	}
	return errs
}

func sameString(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
