package cgroups

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/jsondec"
)

// State.Driver values.
const (
	DriverV1      = "v1"
	DriverV2      = "v2"
	DriverSystemd = "systemd"
)

var (
	_ Manager = (*v1Manager)(nil)
	_ Manager = (*v2Manager)(nil)
	_ Manager = (*systemdManager)(nil)
)

// New returns the manager for cfg on this host: systemd when asked,
// else cgroupfs v1 on legacy and hybrid hosts and cgroupfs v2 on unified
// ones. Paths are resolved here, once; State keeps them so later
// commands (run from another cgroup) find the same directories.
func New(cfg Config) (Manager, error) {
	if cfg.Path == "" {
		return nil, fmt.Errorf("cgroups: empty cgroupsPath (the caller supplies DefaultPath)")
	}
	if cfg.Disabled {
		return noneManager{cfg: cfg}, nil
	}
	if cfg.Systemd {
		return newSystemd(cfg)
	}
	m, err := newFS(cfg)
	if err != nil || !cfg.Rootless {
		return m, err
	}
	// Rootless: only a cgroup the caller may write (delegated to it) is
	// used; without one the container stays in the caller's cgroup.
	var dirs []string
	for _, d := range m.State().Paths {
		dirs = append(dirs, d)
	}
	if !delegated(dirs, unix.Access) {
		return noneManager{cfg: cfg}, nil
	}
	return m, nil
}

// newFS returns the cgroupfs manager for this host's mode.
func newFS(cfg Config) (Manager, error) {
	mode, err := HostMode()
	if err != nil {
		return nil, err
	}
	if mode == ModeUnified {
		return newV2(cfg, cgroupRoot, selfCgroups)
	}
	mounts, err := v1Mounts()
	if err != nil {
		return nil, err
	}
	unified := ""
	if mode == ModeHybrid {
		unified = path.Join(cgroupRoot, "unified")
	}
	return newV1(cfg, mounts, unified, selfCgroups)
}

// DevicesUpdatable reports whether m replaces the device rules of a
// running container without a moment of wider access: cgroup v2's eBPF
// filter does (the new program is attached before the old one goes), and
// so do v1's writes (only the exceptions that change, removals first);
// the none manager keeps no rules.
func DevicesUpdatable(m Manager) bool {
	if sm, ok := m.(*systemdManager); ok {
		m = sm.fs // systemd leaves the device filter to the cgroupfs manager
	}
	_, ok := m.(interface{ devicesUpdatable() })
	return ok
}

// Load rebuilds a manager from what State returned.
func Load(st State) (Manager, error) {
	switch st.Driver {
	case DriverV1:
		if len(st.Paths) == 0 {
			if st.Config.Rootless { // Apply dropped every hierarchy
				return noneManager{cfg: st.Config}, nil
			}
			return nil, fmt.Errorf("cgroups: load: v1 state without paths")
		}
		m := &v1Manager{cfg: st.Config, paths: make(map[string]string, len(st.Paths)), loaded: true}
		for k, v := range st.Paths {
			if !path.IsAbs(v) {
				return nil, fmt.Errorf("cgroups: load: path %q of %q is not absolute", v, k)
			}
			m.paths[k] = v
		}
		if _, ok := m.paths[unifiedPathKey]; ok {
			if mode, err := HostMode(); err == nil && mode == ModeHybrid {
				m.unifiedMount = path.Join(cgroupRoot, "unified")
			}
		}
		return m, nil
	case DriverV2:
		dir := st.Paths[unifiedPathKey]
		if !path.IsAbs(dir) {
			return nil, fmt.Errorf("cgroups: load: v2 state without an absolute path (%q)", dir)
		}
		return &v2Manager{cfg: st.Config, root: cgroupRoot, dir: dir, loaded: true}, nil
	case DriverSystemd:
		return loadSystemd(st)
	case DriverNone:
		return noneManager{cfg: st.Config}, nil
	}
	return nil, fmt.Errorf("cgroups: load: unknown driver %q", st.Driver)
}

// FrozenJSON is Load(st).Frozen() for st still in JSON (list keeps the
// cgroup state undecoded): a v1 state's answer needs only its freezer
// path, not the map of every controller. initState is the /proc state
// letter of a task in the cgroup (0: unknown). From Linux 6.13 /proc shows
// every task the freezer holds as 'D', so there a running or sleeping task
// proves its v1 cgroup is not frozen and freezer.state goes unread; the
// answer then differs from Frozen's only while a freeze is half done
// (FREEZING), which list may show as running. Older kernels show frozen
// tasks as 'R' (6.1 to 6.12, unless a stable update brought the fix) or,
// asleep in a freezable wait, as 'S' (before 6.1): there it is read.
func FrozenJSON(raw []byte, initState byte) (bool, error) {
	var v1 struct {
		Driver string `json:"driver"`
		Paths  struct {
			Freezer string `json:"freezer"`
		} `json:"paths"`
	}
	if jsondec.Decode(raw, &v1) && v1.Driver == DriverV1 && path.IsAbs(v1.Paths.Freezer) {
		if (initState == 'R' || initState == 'S') && frozenShowsD() {
			return false, nil
		}
		return v1Frozen(v1.Paths.Freezer)
	}
	var st State
	if err := jsondec.Unmarshal(raw, &st); err != nil {
		return false, err
	}
	m, err := Load(st)
	if err != nil {
		return false, err
	}
	return m.Frozen()
}

// frozenShowsD reports whether the kernel shows frozen tasks as 'D' in
// /proc (commit "freezer, sched: Report frozen tasks as 'D' instead of
// 'R'", Linux 6.13).
var frozenShowsD = sync.OnceValue(func() bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	return kernelAtLeast(unix.ByteSliceToString(u.Release[:]), 6, 13)
})

// kernelAtLeast compares the leading "major.minor" of a kernel release
// string (uname -r) with major.minor; false if it has none.
func kernelAtLeast(release string, major, minor int) bool {
	majS, rest, ok := strings.Cut(release, ".")
	if !ok {
		return false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	maj, err1 := strconv.Atoi(majS)
	min, err2 := strconv.Atoi(rest[:end])
	if err1 != nil || err2 != nil {
		return false
	}
	return maj > major || (maj == major && min >= minor)
}

// Plain returns what removing st's cgroup takes once it is empty, for
// berth's C delete (internal/fastcmd): the directories to rmdir, in order,
// and the file that reads thawed while the cgroup is not frozen (empty if
// it cannot freeze). ok is false for systemd, whose units only D-Bus stops.
func Plain(st State) (dirs []string, freezeFile, thawed string, ok bool) {
	switch st.Driver {
	case DriverV1:
		dirs = (&v1Manager{paths: st.Paths}).dirs()
		if d, has := st.Paths["freezer"]; has {
			freezeFile, thawed = path.Join(d, "freezer.state"), "THAWED"
		}
		return dirs, freezeFile, thawed, true
	case DriverV2:
		d := st.Paths[unifiedPathKey]
		return []string{d}, path.Join(d, "cgroup.freeze"), "0", path.IsAbs(d)
	case DriverNone:
		return nil, "", "", true
	}
	return nil, "", "", false
}
