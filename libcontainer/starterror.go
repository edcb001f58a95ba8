package libcontainer

import (
	"fmt"
	"strings"
)

// ProcessStartError is init's report that the container process could
// not be started once start released it: execve failed ("exec /run.sh:
// no such file or directory"), or a step before it (a startContainer
// hook, the process's identity or limits). Msg is what init wrote.
type ProcessStartError struct {
	ID  string
	Msg string
}

func (e *ProcessStartError) Error() string {
	return fmt.Sprintf("start container %s: %s", e.ID, e.Msg)
}

// Execve reports whether execve itself failed: the process stage words
// that failure, and only it, "exec PATH: ERROR" (a failed $PATH lookup,
// made at create, is "exec: ...").
func (e *ProcessStartError) Execve() bool {
	return strings.HasPrefix(e.Msg, "exec ")
}
