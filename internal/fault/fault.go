// Package fault lets the reliability tests stop berth at a named point, as
// if it had been SIGKILLed there: BERTH_FAULT=<point> makes berth kill
// itself when it reaches that point. Unset, a point costs one string
// comparison.
//
// BERTH_FAULT_WAIT=<file> makes the point first wait (up to 30s) until
// <file> exists: a test uses it to kill berth while something it waits on
// is in a known state, e.g. a hook that wrote its pid and still runs.
package fault

import (
	"os"
	"syscall"
	"time"
)

var (
	point    = os.Getenv("BERTH_FAULT")
	waitFile = os.Getenv("BERTH_FAULT_WAIT")
)

// maxWait bounds BERTH_FAULT_WAIT: a test whose file never comes still
// gets its SIGKILL instead of a hang.
const maxWait = 30 * time.Second

// Point kills the process with SIGKILL if BERTH_FAULT names this point.
func Point(name string) {
	if point == "" || point != name {
		return
	}
	if waitFile != "" {
		for t0 := time.Now(); time.Since(t0) < maxWait; time.Sleep(10 * time.Millisecond) {
			if _, err := os.Lstat(waitFile); err == nil {
				break
			}
		}
	}
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // SIGKILL cannot be caught; never return
}
