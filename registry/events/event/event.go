// Package event is the storage of Events, served both as core/v1 Event and
// as events.k8s.io/v1 Event.
//
// Upstream keeps one resource and converts between the two kinds. Capstan
// converts only between versions of one resource, so the two are stored as
// separate resources: an Event written through one API is not seen through
// the other. Both expire from etcd an hour after their last write.
package event

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/capstan-dev/capstan/registry/store"
	"github.com/capstan-dev/capstan/registry/validate"
)

// TTL is how long an Event stays in etcd after its last write
// (kube-apiserver's --event-ttl default).
const TTL = time.Hour

// Length limits of the newer Event fields.
const (
	ReportingInstanceLengthLimit = 128
	ActionLengthLimit            = 128
	ReasonLengthLimit            = 128
	NoteLengthLimit              = 1024
)

func ttl[T any](T, uint64, bool) (uint64, error) { return uint64(TTL.Seconds()), nil }

// CoreResource describes core/v1 events. Their names are only checked to be
// usable in a URL, as upstream does for this legacy API.
var CoreResource = &store.Resource[*corev1.Event]{
	Resource:            schema.GroupResource{Resource: "events"},
	Kind:                "Event",
	Namespaced:          true,
	ShortNames:          []string{"ev"},
	NameFunc:            path.ValidatePathSegmentName,
	AllowCreateOnUpdate: true,
	GCPolicy:            rest.Unsupported,
	TTL:                 ttl[*corev1.Event],
	New:                 func() *corev1.Event { return &corev1.Event{} },
	NewList:             func() runtime.Object { return &corev1.EventList{} },
	Validate:            func(_ context.Context, e *corev1.Event) field.ErrorList { return validateLegacy(e, true) },
	Fields: map[string]func(*corev1.Event) string{
		"involvedObject.kind":            func(e *corev1.Event) string { return e.InvolvedObject.Kind },
		"involvedObject.namespace":       func(e *corev1.Event) string { return e.InvolvedObject.Namespace },
		"involvedObject.name":            func(e *corev1.Event) string { return e.InvolvedObject.Name },
		"involvedObject.uid":             func(e *corev1.Event) string { return string(e.InvolvedObject.UID) },
		"involvedObject.apiVersion":      func(e *corev1.Event) string { return e.InvolvedObject.APIVersion },
		"involvedObject.resourceVersion": func(e *corev1.Event) string { return e.InvolvedObject.ResourceVersion },
		"involvedObject.fieldPath":       func(e *corev1.Event) string { return e.InvolvedObject.FieldPath },
		"reason":                         func(e *corev1.Event) string { return e.Reason },
		"reportingComponent":             func(e *corev1.Event) string { return e.ReportingController },
		"source":                         func(e *corev1.Event) string { return source(e) },
		"type":                           func(e *corev1.Event) string { return e.Type },
	},
	Columns: Columns,
	Row:     Row,
}

// Resource describes events.k8s.io/v1 events, validated strictly.
var Resource = &store.Resource[*eventsv1.Event]{
	Resource:            schema.GroupResource{Group: eventsv1.GroupName, Resource: "events"},
	Kind:                "Event",
	Namespaced:          true,
	ShortNames:          []string{"ev"},
	AllowCreateOnUpdate: true,
	GCPolicy:            rest.Unsupported,
	TTL:                 ttl[*eventsv1.Event],
	New:                 func() *eventsv1.Event { return &eventsv1.Event{} },
	NewList:             func() runtime.Object { return &eventsv1.EventList{} },
	Validate:            func(_ context.Context, e *eventsv1.Event) field.ErrorList { return ValidateCreate(AsCore(e)) },
	ValidateUpdate: func(_ context.Context, e, old *eventsv1.Event) field.ErrorList {
		return ValidateUpdate(AsCore(e), AsCore(old))
	},
	// The same selectors as core/v1, under the events.k8s.io field names.
	Fields: map[string]func(*eventsv1.Event) string{
		"regarding.kind":            func(e *eventsv1.Event) string { return e.Regarding.Kind },
		"regarding.namespace":       func(e *eventsv1.Event) string { return e.Regarding.Namespace },
		"regarding.name":            func(e *eventsv1.Event) string { return e.Regarding.Name },
		"regarding.uid":             func(e *eventsv1.Event) string { return string(e.Regarding.UID) },
		"regarding.apiVersion":      func(e *eventsv1.Event) string { return e.Regarding.APIVersion },
		"regarding.resourceVersion": func(e *eventsv1.Event) string { return e.Regarding.ResourceVersion },
		"regarding.fieldPath":       func(e *eventsv1.Event) string { return e.Regarding.FieldPath },
		"reason":                    func(e *eventsv1.Event) string { return e.Reason },
		"reportingController":       func(e *eventsv1.Event) string { return e.ReportingController },
		"source":                    func(e *eventsv1.Event) string { return source(AsCore(e)) },
		"type":                      func(e *eventsv1.Event) string { return e.Type },
	},
	Columns: Columns,
	Row:     func(e *eventsv1.Event) []any { return Row(AsCore(e)) },
}

func init() {
	utilruntime.Must(CoreResource.RegisterFieldLabels("v1"))
	utilruntime.Must(Resource.RegisterFieldLabels("v1"))
}

func source(e *corev1.Event) string {
	if e.Source.Component != "" {
		return e.Source.Component
	}
	return e.ReportingController
}

// AsCore maps an events.k8s.io Event field by field onto the core/v1 shape,
// which validation and the table are written against (upstream reports
// events.k8s.io errors under the core field names as well). It is not used
// for storage.
func AsCore(e *eventsv1.Event) *corev1.Event {
	out := &corev1.Event{
		ObjectMeta:          e.ObjectMeta,
		InvolvedObject:      e.Regarding,
		Reason:              e.Reason,
		Message:             e.Note,
		Source:              e.DeprecatedSource,
		FirstTimestamp:      e.DeprecatedFirstTimestamp,
		LastTimestamp:       e.DeprecatedLastTimestamp,
		Count:               e.DeprecatedCount,
		Type:                e.Type,
		EventTime:           e.EventTime,
		Action:              e.Action,
		Related:             e.Related,
		ReportingController: e.ReportingController,
		ReportingInstance:   e.ReportingInstance,
	}
	if e.Series != nil {
		out.Series = &corev1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return out
}

// validateLegacy is the validation every Event passes. Events without an
// eventTime come from old clients and only need consistent namespaces;
// newer ones need their reporting fields. core tells which API the request
// came through, which only changes the name of the controller field.
func validateLegacy(e *corev1.Event, core bool) field.ErrorList {
	var errs field.ErrorList
	controller := "reportingController"
	if core {
		controller = "reportingComponent"
	}
	nsPath := field.NewPath("involvedObject", "namespace")
	if e.EventTime.IsZero() {
		if e.InvolvedObject.Namespace == "" {
			// Old clients may file cluster-scoped objects' events in "default".
			if e.Namespace != metav1.NamespaceNone && e.Namespace != metav1.NamespaceDefault {
				errs = append(errs, field.Invalid(nsPath, e.InvolvedObject.Namespace, "does not match event.namespace"))
			}
		} else if e.Namespace != e.InvolvedObject.Namespace {
			errs = append(errs, field.Invalid(nsPath, e.InvolvedObject.Namespace, "does not match event.namespace"))
		}
	} else {
		if e.InvolvedObject.Namespace == "" && e.Namespace != metav1.NamespaceDefault && e.Namespace != metav1.NamespaceSystem {
			errs = append(errs, field.Invalid(nsPath, e.InvolvedObject.Namespace, "does not match event.namespace"))
		}
		if e.ReportingController == "" {
			errs = append(errs, field.Required(field.NewPath(controller), ""))
		}
		errs = append(errs, validate.Invalid(field.NewPath(controller), e.ReportingController, validation.IsQualifiedName(e.ReportingController))...)
		if e.ReportingInstance == "" {
			errs = append(errs, field.Required(field.NewPath("reportingInstance"), ""))
		}
		errs = append(errs, tooLong(e.ReportingInstance, ReportingInstanceLengthLimit, field.NewPath("reportingInstance"))...)
		if e.Action == "" {
			errs = append(errs, field.Required(field.NewPath("action"), ""))
		}
		errs = append(errs, tooLong(e.Action, ActionLengthLimit, field.NewPath("action"))...)
		if e.Reason == "" {
			errs = append(errs, field.Required(field.NewPath("reason"), ""))
		}
		errs = append(errs, tooLong(e.Reason, ReasonLengthLimit, field.NewPath("reason"))...)
		errs = append(errs, tooLong(e.Message, NoteLengthLimit, field.NewPath("message"))...)
	}
	errs = append(errs, validate.Invalid(field.NewPath("namespace"), e.Namespace, validation.IsDNS1123Subdomain(e.Namespace))...)
	return errs
}

func tooLong(v string, max int, p *field.Path) field.ErrorList {
	if len(v) > max {
		return field.ErrorList{field.Invalid(p, "", fmt.Sprintf("can have at most %v characters", max))}
	}
	return nil
}

// ValidateCreate is the strict validation of an Event created through
// events.k8s.io: it must use the new fields and leave the deprecated ones unset.
func ValidateCreate(e *corev1.Event) field.ErrorList {
	errs := validateLegacy(e, false)
	errs = append(errs, validateSeries(e)...)
	if e.EventTime.IsZero() {
		errs = append(errs, field.Required(field.NewPath("eventTime"), ""))
	}
	if e.Type != corev1.EventTypeNormal && e.Type != corev1.EventTypeWarning {
		errs = append(errs, field.Invalid(field.NewPath("type"), "", fmt.Sprintf("has invalid value: %v", e.Type)))
	}
	if !e.FirstTimestamp.IsZero() {
		errs = append(errs, field.Invalid(field.NewPath("firstTimestamp"), "", "needs to be unset"))
	}
	if !e.LastTimestamp.IsZero() {
		errs = append(errs, field.Invalid(field.NewPath("lastTimestamp"), "", "needs to be unset"))
	}
	if e.Count != 0 {
		errs = append(errs, field.Invalid(field.NewPath("count"), "", "needs to be unset"))
	}
	if e.Source.Component != "" || e.Source.Host != "" {
		errs = append(errs, field.Invalid(field.NewPath("source"), "", "needs to be unset"))
	}
	return errs
}

// ValidateUpdate is the strict validation of an update through
// events.k8s.io: only the series (and metadata) may change.
func ValidateUpdate(e, old *corev1.Event) field.ErrorList {
	errs := validateLegacy(e, false)
	if !reflect.DeepEqual(e.Series, old.Series) {
		errs = append(errs, validateSeries(e)...)
	}
	immutable := func(n, o any, name string) {
		errs = append(errs, apimachineryvalidation.ValidateImmutableField(n, o, field.NewPath(name))...)
	}
	immutable(e.InvolvedObject, old.InvolvedObject, "involvedObject")
	immutable(e.Reason, old.Reason, "reason")
	immutable(e.Message, old.Message, "message")
	immutable(e.Source, old.Source, "source")
	immutable(e.FirstTimestamp, old.FirstTimestamp, "firstTimestamp")
	immutable(e.LastTimestamp, old.LastTimestamp, "lastTimestamp")
	immutable(e.Count, old.Count, "count")
	immutable(e.Type, old.Type, "type")
	// Clients that serialise with nanoseconds must not trip over precision.
	if !e.EventTime.Truncate(time.Microsecond).UTC().Equal(old.EventTime.Truncate(time.Microsecond).UTC()) {
		immutable(e.EventTime, old.EventTime, "eventTime")
	}
	immutable(e.Action, old.Action, "action")
	immutable(e.Related, old.Related, "related")
	immutable(e.ReportingController, old.ReportingController, "reportingController")
	immutable(e.ReportingInstance, old.ReportingInstance, "reportingInstance")
	return errs
}

func validateSeries(e *corev1.Event) field.ErrorList {
	var errs field.ErrorList
	if e.Series != nil {
		if e.Series.Count < 2 {
			errs = append(errs, field.Invalid(field.NewPath("series.count"), "", "should be at least 2"))
		}
		if e.Series.LastObservedTime.IsZero() {
			errs = append(errs, field.Required(field.NewPath("series.lastObservedTime"), ""))
		}
	}
	return errs
}

// Columns are upstream's event columns; kubectl shows those of priority 0
// (LAST SEEN, TYPE, REASON, OBJECT, MESSAGE) unless asked for wide output.
var Columns = []metav1.TableColumnDefinition{
	{Name: "Last Seen", Type: "string", Description: corev1.Event{}.SwaggerDoc()["lastTimestamp"]},
	{Name: "Type", Type: "string", Description: corev1.Event{}.SwaggerDoc()["type"]},
	{Name: "Reason", Type: "string", Description: corev1.Event{}.SwaggerDoc()["reason"]},
	{Name: "Object", Type: "string", Description: corev1.Event{}.SwaggerDoc()["involvedObject"]},
	{Name: "Subobject", Type: "string", Priority: 1, Description: corev1.ObjectReference{}.SwaggerDoc()["fieldPath"]},
	{Name: "Source", Type: "string", Priority: 1, Description: corev1.Event{}.SwaggerDoc()["source"]},
	{Name: "Message", Type: "string", Description: corev1.Event{}.SwaggerDoc()["message"]},
	{Name: "First Seen", Type: "string", Priority: 1, Description: corev1.Event{}.SwaggerDoc()["firstTimestamp"]},
	{Name: "Count", Type: "string", Priority: 1, Description: corev1.Event{}.SwaggerDoc()["count"]},
	{Name: "Name", Type: "string", Priority: 1, Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
}

// Row renders one event. Events of the new API fall back to eventTime and
// their series for the timestamps and the count.
func Row(e *corev1.Event) []any {
	first := store.Age(e.FirstTimestamp)
	if e.FirstTimestamp.IsZero() {
		first = store.Age(metav1.NewTime(e.EventTime.Time))
	}
	last := store.Age(e.LastTimestamp)
	if e.LastTimestamp.IsZero() {
		last = first
	}
	count := e.Count
	if e.Series != nil {
		last = store.Age(metav1.NewTime(e.Series.LastObservedTime.Time))
		count = e.Series.Count
	} else if count == 0 {
		count = 1
	}
	target := strings.ToLower(e.InvolvedObject.Kind)
	if e.InvolvedObject.Name != "" {
		target += "/" + e.InvolvedObject.Name
	}
	return []any{last, e.Type, e.Reason, target, e.InvolvedObject.FieldPath, formatSource(e), strings.TrimSpace(e.Message), first, int64(count), e.Name}
}

func formatSource(e *corev1.Event) string {
	component := e.Source.Component
	if component == "" {
		component = e.ReportingController
	}
	host := e.Source.Host
	if host == "" {
		host = e.ReportingInstance
	}
	if host == "" {
		return component
	}
	return component + ", " + host
}
