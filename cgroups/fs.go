package cgroups

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/sysfile"
)

// errNoFile is what a missing control file in an existing cgroup means:
// the kernel lacks the feature.
var errNoFile = fmt.Errorf("no such file on this kernel: %w", ErrNotSupported)

// writeFile writes value to path in a single write(2): cgroupfs parses
// each write as one command, so it must not be split. Raw syscalls keep
// the hot path (Apply+Set on every start) to open, write, close.
func writeFile(path, value string) error {
	fd, err := openRetry(path, unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return writeAll(fd, value)
}

// writeAll is one write(2) of value, retried on EINTR.
func writeAll(fd int, value string) error {
	b := []byte(value)
	for {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n != len(b) {
			return io.ErrShortWrite
		}
		return nil
	}
}

func openRetry(path string, flags int) (int, error) {
	for {
		fd, err := unix.Open(path, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// readFile reads a whole (small) control file, relative to a held
// descriptor of the cgroup mounts (list reads one per container).
func readFile(path string) (string, error) {
	b, err := sysfile.ReadUnder(cgroupRoot, path, make([]byte, 0, 1024))
	return string(b), err
}

// readLine reads a one-value file without its trailing newline.
func readLine(path string) (string, error) {
	s, err := readFile(path)
	return strings.TrimSpace(s), err
}

// parseUint parses a counter; "max" (v2) is MaxUint64. Negative values
// (v1 reports -1 for some unlimited counters) clamp to 0.
func parseUint(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "max" {
		return math.MaxUint64, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		if i, ierr := strconv.ParseInt(s, 10, 64); ierr == nil && i < 0 {
			return 0, nil
		}
		return 0, fmt.Errorf("parse %q: %w", s, err)
	}
	return v, nil
}

func readUint(path string) (uint64, error) {
	s, err := readLine(path)
	if err != nil {
		return 0, err
	}
	v, err := parseUint(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// readKV parses "key value" lines (memory.stat, cpu.stat, ...).
func readKV(path string) (map[string]uint64, error) {
	s, err := readFile(path)
	if err != nil {
		return nil, err
	}
	m := make(map[string]uint64)
	for line := range strings.Lines(s) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		n, err := parseUint(v)
		if err != nil {
			return nil, fmt.Errorf("%s: key %s: %w", path, k, err)
		}
		m[k] = n
	}
	return m, nil
}

// isNotExist reports ENOENT from raw syscalls and os alike.
func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }

// fmtValue quotes values with blanks so the error stays one readable line.
func fmtValue(v string) string {
	if strings.ContainsAny(v, " \t\n") || v == "" {
		return strconv.Quote(v)
	}
	return v
}

// writeField writes one linux.resources value and formats a failure as
// "<field>: write <value> to <path>: <errno>".
func writeField(field, dir, file, value string) error {
	path := filepath.Join(dir, file)
	err := writeFile(path, value)
	if err == nil {
		return nil
	}
	if isNotExist(err) {
		if _, serr := os.Stat(dir); serr == nil {
			return fmt.Errorf("%s: %s: %w", field, path, errNoFile)
		}
	}
	return fmt.Errorf("%s: write %s to %s: %w", field, fmtValue(value), path, err)
}

// probes memoizes which optional control files this kernel provides.
// The answer is host-wide (it depends on the kernel, not the cgroup).
var probes sync.Map // key -> string (first existing name, "" if none)

// probeFile returns the first of names present in dir, memoized under
// key; "" when none exists.
func probeFile(key, dir string, names ...string) string {
	if v, ok := probes.Load(key); ok {
		return v.(string)
	}
	found := ""
	for _, n := range names {
		if unix.Access(filepath.Join(dir, n), unix.F_OK) == nil {
			found = n
			break
		}
	}
	// A missing dir proves nothing about the kernel: don't memoize.
	if found == "" {
		if _, err := os.Stat(dir); err != nil {
			return ""
		}
	}
	probes.Store(key, found)
	return found
}

// readProcs lists the pids in dir/cgroup.procs.
func readProcs(dir string) ([]int, error) {
	s, err := readFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	var pids []int
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		pid, err := strconv.Atoi(line)
		if err != nil {
			return nil, fmt.Errorf("%s/cgroup.procs: bad pid %q", dir, line)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// readProcsRecursive lists the pids of dir and every cgroup below it.
func readProcsRecursive(dir string) ([]int, error) {
	pids, err := readProcs(dir)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		sub, err := readProcsRecursive(filepath.Join(dir, e.Name()))
		if err != nil && !isNotExist(err) { // a child cgroup may vanish meanwhile
			return nil, err
		}
		pids = append(pids, sub...)
	}
	return pids, nil
}

// mkdirCgroup creates dir with one mkdir(2) in the common case (parent
// present), falling back to creating the ancestors.
func mkdirCgroup(dir string) error {
	err := unix.Mkdir(dir, 0o755)
	if err == nil || err == unix.EEXIST {
		return nil
	}
	if err == unix.ENOENT {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create cgroup %s: %w", dir, err)
		}
		return nil
	}
	return fmt.Errorf("create cgroup %s: %w", dir, err)
}
