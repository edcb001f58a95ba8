package cgroups

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// unifiedPathKey in State.Paths is the cgroup2 directory (the only one on v2,
// the companion one on hybrid hosts).
const unifiedPathKey = ""

// v1Manager drives cgroup v1 hierarchies. On hybrid hosts it also places
// the container in the cgroup2 hierarchy, so tools that only look there
// (systemd, PSI readers) see it, and uses it for controllers that are
// only bound to cgroup2 there (typically hugetlb).
type v1Manager struct {
	cfg Config
	// paths maps each controller ("name=x" for named hierarchies) to the
	// container's directory; comounted controllers share one.
	paths map[string]string
	// unifiedMount is the cgroup2 mount point on hybrid hosts, "" else.
	unifiedMount string
	// loaded: rebuilt from a container's state (exec joins a cgroup a
	// paused container may have frozen: --ignore-paused), not new.
	loaded bool
}

// newV1 resolves cfg.Path in every mounted hierarchy. self is the
// caller's cgroups (only read for relative paths).
func newV1(cfg Config, mounts map[string]*v1Mount, unifiedMount string, self func() (map[string]string, error)) (*v1Manager, error) {
	if len(mounts) == 0 {
		return nil, fmt.Errorf("cgroup v1: no hierarchy mounted: %w", ErrNotSupported)
	}
	var own map[string]string
	if !strings.HasPrefix(cfg.Path, "/") {
		var err error
		if own, err = self(); err != nil {
			return nil, err
		}
	}
	m := &v1Manager{cfg: cfg, paths: make(map[string]string, len(mounts)+1), unifiedMount: unifiedMount}
	for ctrl, mnt := range mounts {
		rel, err := relPath(cfg.Path, own[ctrl], mnt.Root)
		if err != nil {
			return nil, err
		}
		m.paths[ctrl] = filepath.Join(mnt.Mountpoint, rel)
	}
	if unifiedMount != "" {
		rel, err := relPath(cfg.Path, own[unifiedPathKey], "/")
		if err != nil {
			return nil, err
		}
		m.paths[unifiedPathKey] = filepath.Join(unifiedMount, rel)
	}
	return m, nil
}

// dirs lists the distinct directories, in a stable order.
func (m *v1Manager) dirs() []string {
	seen := make(map[string]bool, len(m.paths))
	var out []string
	for _, d := range m.paths {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// dropDir forgets every controller that lives in dir.
func (m *v1Manager) dropDir(dir string) {
	maps.DeleteFunc(m.paths, func(_, d string) bool { return d == dir })
}

// tolerable reports errors a rootless container (or, for the optional
// cgroup2 companion, anyone) may ignore: no right to use that hierarchy.
func tolerable(err error) bool {
	return errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EROFS)
}

// Apply creates the cgroup in every hierarchy and moves pid into it.
// pid <= 0 only creates the cgroups.
func (m *v1Manager) Apply(pid int) error {
	cpusetDir := m.paths["cpuset"]
	for _, dir := range m.dirs() {
		optional := dir == m.paths[unifiedPathKey] || m.cfg.Rootless
		if err := mkdirCgroup(dir); err != nil {
			if optional && tolerable(err) {
				m.dropDir(dir)
				continue
			}
			return err
		}
		if dir == cpusetDir {
			if _, err := fillCpuset(dir); err != nil {
				return err
			}
		}
		if pid <= 0 {
			continue
		}
		if dir == m.paths["freezer"] && !m.loaded {
			if err := refuseFrozen(dir, v1Frozen); err != nil {
				return err
			}
		}
		if err := writeFile(filepath.Join(dir, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
			if optional && tolerable(err) {
				m.dropDir(dir)
				continue
			}
			return fmt.Errorf("add pid %d to cgroup: write %s: %w", pid, filepath.Join(dir, "cgroup.procs"), err)
		}
	}
	return nil
}

// fillCpuset gives dir (and any ancestor lacking them) the cpus and mems
// of its parent: v1 refuses tasks in a cpuset whose cpus or mems are
// empty, which is how a new cpuset starts. It returns dir's values.
func fillCpuset(dir string) (vals [2]string, err error) {
	files := [2]string{"cpuset.cpus", "cpuset.mems"}
	for i, f := range files {
		if vals[i], err = readLine(filepath.Join(dir, f)); err != nil {
			return vals, fmt.Errorf("cpuset: %w", err)
		}
	}
	if vals[0] != "" && vals[1] != "" {
		return vals, nil
	}
	parent := filepath.Dir(dir)
	if parent == dir {
		return vals, fmt.Errorf("cpuset: no ancestor of %s has cpus and mems", dir)
	}
	pvals, err := fillCpuset(parent)
	if err != nil {
		return vals, err
	}
	for i, f := range files {
		if vals[i] != "" {
			continue
		}
		path := filepath.Join(dir, f)
		if err := writeFile(path, pvals[i]); err != nil {
			return vals, fmt.Errorf("cpuset: copy %s from parent: write %s to %s: %w", f, fmtValue(pvals[i]), path, err)
		}
		vals[i] = pvals[i]
	}
	return vals, nil
}

// need returns the directory of ctrl, or the error for field when the
// host does not mount that controller.
func (m *v1Manager) need(ctrl, field string) (string, error) {
	if d, ok := m.paths[ctrl]; ok {
		return d, nil
	}
	return "", fmt.Errorf("%s: no %s cgroup (controller not mounted, or not usable rootless): %w", field, ctrl, ErrNotSupported)
}

// procsDir is the hierarchy Pids reads: one that always tracks every
// process.
func (m *v1Manager) procsDir() (string, error) {
	for _, c := range []string{"pids", "freezer", "memory", "cpu", "devices", unifiedPathKey} {
		if d, ok := m.paths[c]; ok {
			return d, nil
		}
	}
	for _, d := range m.dirs() {
		return d, nil
	}
	return "", fmt.Errorf("list processes: no cgroup: %w", ErrNotSupported)
}

func (m *v1Manager) Pids() ([]int, error) {
	dir, err := m.procsDir()
	if err != nil {
		return nil, err
	}
	pids, err := readProcsRecursive(dir)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	return pids, nil
}

func (m *v1Manager) freezerDir() (string, error) {
	if d, ok := m.paths["freezer"]; ok {
		return d, nil
	}
	return "", fmt.Errorf("freeze: cgroup v1 freezer controller is not mounted: %w", ErrNotSupported)
}

// Freeze writes FROZEN and waits (bounded) until the kernel reports every
// task frozen. Rewriting FROZEN while FREEZING re-kicks tasks that were
// busy when the first request came.
func (m *v1Manager) Freeze() error {
	dir, err := m.freezerDir()
	if err != nil {
		return err
	}
	state := filepath.Join(dir, "freezer.state")
	deadline := time.Now().Add(freezeTimeout)
	delay := 100 * time.Microsecond
	for {
		if err := writeFile(state, "FROZEN"); err != nil {
			return fmt.Errorf("freeze: write FROZEN to %s: %w", state, err)
		}
		s, err := readLine(state)
		if err != nil {
			return fmt.Errorf("freeze: %w", err)
		}
		if s == "FROZEN" {
			return nil
		}
		if time.Now().After(deadline) {
			_ = writeFile(state, "THAWED")
			return fmt.Errorf("freeze: %s still %s after %v (a task in uninterruptible sleep?)", state, s, freezeTimeout)
		}
		time.Sleep(delay)
		delay = min(2*delay, 10*time.Millisecond)
	}
}

func (m *v1Manager) Thaw() error {
	dir, err := m.freezerDir()
	if err != nil {
		return err
	}
	state := filepath.Join(dir, "freezer.state")
	if err := writeFile(state, "THAWED"); err != nil {
		return fmt.Errorf("thaw: write THAWED to %s: %w", state, err)
	}
	return nil
}

// Frozen reports FROZEN or FREEZING (a pause was asked for, by this
// cgroup or an ancestor).
func (m *v1Manager) Frozen() (bool, error) {
	dir, err := m.freezerDir()
	if err != nil {
		return false, err
	}
	return v1Frozen(dir)
}

func v1Frozen(dir string) (bool, error) {
	s, err := readLine(filepath.Join(dir, "freezer.state"))
	if err != nil {
		return false, fmt.Errorf("freezer state: %w", err)
	}
	return s != "THAWED", nil
}

func (m *v1Manager) Kill(sig int) error {
	_, hasFreezer := m.paths["freezer"]
	if err := signalAll(m, unix.Signal(sig), hasFreezer, false); err != nil {
		return fmt.Errorf("kill cgroup: %w", err)
	}
	return nil
}

// Destroy SIGKILLs what is left, waits for it to exit, then removes the
// cgroup from every hierarchy.
func (m *v1Manager) Destroy() error {
	var errs []error
	// An empty cgroup stays empty (nothing can fork into it): skip the
	// freeze-kill-thaw round on the common path, a container that exited.
	if pids, err := m.Pids(); err != nil || len(pids) > 0 {
		fz, hasFreezer := m.paths["freezer"]
		if hasFreezer {
			thawBelow(fz)
		}
		if err := signalAll(m, unix.SIGKILL, hasFreezer, true); err != nil && !isNotExist(err) {
			errs = append(errs, fmt.Errorf("destroy: %w", err))
		}
	}
	for _, dir := range m.dirs() {
		if err := removeCgroup(dir); err != nil {
			errs = append(errs, fmt.Errorf("destroy: %w", err))
		}
	}
	return joinErrs(errs...)
}

// thawBelow thaws the freezer cgroups below dir: a container that can
// write its cgroup may freeze a child of it, which thawing dir does not
// undo, and v1 lets no signal through to a frozen task, SIGKILL included.
func thawBelow(dir string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || p == dir {
			return nil
		}
		state := filepath.Join(p, "freezer.state")
		if s, err := readLine(state); err == nil && s != "THAWED" {
			_ = writeFile(state, "THAWED")
		}
		return nil
	})
}

func (m *v1Manager) State() State {
	return State{Driver: DriverV1, Paths: maps.Clone(m.paths), Config: m.cfg}
}

func (m *v1Manager) CheckUnused() error {
	procs, _ := m.procsDir() // "" without any hierarchy: nothing to check
	return checkUnused(procs, m.paths["freezer"], v1Frozen)
}
