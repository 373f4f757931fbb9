package registry

import (
	eventsv1 "k8s.io/api/events/v1"

	"github.com/capstan-dev/capstan/registry/events/event"
)

// installEvents serves Events in core/v1 and in events.k8s.io/v1, stored as
// two resources (see package event).
func installEvents(b *builder) {
	addResource(b, event.CoreResource, "v1")
	s, err := event.NewV1Storage(b.cfg.RESTOptions)
	b.fail(err)
	if err == nil {
		b.add(eventsv1.SchemeGroupVersion, "events", s)
	}
}
