// Package sysfile reads small files (state, procfs, cgroupfs) with plain
// syscalls: os.ReadFile takes about twice as many per file (non-blocking
// setup, a poller probe, fstat), which list pays for every container.
package sysfile

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Read returns the contents of path. Errors are "read PATH: errno", and
// errors.Is(err, os.ErrNotExist) holds for a missing file.
func Read(path string) ([]byte, error) {
	return ReadInto(path, make([]byte, 0, 1024))
}

// ReadInto is Read into buf's storage (grown when too small): a caller
// reading many files reuses one buffer instead of touching fresh memory
// for each (page faults are much of list's cost).
func ReadInto(path string, buf []byte) ([]byte, error) {
	var fd int
	var err error
	for {
		if fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0); err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer unix.Close(fd)
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		// A short read is the end: regular files (berth replaces its own
		// by rename, never appends), seq_file procfs and kernfs fill the
		// buffer otherwise. This saves the read that returns 0.
		short := n < cap(buf)-len(buf)
		buf = buf[:len(buf)+n]
		if n == 0 || short {
			return buf, nil
		}
	}
}
