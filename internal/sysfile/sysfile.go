// Package sysfile reads small files (state, procfs, cgroupfs) with plain
// syscalls: os.ReadFile takes about twice as many per file (non-blocking
// setup, a poller probe, fstat), which list pays for every container.
package sysfile

import (
	"fmt"
	"strings"
	"sync"

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
	return readAt(unix.AT_FDCWD, path, path, buf)
}

// ReadUnder is ReadInto of a path under the directory base, opened
// relative to a descriptor of base held for the process (see Under).
func ReadUnder(base, path string, buf []byte) ([]byte, error) {
	dirfd, rel := Under(base, path)
	return readAt(dirfd, rel, path, buf)
}

// dirs holds O_PATH descriptors of the bases Under was asked for (-1 when
// the open failed): a process keeps a handful, closed on exec.
var dirs sync.Map

// Under returns a descriptor of base and path relative to it, for the *at
// syscalls, when path lies below base; otherwise (AT_FDCWD, path). list
// opens thousands of files under --root, /proc and /sys/fs/cgroup: from a
// held descriptor the kernel skips walking base's components every time.
func Under(base, path string) (int, string) {
	rel, ok := strings.CutPrefix(path, base)
	if !ok || len(rel) < 2 || rel[0] != '/' || base == "" {
		return unix.AT_FDCWD, path
	}
	v, ok := dirs.Load(base)
	if !ok {
		fd, err := unix.Open(base, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			fd = -1
		}
		if v, ok = dirs.LoadOrStore(base, fd); ok && fd >= 0 {
			unix.Close(fd) // another goroutine's open won
		}
	}
	if fd := v.(int); fd >= 0 {
		return fd, rel[1:]
	}
	return unix.AT_FDCWD, path
}

func readAt(dirfd int, name, path string, buf []byte) ([]byte, error) {
	var fd int
	var err error
	for {
		if fd, err = unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_CLOEXEC, 0); err != unix.EINTR {
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
