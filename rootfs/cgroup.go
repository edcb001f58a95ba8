package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/internal/mountinfo"
	"golang.org/x/sys/unix"
)

// hierarchy is one cgroup hierarchy of the container's own cgroup, as the
// "cgroup" mount type exposes it on a v1 or hybrid host.
type hierarchy struct {
	name        string   // directory name under the mount (host's basename)
	controllers []string // "cpu", "cpuacct", or "name=systemd"; empty for v2
	source      string   // host directory of the container's cgroup ("" if unknown)
}

// fsType is the filesystem of the hierarchy.
func (h *hierarchy) fsType() string {
	if len(h.controllers) == 0 {
		return "cgroup2"
	}
	return "cgroup"
}

// options is the mount data selecting the hierarchy.
func (h *hierarchy) options() string {
	opts := strings.Join(h.controllers, ",")
	if strings.HasPrefix(opts, "name=") {
		return "none," + opts
	}
	return opts
}

func (p *preparer) cgroup(m *configs.Mount) error {
	var sfs unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &sfs); err != nil {
		return fmt.Errorf("mount cgroup on %s: statfs /sys/fs/cgroup: %w", m.Destination, err)
	}
	if sfs.Type == unix.CGROUP2_SUPER_MAGIC {
		return p.cgroup2(m)
	}
	return p.cgroup1(m)
}

// cgroup2 mounts cgroup2; without the rights for that (a user namespace
// but no cgroup namespace) it binds the host hierarchy instead.
func (p *preparer) cgroup2(m *configs.Mount) error {
	err := p.fsMount(m, "cgroup2", "cgroup", m.Data)
	if !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EBUSY) {
		return err
	}
	b := *m
	b.Source = "/sys/fs/cgroup"
	b.Flags |= unix.MS_BIND | unix.MS_REC
	return p.bind(&b)
}

// cgroup1 builds what a v1 host shows: a tmpfs holding one mount per
// hierarchy of the container's cgroup, plus symlinks for comounted
// controllers (cpu -> cpu,cpuacct).
func (p *preparer) cgroup1(m *configs.Mount) error {
	self, err := os.ReadFile(p.env.Proc + "/cgroup")
	if err != nil {
		return fmt.Errorf("mount cgroup on %s: %w", m.Destination, err)
	}
	mi, err := os.ReadFile(p.env.Proc + "/mountinfo")
	if err != nil {
		return fmt.Errorf("mount cgroup on %s: %w", m.Destination, err)
	}
	hs := v1Hierarchies(self, mi)

	tm := configs.Mount{
		Destination:      m.Destination,
		Flags:            unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC,
		PropagationFlags: m.PropagationFlags,
	}
	top, err := p.fsMountTop(&tm, "tmpfs", "tmpfs", "mode=755", true)
	if err != nil {
		return err
	}
	defer unix.Close(top)

	cgroupNS := p.cfg.Has(configs.NEWCGROUP)
	for i := range hs {
		if err := p.cgroupHierarchy(m, top, &hs[i], cgroupNS); err != nil {
			return err
		}
	}
	if m.Flags&unix.MS_RDONLY != 0 {
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		if err := setattr(top, false, &attr, m.Destination+" ro"); err != nil {
			return err
		}
	}
	return nil
}

func (p *preparer) cgroupHierarchy(m *configs.Mount, top int, h *hierarchy, cgroupNS bool) error {
	dest := path.Join(m.Destination, h.name)
	if err := unix.Mkdirat(top, h.name, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("mkdir %s: %w", dest, err)
	}
	dirFd, err := openBeneath(top, h.name, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("open %s: %w", dest, err)
	}
	defer unix.Close(dirFd)
	if cgroupNS || h.source == "" {
		// In a cgroup namespace the hierarchy's root is our own cgroup.
		flags := m.Flags &^ (msPropagation | unix.MS_BIND | unix.MS_REC)
		if err := unix.Mount("cgroup", procFd(dirFd), h.fsType(), flags, h.options()); err != nil {
			return fmt.Errorf("mount %s on %s: %w", h.fsType(), dest, err)
		}
	} else {
		tree, err := unix.OpenTree(unix.AT_FDCWD, h.source, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
		if err != nil {
			return fmt.Errorf("bind %s on %s: open_tree: %w", h.source, dest, err)
		}
		defer unix.Close(tree)
		if err := setBindFlags(tree, m.Flags, m.ClearedFlags, dest); err != nil {
			return err
		}
		if err := unix.MoveMount(tree, "", dirFd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
			return fmt.Errorf("bind %s on %s: move_mount: %w", h.source, dest, err)
		}
	}
	for _, c := range h.controllers {
		if c == h.name || strings.HasPrefix(c, "name=") {
			continue
		}
		if err := unix.Symlinkat(h.name, top, c); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("symlink %s -> %s: %w", path.Join(m.Destination, c), h.name, err)
		}
	}
	return nil
}

// mountEntry is the part of a mountinfo line the cgroup code needs.
type mountEntry struct {
	root, point, fstype string
	super               []string
}

// v1Hierarchies pairs each line of /proc/self/cgroup with the host mount
// of its hierarchy. Both inputs come from the kernel.
func v1Hierarchies(selfCgroup, mi []byte) []hierarchy {
	var mounts []mountEntry
	mountinfo.Parse(mi, func(e *mountinfo.Entry) bool {
		if e.FSType == "cgroup" || e.FSType == "cgroup2" {
			mounts = append(mounts, mountEntry{root: e.Root, point: e.Point, fstype: e.FSType, super: strings.Split(e.Super, ",")})
		}
		return true
	})

	var hs []hierarchy
	for line := range strings.SplitSeq(strings.TrimSpace(string(selfCgroup)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		var ctrls []string
		if parts[1] != "" {
			ctrls = strings.Split(parts[1], ",")
		}
		h := hierarchy{controllers: ctrls}
		if me := findHierarchyMount(mounts, ctrls, parts[2]); me != nil {
			h.name = path.Base(me.point)
			h.source = path.Join(me.point, strings.TrimPrefix(parts[2], me.root))
		} else if len(ctrls) == 0 {
			continue // a v2 line on a pure v1 host
		} else {
			h.name = strings.TrimPrefix(parts[1], "name=")
		}
		hs = append(hs, h)
	}
	return hs
}

// findHierarchyMount finds a host mount of the hierarchy with exactly
// these controllers whose root contains cgPath.
func findHierarchyMount(mounts []mountEntry, ctrls []string, cgPath string) *mountEntry {
	for i := range mounts {
		me := &mounts[i]
		if (me.fstype == "cgroup2") != (len(ctrls) == 0) {
			continue
		}
		if !isUnder(cgPath, me.root) {
			continue
		}
		if len(ctrls) == 0 {
			return me
		}
		all := true
		for _, c := range ctrls {
			if !containsStr(me.super, c) {
				all = false
				break
			}
		}
		if all && countControllers(me.super) == len(ctrls) {
			return me
		}
	}
	return nil
}

func isUnder(p, root string) bool {
	return root == "/" || p == root || strings.HasPrefix(p, root+"/")
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// countControllers counts the super options that select a hierarchy:
// every option that is not a generic mount option.
func countControllers(super []string) int {
	n := 0
	for _, o := range super {
		switch {
		case o == "rw", o == "ro", o == "none", o == "noprefix", o == "xattr", o == "cpuset_v2_mode",
			strings.HasPrefix(o, "release_agent="), strings.HasPrefix(o, "clone_children"):
		default:
			n++
		}
	}
	return n
}
