package event

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func messages(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

var eventTime = metav1.NewMicroTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))

func newEvent() *eventsv1.Event {
	return &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: "web.1", Namespace: "default"},
		EventTime:           eventTime,
		ReportingController: "kubelet",
		ReportingInstance:   "node-1",
		Action:              "Pulling",
		Reason:              "Pulling",
		Regarding:           corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web"},
		Note:                "pulling image",
		Type:                corev1.EventTypeNormal,
	}
}

func TestValidateCore(t *testing.T) {
	tests := []struct {
		name  string
		event *corev1.Event
		want  []string
	}{
		{
			name:  "old style",
			event: &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "default"}, InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "p"}, Type: "Custom"},
			want:  []string{},
		},
		{
			name:  "namespace mismatch",
			event: &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "default"}, InvolvedObject: corev1.ObjectReference{Namespace: "other"}},
			want:  []string{`involvedObject.namespace: Invalid value: "other": does not match event.namespace`},
		},
		{
			name:  "new style without reporting fields",
			event: &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "default"}, InvolvedObject: corev1.ObjectReference{Namespace: "default"}, EventTime: eventTime, Message: strings.Repeat("x", NoteLengthLimit+1)},
			want: []string{
				"reportingComponent: Required value",
				`reportingComponent: Invalid value: "": name part must be non-empty`,
				`reportingComponent: Invalid value: "": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
				"reportingInstance: Required value",
				"action: Required value",
				"reason: Required value",
				`message: Invalid value: "": can have at most 1024 characters`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := messages(CoreResource.Validate(context.Background(), tt.event))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateEventsV1(t *testing.T) {
	tests := []struct {
		name   string
		change func(*eventsv1.Event)
		want   []string
	}{
		{name: "valid", change: func(*eventsv1.Event) {}, want: []string{}},
		{
			name: "deprecated fields and bad type",
			change: func(e *eventsv1.Event) {
				e.Type = "Info"
				e.DeprecatedCount = 3
				e.DeprecatedSource = corev1.EventSource{Component: "kubelet"}
			},
			want: []string{
				`type: Invalid value: "": has invalid value: Info`,
				`count: Invalid value: "": needs to be unset`,
				`source: Invalid value: "": needs to be unset`,
			},
		},
		{
			name:   "short series",
			change: func(e *eventsv1.Event) { e.Series = &eventsv1.EventSeries{Count: 1} },
			want:   []string{`series.count: Invalid value: "": should be at least 2`, "series.lastObservedTime: Required value"},
		},
		{
			name:   "missing event time",
			change: func(e *eventsv1.Event) { e.EventTime = metav1.MicroTime{} },
			want:   []string{"eventTime: Required value"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEvent()
			tt.change(e)
			got := messages(Resource.Validate(context.Background(), e))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateEventsV1Update(t *testing.T) {
	old := newEvent()
	e := newEvent()
	e.Note = "changed"
	e.Series = &eventsv1.EventSeries{Count: 2, LastObservedTime: eventTime}
	e.EventTime = metav1.NewMicroTime(eventTime.Add(500 * time.Nanosecond))
	want := []string{`message: Invalid value: "changed": field is immutable`}
	if diff := cmp.Diff(want, messages(Resource.ValidateUpdate(context.Background(), e, old))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestTTL(t *testing.T) {
	got, err := CoreResource.TTL(&corev1.Event{}, 0, false)
	if err != nil || got != 3600 {
		t.Errorf("core TTL = %d, %v", got, err)
	}
	got, err = Resource.TTL(newEvent(), 10, true)
	if err != nil || got != 3600 {
		t.Errorf("events.k8s.io TTL = %d, %v", got, err)
	}
}

func TestFields(t *testing.T) {
	e := &corev1.Event{InvolvedObject: corev1.ObjectReference{Kind: "Pod"}, ReportingController: "ctrl", Type: "Warning"}
	got := map[string]string{}
	for k, f := range CoreResource.Fields {
		got[k] = f(e)
	}
	want := map[string]string{
		"involvedObject.kind": "Pod", "involvedObject.namespace": "", "involvedObject.name": "", "involvedObject.uid": "",
		"involvedObject.apiVersion": "", "involvedObject.resourceVersion": "", "involvedObject.fieldPath": "",
		"reason": "", "reportingComponent": "ctrl", "source": "ctrl", "type": "Warning",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

func TestRow(t *testing.T) {
	tests := []struct {
		name  string
		event *corev1.Event
		want  []any
	}{
		{
			name: "legacy",
			event: &corev1.Event{
				ObjectMeta: metav1.ObjectMeta{Name: "web.1"}, Type: "Warning", Reason: "BackOff",
				InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web", FieldPath: "spec.containers{app}"},
				Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"}, Message: " back-off \n", Count: 4,
			},
			want: []any{"<unknown>", "Warning", "BackOff", "pod/web", "spec.containers{app}", "kubelet, node-1", "back-off", "<unknown>", int64(4), "web.1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Row(tt.event)); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
		})
	}
	// A new-style event is dated by its eventTime, seen once.
	row := Row(AsCore(newEvent()))
	if row[0] != row[7] || row[0] == "<unknown>" {
		t.Errorf("last seen %v, first seen %v: want both from eventTime", row[0], row[7])
	}
	row[0], row[7] = "", ""
	want := []any{"", "Normal", "Pulling", "pod/web", "", "kubelet, node-1", "pulling image", "", int64(1), "web.1"}
	if diff := cmp.Diff(want, row); diff != "" {
		t.Errorf("events.k8s.io row (-want +got):\n%s", diff)
	}
	if n := len(Columns); n != 10 {
		t.Errorf("%d columns, want 10", n)
	}
}
