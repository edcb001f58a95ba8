package seccomp

// Test helper: berth loads filters in C (nsenter/procexec.c); the tests
// load them the same way from Go to check what Compile produces.

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Load installs c with seccomp(SECCOMP_SET_MODE_FILTER). It uses no
// libseccomp, so init pays only for one syscall. The caller guarantees
// no_new_privs or CAP_SYS_ADMIN. It returns the listener fd (close-on-exec)
// when c.Notify, else -1.
//
// Init is a multi-threaded Go program, so the filter is synchronised to all
// threads (TSYNC). A kernel older than 5.7 cannot combine TSYNC with a
// listener; then only the calling thread gets the filter and Load leaves the
// goroutine locked to it: that thread must be the one that execve()s.
func Load(c *Compiled) (int, error) {
	if c == nil || len(c.BPF) == 0 || len(c.BPF)%sockFilterSize != 0 || len(c.BPF)/sockFilterSize > maxInsns {
		n := 0
		if c != nil {
			n = len(c.BPF)
		}
		return -1, fmt.Errorf("seccomp: invalid compiled filter (%d bytes)", n)
	}
	prog := unix.SockFprog{
		Len:    uint16(len(c.BPF) / sockFilterSize),
		Filter: (*unix.SockFilter)(unsafe.Pointer(&c.BPF[0])),
	}
	flags := c.Flags | unix.SECCOMP_FILTER_FLAG_TSYNC
	if c.Notify {
		// Without TSYNC_ESRCH a sync failure returns a tid, which would be
		// indistinguishable from the listener fd.
		flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
	}

	runtime.LockOSThread()
	r, err := seccompSetFilter(flags, &prog)
	if errors.Is(err, unix.EINVAL) && c.Notify && c.Flags&unix.SECCOMP_FILTER_FLAG_TSYNC == 0 {
		// TSYNC_ESRCH unknown (kernel < 5.7): calling thread only, stay locked.
		flags &^= unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
		r, err = seccompSetFilter(flags, &prog)
		if err == nil {
			return r, nil
		}
	}
	runtime.KeepAlive(c)
	if err != nil {
		runtime.UnlockOSThread()
		return -1, fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, flags %#x): %w", flags, err)
	}
	runtime.UnlockOSThread()
	if !c.Notify {
		if r != 0 {
			// TSYNC without ESRCH reports the thread it could not sync.
			return -1, fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, flags %#x): thread %d could not be synchronised", flags, r)
		}
		return -1, nil
	}
	return r, nil
}

func seccompSetFilter(flags uint, prog *unix.SockFprog) (int, error) {
	r, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(prog)))
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

// SendListener connects to the agent at listenerPath and sends it the
// container process state ("seccomp state") as JSON with fd attached via
// SCM_RIGHTS, then closes the connection: the spec allows one state per
// connection.
func SendListener(listenerPath string, fd int, pid int, metadata string, state *specs.State) error {
	if state == nil {
		return errors.New("seccomp listener: missing container state")
	}
	sock, err := DialListener(listenerPath)
	if err != nil {
		return err
	}
	defer unix.Close(sock)
	return SendState(sock, fd, pid, metadata, state)
}

// SendState sends the seccomp state JSON with fd attached over a
// connection made by DialListener.
func SendState(sock, fd int, pid int, metadata string, state *specs.State) error {
	payload, err := StatePayload(pid, metadata, state)
	if err != nil {
		return err
	}
	// The fd rides on the first sendmsg only; a short stream write is
	// finished with plain writes, as the spec allows.
	var n int
	if err := ignoringEINTR(func() (err error) {
		n, err = unix.SendmsgN(sock, payload, unix.UnixRights(fd), nil, unix.MSG_NOSIGNAL)
		return err
	}); err != nil {
		return fmt.Errorf("seccomp listener: sending state: %w", err)
	}
	for rest := payload[n:]; len(rest) > 0; {
		var m int
		if err := ignoringEINTR(func() (err error) {
			m, err = unix.SendmsgN(sock, rest, nil, nil, unix.MSG_NOSIGNAL)
			return err
		}); err != nil {
			return fmt.Errorf("seccomp listener: sending state: %w", err)
		}
		rest = rest[m:]
	}
	return nil
}
