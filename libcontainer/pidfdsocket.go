package libcontainer

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// pidfdSocket is a connection to --pidfd-socket: a unix stream socket
// that receives one pidfd of the container's process (create and run:
// init; exec: the exec'd process), so that a supervisor can signal and
// wait for it without racing pid reuse. The message is as runc's: one
// SCM_RIGHTS fd with a name as its data ("standard" for init, "setns" for
// an exec). A nil *pidfdSocket (no flag) does nothing.
type pidfdSocket struct {
	path  string
	sock  int
	pidfd int
}

// dialPidfdSocket connects to path, before anything is made, so that a
// wrong path fails the command at once. "" gives nil.
func dialPidfdSocket(path string) (*pidfdSocket, error) {
	if path == "" {
		return nil, nil
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("--pidfd-socket %s: socket: %w", path, err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("--pidfd-socket %s: connect: %w", path, err)
	}
	return &pidfdSocket{path: path, sock: fd, pidfd: -1}, nil
}

// open takes a pidfd of pid while the process is known to be the one
// berth started (it waits on berth's socket): send passes it on later.
func (s *pidfdSocket) open(pid int) error {
	if s == nil {
		return nil
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("--pidfd-socket %s: pidfd_open %d: %w", s.path, pid, err)
	}
	s.pidfd = fd
	return nil
}

// send passes the pidfd open took, named name, to the socket's peer.
func (s *pidfdSocket) send(name string) error {
	if s == nil {
		return nil
	}
	for {
		err := unix.Sendmsg(s.sock, []byte(name), unix.UnixRights(s.pidfd), nil, unix.MSG_NOSIGNAL)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("--pidfd-socket %s: send pidfd: %w", s.path, err)
		}
		return nil
	}
}

// close closes the connection and berth's copy of the pidfd.
func (s *pidfdSocket) close() {
	if s == nil {
		return
	}
	unix.Close(s.sock)
	if s.pidfd >= 0 {
		unix.Close(s.pidfd)
	}
}
