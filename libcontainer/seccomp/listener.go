package seccomp

import (
	"encoding/json"
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

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
		return -1, fmt.Errorf("linux.seccomp.listenerPath %q: failed to connect with seccomp agent: %w", listenerPath, err)
	}
	return sock, nil
}

// StatePayload is the seccomp state JSON for the agent: the container
// process state of pid, with the listener as its only fd.
func StatePayload(pid int, metadata string, state *specs.State) ([]byte, error) {
	if state == nil {
		return nil, errors.New("seccomp listener: missing container state")
	}
	payload, err := json.Marshal(specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{specs.SeccompFdName},
		Pid:      pid,
		Metadata: metadata,
		State:    *state,
	})
	if err != nil {
		return nil, fmt.Errorf("seccomp listener: encoding state: %w", err)
	}
	return payload, nil
}

func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
