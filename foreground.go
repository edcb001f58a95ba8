package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer"
)

// foregroundStartError: in the foreground, a process whose execve failed
// ends run as the process would, as runc does: the one-line reason alone
// on stderr ("exec /run.sh: no such file or directory"), status 255.
// Everything else is berth's error as usual.
func foregroundStartError(err error, detach bool) error {
	var pse *libcontainer.ProcessStartError
	if detach || !errors.As(err, &pse) || !pse.Execve() {
		return err
	}
	fmt.Fprintln(os.Stderr, strings.ReplaceAll(pse.Msg, "\n", " "))
	return &exitError{255}
}

// waitForeground forwards signals to pid and returns its exit status
// (128+N when killed by signal N). berth is its subreaper here. The
// signals stay caught: berth exits soon after, and un-catching them costs
// as much as catching.
func waitForeground(pid int, s *caught, relay *ttyRelay) int {
	<-s.rest
	// The signals go to the init through a pidfd, opened while the init
	// is still ours to reap: a signal that races with the reap below can
	// never reach a process that reused its pid.
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		pidfd = -1
	}
	if relay != nil {
		relay.start()
	}
	stop := make(chan struct{})
	forwarded := make(chan struct{})
	go forwardSignals(pid, pidfd, s.c, relay, stop, forwarded)
	// The wait runs here, not on a goroutine of its own: the command goes
	// on on the thread the wait returns on, without waking another.
	code := reapInit(pid)
	close(stop)
	<-forwarded
	if pidfd >= 0 {
		unix.Close(pidfd)
	}
	if relay != nil {
		relay.finish()
	}
	return code
}

// reapInit waits for pid, reaping the container's orphans reparented to
// berth (its subreaper) on the way, and returns its exit status.
func reapInit(pid int) int {
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 255
		}
		if wpid != pid {
			continue
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
}
