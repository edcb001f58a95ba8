package libcontainer

import "fmt"

// ProcessStartError is init's report that the container process could
// not be started once start released it (execve failed: "exec /run.sh:
// no such file or directory"; a startContainer hook; the process's
// identity). Msg is what init wrote; foreground run prints it alone, as
// the process's own last word.
type ProcessStartError struct {
	ID  string
	Msg string
}

func (e *ProcessStartError) Error() string {
	return fmt.Sprintf("start container %s: %s", e.ID, e.Msg)
}
