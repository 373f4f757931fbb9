// Package podtemplate is the storage of core/v1 PodTemplates.
package podtemplate

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/core/pod"
	"github.com/capstan-dev/capstan/registry/store"
)

// Resource describes podtemplates.
var Resource = &store.Resource[*corev1.PodTemplate]{
	Resource:   schema.GroupResource{Resource: "podtemplates"},
	Kind:       "PodTemplate",
	Namespaced: true,
	New:        func() *corev1.PodTemplate { return &corev1.PodTemplate{} },
	NewList:    func() runtime.Object { return &corev1.PodTemplateList{} },
	PrepareForCreate: func(_ context.Context, t *corev1.PodTemplate) {
		t.Generation = 1
		pod.NormalizePodSpec(&t.Template.Spec)
	},
	PrepareForUpdate: func(_ context.Context, t, old *corev1.PodTemplate) {
		pod.NormalizePodSpec(&t.Template.Spec)
		// A PodTemplate has no spec: its template is what the generation follows.
		t.Generation = old.Generation
		if !apiequality.Semantic.DeepEqual(t.Template, old.Template) {
			t.Generation = old.Generation + 1
		}
	},
	Validate: func(_ context.Context, t *corev1.PodTemplate) field.ErrorList {
		return pod.ValidatePodTemplateSpec(&t.Template, field.NewPath("template"))
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Containers", Type: "string", Description: "Names of each container in the template."},
		{Name: "Images", Type: "string", Description: "Images referenced by each container in the template."},
		{Name: "Pod Labels", Type: "string", Description: "The labels for the pod template."},
	},
	Row: func(t *corev1.PodTemplate) []any {
		names, images := ContainerCells(t.Template.Spec.Containers)
		return []any{t.Name, names, images, labels.FormatLabels(t.Template.Labels)}
	},
}

func init() { utilruntime.Must(Resource.RegisterFieldLabels("v1")) }

// ContainerCells joins the names and the images of containers with commas,
// as upstream's printers do for every workload.
func ContainerCells(containers []corev1.Container) (names, images string) {
	n := make([]string, len(containers))
	i := make([]string, len(containers))
	for k, c := range containers {
		n[k], i[k] = c.Name, c.Image
	}
	return strings.Join(n, ","), strings.Join(i, ",")
}
