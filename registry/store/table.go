package store

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
)

// NameColumn and AgeColumn open and close most upstream tables.
var (
	NameColumn = metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]}
	AgeColumn  = metav1.TableColumnDefinition{Name: "Age", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]}
)

// Age renders a creation timestamp the way kubectl does ("<unknown>" when unset).
func Age(t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t.Time))
}

// tableConvertor renders server-side tables from a Resource's columns and row function.
type tableConvertor[T runtime.Object] struct{ r *Resource[T] }

func (c tableConvertor[T]) columns() []metav1.TableColumnDefinition {
	if c.r.Columns != nil {
		return c.r.Columns
	}
	return []metav1.TableColumnDefinition{NameColumn, AgeColumn}
}

func (c tableConvertor[T]) row(obj T) []any {
	if c.r.Row != nil {
		return c.r.Row(obj)
	}
	m := mustMeta(obj)
	return []any{m.GetName(), Age(m.GetCreationTimestamp())}
}

func (c tableConvertor[T]) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{}
	opts, _ := tableOptions.(*metav1.TableOptions)
	add := func(obj runtime.Object) error {
		t, ok := obj.(T)
		if !ok {
			return nil
		}
		table.Rows = append(table.Rows, metav1.TableRow{Cells: c.row(t), Object: runtime.RawExtension{Object: obj}})
		return nil
	}
	if meta.IsListType(object) {
		if err := meta.EachListItem(object, add); err != nil {
			return nil, err
		}
		if l, err := meta.ListAccessor(object); err == nil {
			table.ResourceVersion = l.GetResourceVersion()
			table.Continue = l.GetContinue()
			table.RemainingItemCount = l.GetRemainingItemCount()
		}
	} else {
		if err := add(object); err != nil {
			return nil, err
		}
		if m, err := meta.Accessor(object); err == nil {
			table.ResourceVersion = m.GetResourceVersion()
		}
	}
	if opts == nil || !opts.NoHeaders {
		table.ColumnDefinitions = c.columns()
	}
	return table, nil
}
