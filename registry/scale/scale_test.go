package scale

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
)

var deployments = Target[*appsv1.Deployment]{
	Resource:       schema.GroupResource{Group: "apps", Resource: "deployments"},
	Replicas:       func(d *appsv1.Deployment) int32 { return Replicas(d.Spec.Replicas) },
	SetReplicas:    func(d *appsv1.Deployment, n int32) { d.Spec.Replicas = &n },
	StatusReplicas: func(d *appsv1.Deployment) int32 { return d.Status.Replicas },
	Selector:       func(d *appsv1.Deployment) (string, error) { return LabelSelector(d.Spec.Selector) },
}

func newREST() *REST[*appsv1.Deployment] {
	return New(&genericregistry.Store{}, deployments)
}

func deployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "prod", UID: "u-1", ResourceVersion: "42", Generation: 7,
			Labels: map[string]string{"team": "a"}},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(3)),
			Selector: &metav1.LabelSelector{
				MatchLabels:      map[string]string{"app": "web"},
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"a", "b"}}},
			},
		},
		Status: appsv1.DeploymentStatus{Replicas: 2},
	}
}

func TestScaleOf(t *testing.T) {
	got, err := newREST().ScaleOf(deployment())
	if err != nil {
		t.Fatal(err)
	}
	want := &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "prod", UID: "u-1", ResourceVersion: "42"},
		Spec:       autoscalingv1.ScaleSpec{Replicas: 3},
		Status:     autoscalingv1.ScaleStatus{Replicas: 2, Selector: "app=web,tier in (a,b)"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scale (-want +got):\n%s", diff)
	}
}

func TestSelectors(t *testing.T) {
	tests := []struct {
		name string
		got  func() (string, error)
		want string
	}{
		{name: "nil label selector", got: func() (string, error) { return LabelSelector(nil) }, want: ""},
		{name: "empty label selector", got: func() (string, error) { return LabelSelector(&metav1.LabelSelector{}) }, want: ""},
		{name: "map", got: func() (string, error) { return MapSelector(map[string]string{"b": "2", "a": "1"}) }, want: "a=1,b=2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.got()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("selector (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	type fieldError struct {
		Type   field.ErrorType
		Field  string
		Detail string
	}
	tests := []struct {
		name  string
		scale autoscalingv1.Scale
		want  []fieldError
	}{
		{name: "valid", scale: autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "prod"}, Spec: autoscalingv1.ScaleSpec{Replicas: 0}}},
		{
			name:  "negative replicas",
			scale: autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "prod"}, Spec: autoscalingv1.ScaleSpec{Replicas: -1}},
			want:  []fieldError{{field.ErrorTypeInvalid, "spec.replicas", "must be greater than or equal to 0"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []fieldError
			for _, e := range Validate(&tc.scale) {
				got = append(got, fieldError{e.Type, e.Field, e.Detail})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// request plays the client's side of an update: it sees the current Scale
// and returns the one the client sent.
type request struct {
	seen   *autoscalingv1.Scale
	update func(*autoscalingv1.Scale)
}

func (r *request) Preconditions() *metav1.Preconditions { return nil }

func (r *request) UpdatedObject(_ context.Context, old runtime.Object) (runtime.Object, error) {
	r.seen = old.(*autoscalingv1.Scale).DeepCopy()
	s := old.(*autoscalingv1.Scale).DeepCopy()
	r.update(s)
	return s, nil
}

func TestUpdatedObject(t *testing.T) {
	tests := []struct {
		name     string
		existing *appsv1.Deployment
		update   func(*autoscalingv1.Scale)
		want     func(*appsv1.Deployment)
		wantErr  func(error) bool
	}{
		{
			name:     "replicas and resourceVersion move to the object",
			existing: deployment(),
			update: func(s *autoscalingv1.Scale) {
				s.Spec.Replicas = 10
				s.ResourceVersion = "41"
				s.Status.Replicas = 99 // ignored
			},
			want: func(d *appsv1.Deployment) {
				d.Spec.Replicas = new(int32(10))
				d.ResourceVersion = "41"
			},
		},
		{
			name:     "scale to zero",
			existing: deployment(),
			update:   func(s *autoscalingv1.Scale) { s.Spec.Replicas = 0 },
			want:     func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(0)) },
		},
		{
			name:     "missing object",
			existing: &appsv1.Deployment{},
			update:   func(*autoscalingv1.Scale) {},
			wantErr:  apierrors.IsNotFound,
		},
		{
			name:     "negative replicas",
			existing: deployment(),
			update:   func(s *autoscalingv1.Scale) { s.Spec.Replicas = -2 },
			wantErr:  apierrors.IsInvalid,
		},
		{
			name:     "uid precondition",
			existing: deployment(),
			update:   func(s *autoscalingv1.Scale) { s.UID = types.UID("other") },
			wantErr:  apierrors.IsConflict,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newREST()
			info := &updatedObjectInfo[*appsv1.Deployment]{r: r, name: "web", reqObjInfo: &request{update: tc.update}}
			got, err := info.UpdatedObject(context.Background(), tc.existing)
			if tc.wantErr != nil {
				if !tc.wantErr(err) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.existing.DeepCopy()
			tc.want(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("object (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNotFoundNamesSubresource(t *testing.T) {
	info := &updatedObjectInfo[*appsv1.Deployment]{r: newREST(), name: "gone", reqObjInfo: &request{update: func(*autoscalingv1.Scale) {}}}
	_, err := info.UpdatedObject(context.Background(), &appsv1.Deployment{})
	if diff := cmp.Diff(`deployments/scale.apps "gone" not found`, err.Error()); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
}

// The owner of spec.replicas in the object owns spec.replicas of the Scale,
// and the owner of a Scale write owns spec.replicas of the object.
func TestManagedFields(t *testing.T) {
	existing := deployment()
	existing.ManagedFields = []metav1.ManagedFieldsEntry{{
		Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply, APIVersion: "apps/v1",
		FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:replicas":{}}}`)},
	}}
	req := &request{update: func(s *autoscalingv1.Scale) { s.Spec.Replicas = 4 }}
	info := &updatedObjectInfo[*appsv1.Deployment]{r: newREST(), name: "web", reqObjInfo: req}
	ctx := genericapirequest.WithRequestInfo(context.Background(), &genericapirequest.RequestInfo{APIGroup: "apps", APIVersion: "v1"})
	got, err := info.UpdatedObject(ctx, existing)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct{ Manager, APIVersion, Fields string }
	summary := func(es []metav1.ManagedFieldsEntry) []entry {
		var out []entry
		for _, e := range es {
			out = append(out, entry{e.Manager, e.APIVersion, string(e.FieldsV1.Raw)})
		}
		return out
	}
	want := []entry{{"kubectl", "autoscaling/v1", `{"f:spec":{"f:replicas":{}}}`}}
	if diff := cmp.Diff(want, summary(req.seen.ManagedFields)); diff != "" {
		t.Errorf("scale managed fields (-want +got):\n%s", diff)
	}
	want = []entry{{"kubectl", "apps/v1", `{"f:spec":{"f:replicas":{}}}`}}
	if diff := cmp.Diff(want, summary(got.(*appsv1.Deployment).ManagedFields)); diff != "" {
		t.Errorf("object managed fields (-want +got):\n%s", diff)
	}
}

func TestConvertToTable(t *testing.T) {
	r := newREST()
	s, err := r.ScaleOf(deployment())
	if err != nil {
		t.Fatal(err)
	}
	table, err := r.ConvertToTable(context.Background(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	var columns []string
	for _, c := range table.ColumnDefinitions {
		columns = append(columns, c.Name)
	}
	got := struct {
		Columns []string
		Cells   []any
		RV      string
	}{columns, table.Rows[0].Cells, table.ResourceVersion}
	want := got
	want.Columns = []string{"Name", "Desired", "Available", "Age"}
	want.Cells = []any{"web", int64(3), int64(2), "<unknown>"}
	want.RV = "42"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}

func TestDiscovery(t *testing.T) {
	r := newREST()
	got := []any{r.GroupVersionKind(schema.GroupVersion{Group: "apps", Version: "v1"}), r.New()}
	want := []any{schema.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}, &autoscalingv1.Scale{}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("discovery (-want +got):\n%s", diff)
	}
}
