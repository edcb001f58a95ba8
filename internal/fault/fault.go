// Package fault lets the reliability tests stop berth at a named point, as
// if it had been SIGKILLed there: BERTH_FAULT=<point> makes berth kill
// itself when it reaches that point. Unset, a point costs one string
// comparison.
package fault

import (
	"os"
	"syscall"
)

var point = os.Getenv("BERTH_FAULT")

// Point kills the process with SIGKILL if BERTH_FAULT names this point.
func Point(name string) {
	if point != "" && point == name {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // SIGKILL cannot be caught; never return
	}
}
