package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Bounds on the waits the kernel forces on us (variables for tests).
var (
	freezeTimeout = 2 * time.Second // processes in uninterruptible sleep delay a freeze
	exitTimeout   = 5 * time.Second // a SIGKILLed process freeing much memory takes a while
	rmdirTimeout  = time.Second     // EBUSY while the last exits are accounted
)

// pauser is what signalAll needs from a manager.
type pauser interface {
	Freeze() error
	Thaw() error
	Frozen() (bool, error)
	Pids() ([]int, error)
}

// signalAll sends sig to every process of the cgroup. With canFreeze the
// cgroup is frozen meanwhile, so nothing forks between listing and
// signalling. A paused cgroup stays paused, except after SIGKILL, which
// must let its processes die. With waitExit it then waits (bounded) until
// the signalled processes are gone, using pidfds rather than polling.
func signalAll(p pauser, sig unix.Signal, canFreeze, waitExit bool) error {
	wasFrozen := false
	if canFreeze {
		f, err := p.Frozen()
		if err != nil {
			return err
		}
		wasFrozen = f
		// A freeze that does not settle (a task stuck in uninterruptible
		// sleep) is rolled back by Freeze; signal anyway, unfrozen, since
		// a failed kill is worse than a (rare) fork racing the signals.
		if !wasFrozen && p.Freeze() != nil {
			canFreeze = false
		}
	}
	pids, err := p.Pids()
	var fds []int
	if err == nil {
		for _, pid := range pids {
			if waitExit {
				// Frozen processes cannot exit, so the pid cannot be reused
				// between listing and opening it.
				if fd, perr := unix.PidfdOpen(pid, 0); perr == nil {
					fds = append(fds, fd)
				}
			}
			if kerr := unix.Kill(pid, sig); kerr != nil && kerr != unix.ESRCH {
				err = fmt.Errorf("signal %d to pid %d: %w", sig, pid, kerr)
				break
			}
		}
	}
	if canFreeze && (!wasFrozen || sig == unix.SIGKILL) {
		if terr := p.Thaw(); terr != nil {
			err = joinErrs(err, terr)
		}
	}
	if err == nil && len(fds) > 0 {
		waitPidfds(fds, exitTimeout)
	}
	for _, fd := range fds {
		unix.Close(fd)
	}
	return err
}

// waitPidfds waits until every pidfd reports its process gone, or until
// the timeout; the caller's rmdir reports whatever is left.
func waitPidfds(fds []int, timeout time.Duration) {
	pfds := make([]unix.PollFd, len(fds))
	for i, fd := range fds {
		pfds[i] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	}
	deadline := time.Now().Add(timeout)
	for len(pfds) > 0 {
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		n, err := unix.Poll(pfds, int(left.Milliseconds())+1)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return
		}
		rest := pfds[:0]
		for _, p := range pfds {
			if p.Revents == 0 {
				p.Revents = 0
				rest = append(rest, p)
			}
		}
		pfds = rest
	}
}

// removeCgroup removes dir and any cgroups below it (a container may have
// made its own). A missing dir is not an error. rmdir returns EBUSY while
// a cgroup still has children or processes: children are removed first,
// and a bounded retry covers processes still being accounted as exited.
func removeCgroup(dir string) error {
	deadline := time.Now().Add(rmdirTimeout)
	delay := time.Millisecond
	for {
		err := unix.Rmdir(dir)
		if err == nil || err == unix.ENOENT {
			return nil
		}
		if err != unix.EBUSY && err != unix.ENOTEMPTY {
			return fmt.Errorf("remove cgroup %s: %w", dir, err)
		}
		removed, cerr := removeChildren(dir)
		if cerr != nil {
			return cerr
		}
		if removed {
			continue
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("remove cgroup %s: %w (processes still in it?)", dir, err)
		}
		time.Sleep(delay)
		delay = min(2*delay, 50*time.Millisecond)
	}
}

// removeChildren removes the child cgroups of dir; removed reports
// whether there were any.
func removeChildren(dir string) (removed bool, err error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if isNotExist(err) {
			return false, nil
		}
		return false, fmt.Errorf("remove cgroup %s: %w", dir, err)
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := removeCgroup(filepath.Join(dir, e.Name())); err != nil {
				return false, err
			}
			removed = true
		}
	}
	return removed, nil
}

// joinErrs combines errors on one line ("a; b"), keeping each for
// errors.Is; nils are skipped.
func joinErrs(errs ...error) error {
	errs = slices.DeleteFunc(errs, func(e error) bool { return e == nil })
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	args := make([]any, len(errs))
	for i, e := range errs {
		args[i] = e
	}
	return fmt.Errorf(strings.TrimSuffix(strings.Repeat("%w; ", len(errs)), "; "), args...)
}
