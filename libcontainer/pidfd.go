package libcontainer

import "golang.org/x/sys/unix"

// killPid SIGKILLs pid through a pidfd (no race with pid reuse) and waits
// (bounded) for it to exit.
func killPid(pid int) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	killPidfd(fd, pid)
}

// killPidfd SIGKILLs the process behind fd (pid) and waits for it to exit.
func killPidfd(fd, pid int) {
	unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	// Bounded: a process frozen by a cgroup the container controls (or in
	// uninterruptible sleep) does not die; the cgroup removal after this
	// reports what is left.
	waitPidfd(fd, killWaitMs)
	// Our own child (no pid namespace fork) must be reaped too.
	var ws unix.WaitStatus
	unix.Wait4(pid, &ws, unix.WNOHANG, nil)
}

// waitPidfd waits until the process behind fd exits (timeout in ms, -1 forever).
func waitPidfd(fd int, timeout int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, timeout)
		if err == unix.EINTR {
			continue
		}
		return err == nil && n > 0
	}
}
