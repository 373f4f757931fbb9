// Package validate adapts apimachinery's message-returning checks
// (IsDNS1123Label, IsValidPortNum, ...) to field-path errors.
package validate

import "k8s.io/apimachinery/pkg/util/validation/field"

// Invalid returns one field.Invalid error at p for each message of a check
// of value; none when the check passed.
func Invalid(p *field.Path, value any, msgs []string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range msgs {
		errs = append(errs, field.Invalid(p, value, msg))
	}
	return errs
}
