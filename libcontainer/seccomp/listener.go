package seccomp

import (
	"encoding/json"
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

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

// DialListener connects to the agent. berth dials from the parent, before
// pivot_root, because listenerPath is a host path.
func DialListener(listenerPath string) (int, error) {
	if listenerPath == "" {
		return -1, errors.New("linux.seccomp.listenerPath: empty")
	}
	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("linux.seccomp.listenerPath %q: socket: %w", listenerPath, err)
	}
	if err := ignoringEINTR(func() error {
		return unix.Connect(sock, &unix.SockaddrUnix{Name: listenerPath})
	}); err != nil {
		unix.Close(sock)
		return -1, fmt.Errorf("linux.seccomp.listenerPath %q: connect: %w", listenerPath, err)
	}
	return sock, nil
}

// SendState sends the seccomp state JSON with fd attached over a
// connection made by DialListener.
func SendState(sock, fd int, pid int, metadata string, state *specs.State) error {
	if state == nil {
		return errors.New("seccomp listener: missing container state")
	}
	payload, err := json.Marshal(specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{specs.SeccompFdName},
		Pid:      pid,
		Metadata: metadata,
		State:    *state,
	})
	if err != nil {
		return fmt.Errorf("seccomp listener: encoding state: %w", err)
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

func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
