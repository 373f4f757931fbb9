package registry

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/capstan-dev/capstan/registry/core/pod"
	"github.com/capstan-dev/capstan/registry/core/podtemplate"
	"github.com/capstan-dev/capstan/registry/core/replicationcontroller"
	"github.com/capstan-dev/capstan/registry/policy/poddisruptionbudget"
	"github.com/capstan-dev/capstan/registry/store"
)

// installCoreWorkloads installs pods, podtemplates and
// replicationcontrollers with their subresources into core/v1.
func installCoreWorkloads(b *builder) {
	v1 := corev1.SchemeGroupVersion

	// Eviction reads and updates PodDisruptionBudgets through the policy
	// group's own storage (installed here if the policy installer has not
	// run yet; it then finds it installed).
	pdbs := addResource(b, poddisruptionbudget.Resource, "v1")
	if pdbs == nil {
		return
	}
	pods, err := pod.NewStorage(b.cfg.RESTOptions, pod.PodDisruptionBudgets{Reader: pdbs.REST, Status: pdbs.Status})
	if err != nil {
		b.fail(err)
		return
	}
	b.stores[corev1.Resource("pods")] = &store.Storage{REST: pods.Pod, Status: pods.Status}
	b.add(v1, "pods", pods.Pod)
	b.add(v1, "pods/status", pods.Status)
	b.add(v1, "pods/binding", pods.Binding)
	b.add(v1, "bindings", &pod.LegacyBindingREST{BindingREST: pods.Binding})
	b.add(v1, "pods/ephemeralcontainers", pods.EphemeralContainers)
	b.add(v1, "pods/resize", pods.Resize)
	b.add(v1, "pods/eviction", pods.Eviction)

	addResource(b, podtemplate.Resource, "v1")

	addScaled(b, replicationcontroller.Resource, replicationcontroller.ScaleTarget, "v1")
}
