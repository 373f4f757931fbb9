package storageclass

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func messages(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func class(name string) *storagev1.StorageClass {
	del := corev1.PersistentVolumeReclaimDelete
	mode := storagev1.VolumeBindingImmediate
	return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: "ebs.csi.aws.com", ReclaimPolicy: &del, VolumeBindingMode: &mode}
}

func TestValidate(t *testing.T) {
	recycle := corev1.PersistentVolumeReclaimRecycle
	later := storagev1.VolumeBindingMode("Later")
	tests := []struct {
		name   string
		change func(*storagev1.StorageClass)
		want   []string
	}{
		{name: "valid", change: func(*storagev1.StorageClass) {}, want: []string{}},
		{name: "no provisioner", change: func(sc *storagev1.StorageClass) { sc.Provisioner = "" }, want: []string{"provisioner: Required value"}},
		{
			name:   "bad enums",
			change: func(sc *storagev1.StorageClass) { sc.ReclaimPolicy = &recycle; sc.VolumeBindingMode = &later },
			want: []string{
				`reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"`,
				`volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"`,
			},
		},
		{name: "binding mode unset", change: func(sc *storagev1.StorageClass) { sc.VolumeBindingMode = nil }, want: []string{"volumeBindingMode: Required value"}},
		{
			name: "topologies",
			change: func(sc *storagev1.StorageClass) {
				sc.AllowedTopologies = []corev1.TopologySelectorTerm{{MatchLabelExpressions: []corev1.TopologySelectorLabelRequirement{
					{Key: "topology.kubernetes.io/zone"},
					{Key: "topology.kubernetes.io/zone", Values: []string{"a", "a"}},
				}}}
			},
			want: []string{
				"allowedTopologies[0].matchLabelExpressions[0].values: Required value",
				`allowedTopologies[0].matchLabelExpressions[1].values[1]: Duplicate value: "a"`,
				`allowedTopologies[0].matchLabelExpressions[1].key: Duplicate value: "topology.kubernetes.io/zone"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := class("gp3")
			tt.change(sc)
			if diff := cmp.Diff(tt.want, messages(Validate(sc))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	old := class("gp3")
	sc := class("gp3")
	sc.Provisioner = "other.example.com"
	sc.Parameters = map[string]string{"type": "gp3"}
	retain := corev1.PersistentVolumeReclaimRetain
	sc.ReclaimPolicy = &retain
	wait := storagev1.VolumeBindingWaitForFirstConsumer
	sc.VolumeBindingMode = &wait
	want := []string{
		"parameters: Forbidden: updates to parameters are forbidden.",
		"provisioner: Forbidden: updates to provisioner are forbidden.",
		"reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.",
		`volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable`,
	}
	if diff := cmp.Diff(want, messages(ValidateUpdate(sc, old))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestWarnings(t *testing.T) {
	sc := class("gp3")
	sc.AllowedTopologies = []corev1.TopologySelectorTerm{{MatchLabelExpressions: []corev1.TopologySelectorLabelRequirement{
		{Key: "failure-domain.beta.kubernetes.io/zone", Values: []string{"a"}},
	}}}
	want := []string{`allowedTopologies[0].matchLabelExpressions[0].key: deprecated since v1.17; use "topology.kubernetes.io/zone" instead`}
	if diff := cmp.Diff(want, Warnings(sc)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// rowConvertor and fakeLister stand in for the generic store.
type rowConvertor struct{}

func (rowConvertor) ConvertToTable(_ context.Context, obj runtime.Object, _ runtime.Object) (*metav1.Table, error) {
	t := &metav1.Table{}
	add := func(sc *storagev1.StorageClass) { t.Rows = append(t.Rows, metav1.TableRow{Cells: Resource.Row(sc)}) }
	switch o := obj.(type) {
	case *storagev1.StorageClass:
		add(o)
	case *storagev1.StorageClassList:
		for i := range o.Items {
			add(&o.Items[i])
		}
	}
	return t, nil
}

type fakeLister struct{ list *storagev1.StorageClassList }

func (f fakeLister) NewList() runtime.Object { return &storagev1.StorageClassList{} }
func (f fakeLister) List(context.Context, *metainternalversion.ListOptions) (runtime.Object, error) {
	return f.list, nil
}
func (f fakeLister) ConvertToTable(context.Context, runtime.Object, runtime.Object) (*metav1.Table, error) {
	return nil, nil
}

func TestEffectiveDefault(t *testing.T) {
	older, newer, plain := class("old"), class("new"), class("plain")
	older.Annotations = map[string]string{DefaultAnnotation: "true"}
	older.CreationTimestamp = metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	newer.Annotations = map[string]string{BetaDefaultAnnotation: "true"}
	newer.CreationTimestamp = metav1.NewTime(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	list := &storagev1.StorageClassList{Items: []storagev1.StorageClass{*older, *newer, *plain}}
	c := tableConvertor{inner: rowConvertor{}, lister: fakeLister{list}}

	names := func(obj runtime.Object) []string {
		table, err := c.ConvertToTable(context.Background(), obj, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range table.Rows {
			out = append(out, r.Cells[0].(string))
		}
		return out
	}
	if diff := cmp.Diff([]string{"old", "new (default)", "plain"}, names(list)); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"old"}, names(older)); diff != "" {
		t.Errorf("single object (-want +got):\n%s", diff)
	}
}

func TestRow(t *testing.T) {
	sc := class("gp3")
	sc.Annotations = map[string]string{DefaultAnnotation: "true"}
	sc.AllowVolumeExpansion = new(true)
	want := []any{"gp3 (default)", "ebs.csi.aws.com", "Delete", "Immediate", true, "<unknown>"}
	if diff := cmp.Diff(want, Resource.Row(sc)); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
}
