package main

// statusError is an error reported as any other, exiting with code: exec
// exits 255 when berth cannot run the process (as runc), so a caller can
// tell that from the process's own status.
type statusError struct {
	code int
	err  error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// withStatus wraps a non-nil error that is not already an exit status.
func withStatus(code int, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*exitError); ok {
		return err
	}
	return &statusError{code, err}
}
