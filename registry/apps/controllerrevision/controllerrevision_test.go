package controllerrevision

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
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

func newRevision(data string, revision int64) *appsv1.ControllerRevision {
	cr := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "db-7c9", Namespace: "default"}, Revision: revision}
	if data != "" {
		cr.Data = runtime.RawExtension{Raw: []byte(data)}
	}
	return cr
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cr   *appsv1.ControllerRevision
		want []fieldError
	}{
		{name: "valid", cr: newRevision(`{"spec":{}}`, 1)},
		{name: "no data", cr: newRevision("", 1), want: []fieldError{{field.ErrorTypeRequired, "data", "data is mandatory"}}},
		{name: "negative revision", cr: newRevision(`{}`, -1), want: []fieldError{{field.ErrorTypeInvalid, "revision", "must be greater than or equal to 0"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, summarize(Resource.Validate(context.Background(), tc.cr))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	old := newRevision(`{"spec":{"a":1,"b":2}}`, 1)
	tests := []struct {
		name string
		cr   *appsv1.ControllerRevision
		want []fieldError
	}{
		{name: "same data re-encoded", cr: newRevision(`{ "spec": {"b":2, "a":1} }`, 1)},
		{name: "new revision number", cr: newRevision(`{"spec":{"a":1,"b":2}}`, 2)},
		{name: "data changed", cr: newRevision(`{"spec":{"a":2}}`, 1), want: []fieldError{{field.ErrorTypeInvalid, "data", "field is immutable"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, summarize(Resource.ValidateUpdate(context.Background(), tc.cr, old))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRow(t *testing.T) {
	controller := true
	owned := newRevision(`{}`, 3)
	owned.OwnerReferences = []metav1.OwnerReference{
		{APIVersion: "v1", Kind: "Pod", Name: "other"},
		{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "db", Controller: &controller},
	}
	tests := []struct {
		name string
		cr   *appsv1.ControllerRevision
		want []any
	}{
		{name: "orphan", cr: newRevision(`{}`, 1), want: []any{"db-7c9", "<none>", int64(1), "<unknown>"}},
		{name: "owned", cr: owned, want: []any{"db-7c9", "statefulset.apps/db", int64(3), "<unknown>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Resource.Row(tc.cr)); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
		})
	}
}
