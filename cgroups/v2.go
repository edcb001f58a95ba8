package cgroups

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// v2Manager drives a cgroup2 (unified) hierarchy.
type v2Manager struct {
	cfg Config
	// root is the cgroup2 mount point; a field so tests can point it at
	// a fake tree.
	root string
	dir  string
	// loaded: rebuilt from a container's state (exec joins a cgroup a
	// paused container may have frozen: --ignore-paused), not new.
	loaded bool
}

// newV2 resolves cfg.Path below root. self is the caller's cgroups (only
// read for relative paths).
func newV2(cfg Config, root string, self func() (map[string]string, error)) (*v2Manager, error) {
	base := ""
	if !strings.HasPrefix(cfg.Path, "/") {
		own, err := self()
		if err != nil {
			return nil, err
		}
		base = own[unifiedPathKey]
	}
	rel, err := relPath(cfg.Path, base, "/")
	if err != nil {
		return nil, err
	}
	return &v2Manager{cfg: cfg, root: root, dir: filepath.Join(root, rel)}, nil
}

// Apply creates the cgroup, makes every controller the ancestors offer
// available in it, and moves pid in (pid <= 0 only creates).
func (m *v2Manager) Apply(pid int) error {
	if err := mkdirCgroup(m.dir); err != nil {
		return err
	}
	if err := enableControllers(m.root, m.dir, nil); err != nil {
		return err
	}
	if pid <= 0 {
		return nil
	}
	if !m.loaded {
		if err := refuseFrozen(m.dir, v2EffectivelyFrozen); err != nil {
			return err
		}
	}
	procs := filepath.Join(m.dir, "cgroup.procs")
	if err := writeFile(procs, strconv.Itoa(pid)); err != nil {
		return fmt.Errorf("add pid %d to cgroup: write %s: %w", pid, procs, err)
	}
	return nil
}

// readControllers reads dir/cgroup.controllers as a set.
func readControllers(dir string) (map[string]bool, error) {
	return readSet(filepath.Join(dir, "cgroup.controllers"))
}

func readSet(path string) (map[string]bool, error) {
	s, err := readFile(path)
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool)
	for _, f := range strings.Fields(s) {
		set[f] = true
	}
	return set, nil
}

// enableControllers makes controllers usable in dir by enabling them in
// cgroup.subtree_control of every ancestor, from root down to dir's
// parent. want == nil means everything each ancestor offers; those that
// cannot be enabled are then skipped (Set names the missing file if a
// limit needs one). An explicit want must succeed.
func enableControllers(root, dir string, want []string) error {
	rel, err := filepath.Rel(root, filepath.Dir(dir))
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return fmt.Errorf("enable controllers: %s is not below %s", dir, root)
	}
	cur := root
	var parts []string
	if rel != "." {
		parts = strings.Split(rel, "/")
	}
	for i := 0; ; i++ {
		if err := enableIn(cur, want); err != nil {
			return err
		}
		if i == len(parts) {
			return nil
		}
		cur = filepath.Join(cur, parts[i])
	}
}

// enableIn enables the wanted controllers in dir/cgroup.subtree_control,
// with one write when nothing goes wrong and none when all are on.
func enableIn(dir string, want []string) error {
	ctl := filepath.Join(dir, "cgroup.subtree_control")
	on, err := readSet(ctl)
	if err != nil {
		return fmt.Errorf("enable controllers: %w", err)
	}
	all := want == nil
	if all {
		avail, err := readControllers(dir)
		if err != nil {
			return fmt.Errorf("enable controllers: %w", err)
		}
		for c := range avail {
			want = append(want, c)
		}
		slices.Sort(want)
	}
	var missing []string
	for _, c := range want {
		if !on[c] {
			missing = append(missing, "+"+c)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if writeFile(ctl, strings.Join(missing, " ")) == nil {
		return nil
	}
	// One controller refused (e.g. cpu while a realtime task sits in an
	// ancestor): enable the others one by one.
	for _, c := range missing {
		if err := writeFile(ctl, c); err != nil && !all {
			if isNotExist(err) {
				err = fmt.Errorf("controller %s not available there: %w", c[1:], ErrNotSupported)
			}
			return fmt.Errorf("enable controller %s: write %s to %s: %w", c[1:], c, ctl, err)
		}
	}
	return nil
}

func (m *v2Manager) Pids() ([]int, error) {
	pids, err := readProcsRecursive(m.dir)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	return pids, nil
}

// Freeze writes cgroup.freeze and waits (bounded) until cgroup.events
// reports "frozen 1"; the kernel signals that change with POLLPRI, so
// there is no polling loop.
func (m *v2Manager) Freeze() error {
	f := filepath.Join(m.dir, "cgroup.freeze")
	if err := writeFile(f, "1"); err != nil {
		if isNotExist(err) && dirExists(m.dir) {
			return fmt.Errorf("freeze: %s: %w", f, errNoFile)
		}
		return fmt.Errorf("freeze: write 1 to %s: %w", f, err)
	}
	if err := waitEvent(m.dir, "frozen", "1", freezeTimeout); err != nil {
		_ = writeFile(f, "0")
		return fmt.Errorf("freeze: %w", err)
	}
	return nil
}

// Thaw takes effect at once: the kernel clears "frozen" on the write.
func (m *v2Manager) Thaw() error {
	f := filepath.Join(m.dir, "cgroup.freeze")
	if err := writeFile(f, "0"); err != nil {
		return fmt.Errorf("thaw: write 0 to %s: %w", f, err)
	}
	return nil
}

// Frozen reports whether this cgroup asked to be frozen.
func (m *v2Manager) Frozen() (bool, error) {
	s, err := readLine(filepath.Join(m.dir, "cgroup.freeze"))
	if err != nil {
		return false, fmt.Errorf("freezer state: %w", err)
	}
	return s == "1", nil
}

// waitEvent waits until cgroup.events in dir shows key with value want.
func waitEvent(dir, key, want string, timeout time.Duration) error {
	path := filepath.Join(dir, "cgroup.events")
	fd, err := openRetry(path, unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer unix.Close(fd)
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 512)
	last := ""
	for {
		n, err := unix.Pread(fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		last = eventValue(string(buf[:n]), key)
		if last == want {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("%s: %s is %q, not %s, after %v", path, key, last, want, timeout)
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLPRI}}
		if _, err := unix.Poll(pfd, int(left.Milliseconds())+1); err != nil && err != unix.EINTR {
			return fmt.Errorf("poll %s: %w", path, err)
		}
	}
}

// eventValue returns key's value in a cgroup.events style text.
func eventValue(s, key string) string {
	for line := range strings.Lines(s) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok && k == key {
			return v
		}
	}
	return ""
}

func dirExists(dir string) bool {
	var st unix.Stat_t
	return unix.Stat(dir, &st) == nil
}

// hasKill reports cgroup.kill (5.14+), which kills a whole cgroup tree
// atomically, with no freeze and no race with fork.
func (m *v2Manager) hasKill() bool {
	return probeFile("v2:cgroup.kill", m.dir, "cgroup.kill") != ""
}

func (m *v2Manager) canFreeze() bool {
	return probeFile("v2:cgroup.freeze", m.dir, "cgroup.freeze") != ""
}

func (m *v2Manager) Kill(sig int) error {
	if unix.Signal(sig) == unix.SIGKILL && m.hasKill() {
		f := filepath.Join(m.dir, "cgroup.kill")
		if err := writeFile(f, "1"); err != nil {
			return fmt.Errorf("kill cgroup: write 1 to %s: %w", f, err)
		}
		return nil
	}
	if err := signalAll(m, unix.Signal(sig), m.canFreeze(), false); err != nil {
		return fmt.Errorf("kill cgroup: %w", err)
	}
	return nil
}

// Destroy SIGKILLs what is left, waits until the cgroup is empty, and
// removes it.
func (m *v2Manager) Destroy() error {
	var err error
	if m.hasKill() {
		f := filepath.Join(m.dir, "cgroup.kill")
		if err = writeFile(f, "1"); err == nil {
			err = waitEvent(m.dir, "populated", "0", exitTimeout)
		} else {
			err = fmt.Errorf("write 1 to %s: %w", f, err)
		}
	} else {
		err = signalAll(m, unix.SIGKILL, m.canFreeze(), true)
	}
	if err != nil && isNotExist(err) {
		err = nil
	}
	if rerr := removeCgroup(m.dir); rerr != nil {
		err = joinErrs(err, rerr)
	}
	if err != nil {
		return fmt.Errorf("destroy: %w", err)
	}
	return nil
}

func (m *v2Manager) State() State {
	return State{Driver: DriverV2, Paths: map[string]string{unifiedPathKey: m.dir}, Config: m.cfg}
}

func (m *v2Manager) CheckUnused() error {
	return checkUnused(m.dir, m.dir, v2EffectivelyFrozen)
}
