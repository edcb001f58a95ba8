package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// OOMWatcher is a pollable fd that signals OOM kills in one memory
// cgroup: a v1 eventfd on memory.oom_control, or v2 inotify on
// memory.events.
type OOMWatcher interface {
	// FD becomes readable when there may be something to Read.
	FD() int
	// Read drains the fd and returns how many OOMs to report and
	// whether the cgroup is gone.
	Read() (kills int, gone bool, err error)
	Close()
}

// WatchOOM sets up OOM notification for the memory cgroup of st, or
// returns nil when there is none (no memory controller).
func WatchOOM(st State) (OOMWatcher, error) {
	// Each watcher is returned only without an error: a nil *oomV1 in the
	// interface would not compare equal to nil.
	if dir, ok := st.Paths["memory"]; ok && st.Driver == DriverV1 {
		w, err := watchOOMv1(dir)
		if err != nil {
			return nil, err
		}
		return w, nil
	}
	if dir, ok := st.Paths[""]; ok && st.Driver == DriverV2 {
		if _, err := os.Stat(filepath.Join(dir, "memory.events")); err == nil {
			w, err := watchOOMv2(dir)
			if err != nil {
				return nil, err
			}
			return w, nil
		}
	}
	return nil, nil
}

type oomV1 struct {
	efd, ctl int
	dir      string
}

// watchOOMv1 uses the v1 notification API: writing "<eventfd> <fd of
// memory.oom_control>" to cgroup.event_control makes the kernel signal
// the eventfd on every OOM in the cgroup, and once when it is removed.
func watchOOMv1(dir string) (*oomV1, error) {
	ctlPath := filepath.Join(dir, "memory.oom_control")
	ctl, err := unix.Open(ctlPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("oom notification: open %s: %w", ctlPath, err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(ctl)
		return nil, fmt.Errorf("oom notification: eventfd: %w", err)
	}
	evPath := filepath.Join(dir, "cgroup.event_control")
	if err := os.WriteFile(evPath, []byte(fmt.Sprintf("%d %d", efd, ctl)), 0); err != nil {
		unix.Close(efd)
		unix.Close(ctl)
		return nil, fmt.Errorf("oom notification: write %s: %w", evPath, err)
	}
	return &oomV1{efd: efd, ctl: ctl, dir: dir}, nil
}

func (w *oomV1) FD() int { return w.efd }

func (w *oomV1) Read() (int, bool, error) {
	var buf [8]byte
	_, err := unix.Read(w.efd, buf[:])
	if err == unix.EAGAIN {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("oom notification: read eventfd: %w", err)
	}
	// The eventfd also fires when the cgroup is removed.
	if _, err := os.Stat(filepath.Join(w.dir, "memory.oom_control")); errors.Is(err, os.ErrNotExist) {
		return 0, true, nil
	}
	return 1, false, nil
}

func (w *oomV1) Close() {
	unix.Close(w.efd)
	unix.Close(w.ctl)
}

type oomV2 struct {
	fd    int
	dir   string
	kills uint64 // the last oom_kill count seen
}

// watchOOMv2 watches memory.events, which the kernel marks modified when
// a counter changes; oom_kill rising is an OOM kill.
func watchOOMv2(dir string) (*oomV2, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("oom notification: inotify_init1: %w", err)
	}
	p := filepath.Join(dir, "memory.events")
	if _, err := unix.InotifyAddWatch(fd, p, unix.IN_MODIFY); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("oom notification: watch %s: %w", p, err)
	}
	w := &oomV2{fd: fd, dir: dir}
	w.kills, _ = oomKills(p, "oom_kill")
	return w, nil
}

func (w *oomV2) FD() int { return w.fd }

func (w *oomV2) Read() (int, bool, error) {
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(w.fd, buf)
		if n <= 0 || err != nil {
			break
		}
	}
	kills, err := oomKills(filepath.Join(w.dir, "memory.events"), "oom_kill")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, true, nil
		}
		return 0, false, fmt.Errorf("oom notification: %w", err)
	}
	n := 0
	if kills > w.kills {
		n = int(min(kills-w.kills, 1<<16))
	}
	w.kills = kills
	return n, false, nil
}

func (w *oomV2) Close() { unix.Close(w.fd) }

// oomKills reads the counter key of a flat-keyed file.
func oomKills(path, key string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+" "); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %s line", path, key)
}
