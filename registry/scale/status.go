package scale

import (
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Counter is one named counter of a workload's status.
type Counter struct {
	Field string
	Value int64
	// AtMostReplicas bounds the counter by status.replicas.
	AtMostReplicas bool
}

// ValidateStatusCounters checks a workload status's counters as upstream
// does, in upstream's order: every counter is non-negative, those marked
// AtMostReplicas are at most status.replicas, and availableReplicas is at
// most readyReplicas (readyName is how the message names that field).
func ValidateStatusCounters(p *field.Path, replicas int64, counters []Counter, ready, available int64, readyName string) field.ErrorList {
	var errs field.ErrorList
	for _, c := range counters {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(c.Value, p.Child(c.Field))...)
	}
	for _, c := range counters {
		if c.AtMostReplicas && c.Value > replicas {
			errs = append(errs, field.Invalid(p.Child(c.Field), c.Value, "cannot be greater than status.replicas"))
		}
	}
	if available > ready {
		errs = append(errs, field.Invalid(p.Child("availableReplicas"), available, "cannot be greater than "+readyName))
	}
	return errs
}
