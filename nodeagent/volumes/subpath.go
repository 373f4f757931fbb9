package volumes

import "errors"

// createError marks a failure to create a missing subPath directory.
type createError struct{ error }

func (e createError) Unwrap() error { return e.error }

func isCreateError(err error) bool {
	var ce createError
	return errors.As(err, &ce)
}
