package cronjob

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

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

func newCronJob(mutate func(*batchv1.CronJob)) *batchv1.CronJob {
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "backup", Namespace: "default"},
		Spec: batchv1.CronJobSpec{
			Schedule: "*/5 * * * *",
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyOnFailure,
					Containers:    []corev1.Container{{Name: "backup", Image: "busybox"}},
				},
			}}},
		},
	}
	scheme.Scheme.Default(cj)
	if mutate != nil {
		mutate(cj)
	}
	return cj
}

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		schedule string
		want     string
	}{
		{schedule: "0 0 * * *"},
		{schedule: "*/15 9-17 * JAN-mar mon-FRI"},
		{schedule: "5,10-20/5 */2 1,15 * 0"},
		{schedule: "0 0 ? * *"},
		{schedule: "@hourly"},
		{schedule: "@every 1h30m"},
		{schedule: "CRON_TZ=Europe/Paris 0 3 * * *"},
		{schedule: "", want: "empty spec string"},
		{schedule: "* * * *", want: "expected exactly 5 fields, found 4: [* * * *]"},
		{schedule: "0 0 0 * * *", want: "expected exactly 5 fields, found 6: [0 0 0 * * *]"},
		{schedule: "60 * * * *", want: "end of range (60) above maximum (59): 60"},
		{schedule: "* * 0 * *", want: "beginning of range (0) below minimum (1): 0"},
		{schedule: "* * * * 7", want: "end of range (7) above maximum (6): 7"},
		{schedule: "* 5-2 * * *", want: "beginning of range (5) beyond end of range (2): 5-2"},
		{schedule: "*/0 * * * *", want: "step of range should be a positive number: */0"},
		{schedule: "1-2-3 * * * *", want: "too many hyphens: 1-2-3"},
		{schedule: "*/2/3 * * * *", want: "too many slashes: */2/3"},
		{schedule: "* * L * *", want: `failed to parse int from L: strconv.Atoi: parsing "L": invalid syntax`},
		{schedule: "@fortnightly", want: "unrecognized descriptor: @fortnightly"},
		{schedule: "@every 1x", want: `failed to parse duration @every 1x: time: unknown unit "x" in duration "1x"`},
		{schedule: "TZ=Mars/Olympus 0 * * * *", want: "provided bad location Mars/Olympus: unknown time zone Mars/Olympus"},
	}
	for _, tc := range tests {
		t.Run(tc.schedule, func(t *testing.T) {
			var got string
			if err := ParseSchedule(tc.schedule); err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*batchv1.CronJob)
		want   []fieldError
	}{
		{name: "valid"},
		{name: "time zone", mutate: func(cj *batchv1.CronJob) { cj.Spec.TimeZone = new("America/New_York") }},
		{
			name:   "no schedule",
			mutate: func(cj *batchv1.CronJob) { cj.Spec.Schedule = "" },
			want:   []fieldError{{field.ErrorTypeRequired, "spec.schedule", ""}},
		},
		{
			name:   "bad schedule",
			mutate: func(cj *batchv1.CronJob) { cj.Spec.Schedule = "every five minutes" },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.schedule", "expected exactly 5 fields, found 3: [every five minutes]"}},
		},
		{
			name:   "TZ in schedule",
			mutate: func(cj *batchv1.CronJob) { cj.Spec.Schedule = "TZ=UTC 0 * * * *" },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.schedule", "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"}},
		},
		{
			name:   "unknown time zone",
			mutate: func(cj *batchv1.CronJob) { cj.Spec.TimeZone = new("Mars/Olympus_Mons") },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.timeZone", "unknown time zone Mars/Olympus_Mons"}},
		},
		{
			name:   "malformed time zone",
			mutate: func(cj *batchv1.CronJob) { cj.Spec.TimeZone = new("../etc/passwd") },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.timeZone", "unknown time zone ../etc/passwd"}},
		},
		{
			name:   "Local time zone",
			mutate: func(cj *batchv1.CronJob) { cj.Spec.TimeZone = new("Local") },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.timeZone", "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"}},
		},
		{
			name:   "empty time zone",
			mutate: func(cj *batchv1.CronJob) { cj.Spec.TimeZone = new("") },
			want:   []fieldError{{field.ErrorTypeInvalid, "spec.timeZone", "timeZone must be nil or non-empty string"}},
		},
		{
			name:   "concurrency policy",
			mutate: func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = "Queue" },
			want:   []fieldError{{field.ErrorTypeNotSupported, "spec.concurrencyPolicy", `supported values: "Allow", "Forbid", "Replace"`}},
		},
		{
			name: "history limits and deadline",
			mutate: func(cj *batchv1.CronJob) {
				cj.Spec.SuccessfulJobsHistoryLimit = new(int32(-1))
				cj.Spec.FailedJobsHistoryLimit = new(int32(-1))
				cj.Spec.StartingDeadlineSeconds = new(int64(-1))
			},
			want: []fieldError{
				{field.ErrorTypeInvalid, "spec.startingDeadlineSeconds", "must be greater than or equal to 0"},
				{field.ErrorTypeInvalid, "spec.successfulJobsHistoryLimit", "must be greater than or equal to 0"},
				{field.ErrorTypeInvalid, "spec.failedJobsHistoryLimit", "must be greater than or equal to 0"},
			},
		},
		{
			name: "job template selector and restart policy",
			mutate: func(cj *batchv1.CronJob) {
				cj.Spec.JobTemplate.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}
				cj.Spec.JobTemplate.Spec.ManualSelector = new(true)
				cj.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
			},
			want: []fieldError{
				{field.ErrorTypeRequired, "spec.jobTemplate.spec.template.spec.restartPolicy", `valid values: "OnFailure", "Never"`},
				{field.ErrorTypeInvalid, "spec.jobTemplate.spec.selector", "`selector` will be auto-generated"},
				{field.ErrorTypeNotSupported, "spec.jobTemplate.spec.manualSelector", `supported values: "nil", "false"`},
			},
		},
		{
			name:   "name too long",
			mutate: func(cj *batchv1.CronJob) { cj.Name = strings.Repeat("a", 53) },
			want:   []fieldError{{field.ErrorTypeInvalid, "metadata.name", "must be no more than 52 characters"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := summarize(Resource.Validate(context.Background(), newCronJob(tc.mutate)))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	tests := []struct {
		name   string
		old    func(*batchv1.CronJob)
		mutate func(*batchv1.CronJob)
		want   []fieldError
	}{
		{name: "long name stays updatable", old: func(cj *batchv1.CronJob) { cj.Name = strings.Repeat("a", 60) }, mutate: func(cj *batchv1.CronJob) { cj.Spec.Suspend = new(true) }},
		{
			name:   "stored TZ schedule stays valid",
			old:    func(cj *batchv1.CronJob) { cj.Spec.Schedule = "TZ=UTC 0 * * * *" },
			mutate: func(cj *batchv1.CronJob) { cj.Spec.Schedule = "TZ=UTC 30 * * * *" },
		},
		{
			name: "TZ schedule with timeZone",
			old:  func(cj *batchv1.CronJob) { cj.Spec.Schedule = "TZ=UTC 0 * * * *" },
			mutate: func(cj *batchv1.CronJob) {
				cj.Spec.TimeZone = new("UTC")
			},
			want: []fieldError{{field.ErrorTypeInvalid, "spec.schedule", "cannot use both timeZone field and TZ or CRON_TZ in schedule"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := newCronJob(tc.old)
			cj := old.DeepCopy()
			tc.mutate(cj)
			got := summarize(Resource.ValidateUpdate(context.Background(), cj, old))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	cj := newCronJob(func(cj *batchv1.CronJob) {
		cj.Name = "nightly.backup"
		cj.Spec.Schedule = "CRON_TZ=UTC 0 0 * * *"
	})
	want := []string{
		"metadata.name: this is used in Pod names and hostnames, which can result in surprising behavior; a DNS label is recommended: [must not contain dots]",
		"CRON_TZ or TZ used in spec.schedule is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details",
	}
	if diff := cmp.Diff(want, Resource.WarningsOnCreate(context.Background(), cj)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestRow(t *testing.T) {
	last := metav1.NewTime(time.Now().Add(-3 * time.Minute))
	tests := []struct {
		name   string
		mutate func(*batchv1.CronJob)
		want   []any
	}{
		{name: "never scheduled", want: []any{"backup", "*/5 * * * *", "<none>", "False", int64(0), "<none>"}},
		{
			name: "scheduled",
			mutate: func(cj *batchv1.CronJob) {
				cj.Spec.TimeZone = new("Etc/UTC")
				cj.Spec.Suspend = new(true)
				cj.Status.Active = []corev1.ObjectReference{{Name: "backup-1"}}
				cj.Status.LastScheduleTime = &last
			},
			want: []any{"backup", "*/5 * * * *", "Etc/UTC", "True", int64(1), "3m"},
		},
		{name: "suspend unset", mutate: func(cj *batchv1.CronJob) { cj.Spec.Suspend = nil }, want: []any{"backup", "*/5 * * * *", "<none>", "<unset>", int64(0), "<none>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cj := newCronJob(tc.mutate)
			want := append(tc.want, "<unknown>", "backup", "busybox", "<none>")
			if diff := cmp.Diff(want, Resource.Row(cj)); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
		})
	}
}
