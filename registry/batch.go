package registry

import (
	batchv1 "k8s.io/api/batch/v1"

	"github.com/capstan-dev/capstan/registry/batch/cronjob"
	"github.com/capstan-dev/capstan/registry/batch/job"
)

func installBatch(b *builder) {
	addResource(b, cronjob.Resource, "v1")

	// Jobs warn that deleting them keeps their pods by default.
	s, err := job.NewStorage(b.cfg.RESTOptions)
	if err != nil {
		b.fail(err)
		return
	}
	b.add(batchv1.SchemeGroupVersion, "jobs", s.REST)
	b.add(batchv1.SchemeGroupVersion, "jobs/status", s.Status)
}
