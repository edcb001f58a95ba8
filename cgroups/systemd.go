package cgroups

import (
	"fmt"
	"path"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// systemdRunDir exists only while systemd runs as PID 1 (sd_booted(3)).
const systemdRunDir = "/run/systemd/system"

// DefaultSystemdPath is the cgroupsPath used with --systemd-cgroup when
// config.json has none: unit berth-<id>.scope in system.slice.
func DefaultSystemdPath(id string) string { return ":berth:" + id }

// systemdManager asks systemd for a transient unit (a scope holding the
// container, or a slice) and leaves every cgroup file to the cgroupfs
// manager of the unit's cgroup, so each linux.resources field behaves as
// it does without systemd. Limits systemd knows are also set as unit
// properties: systemd rewrites the files of its units from those
// whenever it re-applies them.
//
// Only Apply (on create), Set and Destroy talk to systemd; the D-Bus
// connection is made on first use, so pause, kill, ps, state and exec
// cost nothing extra.
type systemdManager struct {
	cfg   Config
	unit  string // "prefix-name.scope" or "name.slice"
	slice string // the scope's Slice=, or the slice's Wants=
	fs    Manager
	// own: the unit was started by this manager, or by the one whose
	// state says so (UnitStarted), so Destroy stops it. A create that
	// found the name taken, or was killed before its start, never owned
	// it and must not stop someone else's unit.
	own bool
	bus *systemdBus
}

func newSystemd(cfg Config) (Manager, error) {
	if !isDir(systemdRunDir) {
		return nil, fmt.Errorf("systemd cgroup driver: systemd is not running (no %s): %w", systemdRunDir, ErrNotSupported)
	}
	if cfg.Rootless {
		return nil, fmt.Errorf("systemd cgroup driver: rootless (systemd user instance): %w", ErrNotSupported)
	}
	unit, slice, dir, err := parseSystemdPath(cfg.Path)
	if err != nil {
		return nil, err
	}
	fs, err := newFS(Config{Path: dir, ID: cfg.ID})
	if err != nil {
		return nil, err
	}
	bus, err := connectSystemd()
	if err != nil {
		return nil, err
	}
	return &systemdManager{cfg: cfg, unit: unit, slice: slice, fs: fs, bus: bus}, nil
}

func loadSystemd(st State) (Manager, error) {
	unit := st.Unit
	if unit == "" {
		var err error
		if unit, _, _, err = parseSystemdPath(st.Config.Path); err != nil {
			return nil, fmt.Errorf("cgroups: load: %w", err)
		}
	}
	fsSt := st
	fsSt.Driver = DriverV1
	if _, ok := st.Paths[unifiedPathKey]; ok && len(st.Paths) == 1 {
		fsSt.Driver = DriverV2
	}
	fs, err := Load(fsSt)
	if err != nil {
		return nil, err
	}
	return &systemdManager{cfg: st.Config, unit: unit, fs: fs, own: st.UnitStarted}, nil
}

func isDir(p string) bool {
	var st unix.Stat_t
	return unix.Stat(p, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
}

// parseSystemdPath turns "slice:prefix:name" into the unit name, the
// parent slice and the unit's cgroup path. An empty slice means
// system.slice; a name ending in ".slice" names a slice unit (prefix
// unused), else the unit is the scope "prefix-name.scope".
func parseSystemdPath(p string) (unit, slice, dir string, err error) {
	parts := strings.Split(p, ":")
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("cgroupsPath %q: not slice:prefix:name", p)
	}
	slice, prefix, name := parts[0], parts[1], parts[2]
	if slice == "" {
		slice = "system.slice"
	}
	sliceDir, err := expandSlice(slice)
	if err != nil {
		return "", "", "", fmt.Errorf("cgroupsPath %q: %w", p, err)
	}
	if name == "" {
		return "", "", "", fmt.Errorf("cgroupsPath %q: empty name", p)
	}
	for _, s := range [...]string{prefix, name} {
		if i := strings.IndexFunc(s, notUnitChar); i >= 0 {
			return "", "", "", fmt.Errorf("cgroupsPath %q: %q: character %q is not allowed in a unit name", p, s, s[i])
		}
	}
	if strings.HasSuffix(name, ".slice") {
		if dir, err = expandSlice(name); err != nil {
			return "", "", "", fmt.Errorf("cgroupsPath %q: %w", p, err)
		}
		if dir == "/" {
			return "", "", "", fmt.Errorf("cgroupsPath %q: the root slice cannot be a container's unit", p)
		}
		return name, slice, dir, nil
	}
	unit = name + ".scope"
	if prefix != "" {
		unit = prefix + "-" + unit
	}
	if len(unit) > 255 {
		return "", "", "", fmt.Errorf("cgroupsPath %q: unit name %q is longer than 255 bytes", p, unit)
	}
	return unit, slice, path.Join(sliceDir, unit), nil
}

// notUnitChar: systemd unit names take ASCII letters, digits and ":-_.\@".
func notUnitChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune(`-_.\@`, r)
}

// expandSlice gives the cgroup path of a slice, which systemd derives from
// its name: "a-b-c.slice" is /a.slice/a-b.slice/a-b-c.slice, "-.slice" is
// the root.
func expandSlice(slice string) (string, error) {
	base, ok := strings.CutSuffix(slice, ".slice")
	if !ok || base == "" {
		return "", fmt.Errorf("slice %q: not a slice unit name (NAME.slice)", slice)
	}
	if base == "-" {
		return "/", nil
	}
	if strings.IndexFunc(base, notUnitChar) >= 0 || strings.ContainsRune(base, '@') {
		return "", fmt.Errorf("slice %q: invalid character in a slice name", slice)
	}
	if strings.HasPrefix(base, "-") || strings.HasSuffix(base, "-") || strings.Contains(base, "--") {
		return "", fmt.Errorf("slice %q: dashes separate parent slices, so none may lead, trail or double", slice)
	}
	dir, prefix := "", ""
	for part := range strings.SplitSeq(base, "-") {
		prefix += part
		dir += "/" + prefix + ".slice"
		prefix += "-"
	}
	return dir, nil
}

// Apply starts the unit with pid in it on the first call (create), then
// lets the cgroupfs manager join pid (again, harmlessly) and enable the
// controllers systemd left off. Later calls (exec) only join.
func (m *systemdManager) Apply(pid int) error {
	if !m.own {
		if err := m.start(pid); err != nil {
			return err
		}
	}
	return m.fs.Apply(pid)
}

func (m *systemdManager) start(pid int) error {
	isSlice := strings.HasSuffix(m.unit, ".slice")
	if pid <= 0 && !isSlice {
		return fmt.Errorf("systemd cgroup driver: scope %s needs a process to start", m.unit)
	}
	props := []unitProp{
		{"Description", "berth container " + m.cfg.ID},
		{"DefaultDependencies", false},
		{"MemoryAccounting", true},
		{"CPUAccounting", true},
		{"TasksAccounting", true},
		{"IOAccounting", true},
	}
	if isSlice {
		props = append(props, unitProp{"Wants", []string{m.slice}})
	} else {
		props = append(props,
			unitProp{"Slice", m.slice},
			unitProp{"Delegate", true},
			unitProp{"PIDs", []uint32{uint32(pid)}})
	}
	bus, err := m.conn()
	if err != nil {
		return err
	}
	return bus.startUnit(m.unit, props, func() { m.own = true })
}

func (m *systemdManager) conn() (*systemdBus, error) {
	if m.bus == nil {
		b, err := connectSystemd()
		if err != nil {
			return nil, err
		}
		m.bus = b
	}
	return m.bus, nil
}

// Set gives systemd the limits it has properties for, then writes every
// file through the cgroupfs manager (exact values, and all the fields
// systemd has no property for).
func (m *systemdManager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	props, needCpuset, err := resourceProps(r, m.curCPUMax())
	if err != nil {
		return err
	}
	if len(props) > 0 {
		bus, err := m.conn()
		if err != nil {
			return err
		}
		if needCpuset {
			// AllowedCPUs= and AllowedMemoryNodes= came with systemd 244;
			// older ones get the cpuset files only.
			if v := bus.version(); v > 0 && v < 244 {
				props = dropProps(props, "AllowedCPUs", "AllowedMemoryNodes")
			}
		}
		if err := bus.setProps(m.unit, props); err != nil {
			return err
		}
	}
	return m.fs.Set(r)
}

// curCPUMax reads the unit's cpu.max (v2) so that a lone quota or period
// update can give systemd the full pair; ok is false on v1 or when
// unreadable.
func (m *systemdManager) curCPUMax() cpuMax {
	v2, ok := m.fs.(*v2Manager)
	if !ok {
		return cpuMax{}
	}
	s, err := readLine(path.Join(v2.dir, "cpu.max"))
	if err != nil {
		return cpuMax{}
	}
	return parseCPUMax(s)
}

func (m *systemdManager) CheckUnused() error     { return m.fs.CheckUnused() }
func (m *systemdManager) Pids() ([]int, error)   { return m.fs.Pids() }
func (m *systemdManager) Freeze() error          { return m.fs.Freeze() }
func (m *systemdManager) Thaw() error            { return m.fs.Thaw() }
func (m *systemdManager) Frozen() (bool, error)  { return m.fs.Frozen() }
func (m *systemdManager) Kill(sig int) error     { return m.fs.Kill(sig) }
func (m *systemdManager) Stats() (*Stats, error) { return m.fs.Stats() }

// Destroy kills what is left and removes the cgroup through the cgroupfs
// manager first (stopping a scope with processes would make systemd send
// SIGTERM and wait up to its stop timeout), then stops the unit, which is
// a no-op for a scope that went away when it emptied. A unit that is not
// loaded, or a systemd that is gone, is not an error.
func (m *systemdManager) Destroy() error {
	if !m.own {
		return nil
	}
	err := m.fs.Destroy()
	if err != nil && m.cgroupGone() {
		// systemd removes a scope's cgroup once it is empty, which may
		// race with the removal here (ENODEV, ENOENT).
		err = nil
	}
	if !isDir(systemdRunDir) {
		return err
	}
	bus, cerr := m.conn()
	if cerr != nil {
		return joinErrs(err, cerr)
	}
	if serr := bus.stopUnit(m.unit); serr != nil {
		return joinErrs(err, serr)
	}
	// systemd removes the unit's cgroup on stop; make sure of it.
	if !m.cgroupGone() {
		err = joinErrs(err, m.fs.Destroy())
	}
	return err
}

// cgroupGone reports whether none of the unit's cgroup directories exist.
func (m *systemdManager) cgroupGone() bool {
	for _, dir := range m.fs.State().Paths {
		if dirExists(dir) {
			return false
		}
	}
	return true
}

func (m *systemdManager) State() State {
	st := m.fs.State()
	st.Driver, st.Unit, st.Config, st.UnitStarted = DriverSystemd, m.unit, m.cfg, m.own
	return st
}
