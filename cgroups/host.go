package cgroups

import (
	"fmt"
	"os"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/mountinfo"
	"github.com/berth-runtime/berth/internal/sysfile"
)

// cgroupRoot is where every distribution mounts cgroups.
const cgroupRoot = "/sys/fs/cgroup"

// Mode is how the host mounts cgroups.
type Mode int

const (
	// ModeLegacy: only v1 hierarchies.
	ModeLegacy Mode = iota + 1
	// ModeHybrid: v1 hierarchies plus a cgroup2 mount at <root>/unified.
	ModeHybrid
	// ModeUnified: cgroup2 mounted at the root.
	ModeUnified
)

func (m Mode) String() string {
	switch m {
	case ModeLegacy:
		return "legacy"
	case ModeHybrid:
		return "hybrid"
	case ModeUnified:
		return "unified"
	}
	return "unknown"
}

var hostMode = sync.OnceValues(func() (Mode, error) { return detectMode(cgroupRoot) })

// HostMode reports how the host mounts cgroups, detected once per
// process (statfs of /sys/fs/cgroup and /sys/fs/cgroup/unified).
func HostMode() (Mode, error) { return hostMode() }

func detectMode(root string) (Mode, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil {
		return 0, fmt.Errorf("detect cgroup mode: statfs %s: %w", root, err)
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		return ModeUnified, nil
	}
	if err := unix.Statfs(path.Join(root, "unified"), &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return ModeHybrid, nil
	}
	return ModeLegacy, nil
}

// v1Mount is one mounted v1 hierarchy.
type v1Mount struct {
	Mountpoint string
	// Root is the cgroup shown at Mountpoint ("/" unless a sub-tree is
	// bind-mounted, as in some containers).
	Root        string
	Controllers []string
}

// v1Mounts maps each v1 controller (and "name=<x>" for named
// hierarchies) to its mount, from /proc/self/mountinfo, once.
var v1Mounts = sync.OnceValues(func() (map[string]*v1Mount, error) {
	known, err := knownControllers()
	if err != nil {
		return nil, err
	}
	b, err := sysfile.Read("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	return parseV1Mounts(b, known), nil
})

// parseV1Mounts reads mountinfo(5); the first mount of a controller wins
// (later ones are usually bind mounts of it).
func parseV1Mounts(b []byte, known map[string]bool) map[string]*v1Mount {
	out := make(map[string]*v1Mount)
	mountinfo.Parse(b, func(e *mountinfo.Entry) bool {
		if m, ok := v1MountOf(e, known); ok {
			for _, c := range m.Controllers {
				if _, dup := out[c]; !dup {
					out[c] = m
				}
			}
		}
		return true
	})
	return out
}

// v1MountOf returns the v1 cgroup mount an entry describes, if it is one.
func v1MountOf(e *mountinfo.Entry, known map[string]bool) (*v1Mount, bool) {
	if e.FSType != "cgroup" {
		return nil, false
	}
	m := &v1Mount{Root: e.Root, Mountpoint: e.Point}
	for opt := range strings.SplitSeq(e.Super, ",") {
		if known[opt] || strings.HasPrefix(opt, "name=") {
			m.Controllers = append(m.Controllers, opt)
		}
	}
	if len(m.Controllers) == 0 {
		return nil, false
	}
	return m, true
}

// knownControllers reads the controller names the kernel has, from
// /proc/cgroups, so mount options such as "rw" or "xattr" are not taken
// for controllers.
func knownControllers() (map[string]bool, error) {
	s, err := readFile("/proc/cgroups")
	if err != nil {
		return nil, fmt.Errorf("list cgroup controllers: %w", err)
	}
	known := make(map[string]bool)
	for line := range strings.Lines(s) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if f := strings.Fields(line); len(f) > 0 {
			known[f[0]] = true
		}
	}
	return known, nil
}

// selfCgroups maps each hierarchy of /proc/self/cgroup to the caller's
// cgroup in it: a controller or "name=x" for v1, "" for cgroup2.
var selfCgroups = sync.OnceValues(func() (map[string]string, error) {
	s, err := readFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("read own cgroup: %w", err)
	}
	return parseProcCgroup(s), nil
})

// parseProcCgroup parses "<id>:<controllers>:<path>" lines.
func parseProcCgroup(s string) map[string]string {
	out := make(map[string]string)
	for line := range strings.Lines(s) {
		line = strings.TrimRight(line, "\n")
		_, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		ctrls, p, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		if ctrls == "" {
			out[""] = p
			continue
		}
		for c := range strings.SplitSeq(ctrls, ",") {
			out[c] = p
		}
	}
	return out
}

// hugePageSizes lists the host's huge page sizes in the names cgroup
// files use ("2MB", "1GB"), once.
var hugePageSizes = sync.OnceValue(func() []string {
	ents, err := os.ReadDir("/sys/kernel/mm/hugepages")
	if err != nil {
		return nil
	}
	var sizes []string
	for _, e := range ents {
		kb, ok := strings.CutPrefix(e.Name(), "hugepages-")
		if !ok {
			continue
		}
		kb, ok = strings.CutSuffix(kb, "kB")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(kb, 10, 64)
		if err != nil {
			continue
		}
		sizes = append(sizes, hugePageName(n*1024))
	}
	sort.Strings(sizes)
	return sizes
})

// hugePageName formats a size the way the hugetlb controller names its
// files: the largest unit (KB, MB, GB) that divides it evenly.
func hugePageName(bytes uint64) string {
	const kb, mb, gb = 1 << 10, 1 << 20, 1 << 30
	switch {
	case bytes >= gb && bytes%gb == 0:
		return strconv.FormatUint(bytes/gb, 10) + "GB"
	case bytes >= mb && bytes%mb == 0:
		return strconv.FormatUint(bytes/mb, 10) + "MB"
	}
	return strconv.FormatUint(bytes/kb, 10) + "KB"
}

// checkPageSize validates a hugepageLimits pageSize: it becomes part of a
// file name, so it must be a plain "<n><unit>B" that this host has.
func checkPageSize(field, size string, have []string) error {
	ok := len(size) >= 3 && strings.HasSuffix(size, "B")
	if ok {
		num := strings.TrimRight(size[:len(size)-1], "KMGTP")
		ok = len(size)-1-len(num) <= 1 && num != ""
		for _, c := range num {
			ok = ok && c >= '0' && c <= '9'
		}
	}
	if !ok {
		return fmt.Errorf("%s: %q is not <size><unit>B (e.g. 2MB)", field, size)
	}
	if !slices.Contains(have, size) {
		return fmt.Errorf("%s: huge page size %s not available on this host (have %s): %w",
			field, size, strings.Join(have, ", "), ErrNotSupported)
	}
	return nil
}
