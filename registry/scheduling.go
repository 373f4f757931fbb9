package registry

import (
	schedulingv1 "k8s.io/api/scheduling/v1"

	"github.com/capstan-dev/capstan/registry/scheduling/priorityclass"
)

func installScheduling(b *builder) {
	s, err := priorityclass.NewStorage(b.cfg.RESTOptions)
	b.fail(err)
	if err == nil {
		b.add(schedulingv1.SchemeGroupVersion, "priorityclasses", s.REST)
	}
}
