package nsenter

/*
#include "debuglog.h"
*/
import "C"

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// EnvLogFD names the environment variable with the fd of init's end of
// the --debug log socket (debuglog.h); set only with --debug.
const EnvLogFD = C.BERTH_ENV_LOGFD

// Debugf sends one --debug line, "who[pid]: " and the message, from Go
// init to the parent through the fd the constructor took; without one
// it does nothing (no getpid either).
func Debugf(who, format string, args ...any) {
	fd := int(C.berth_log_fd())
	if fd < 0 {
		return
	}
	msg := fmt.Sprintf("%s[%d]: ", who, unix.Getpid()) + fmt.Sprintf(format, args...) + "\n"
	unix.Send(fd, []byte(msg), unix.MSG_NOSIGNAL)
}

// CloseLog closes the log: the parent waits for its EOF.
func CloseLog() { C.berth_log_close() }
