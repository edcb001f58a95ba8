package rootfs

import (
	"errors"
	"fmt"
	"os"

	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/internal/mountinfo"
	"golang.org/x/sys/unix"
)

// detachHostPseudoFS is --no-pivot's stand-in for detaching the old root:
// chroot leaves the host's mounts in the container's mount namespace, and
// the kernel lets a user namespace mount a new procfs or sysfs there when
// a full, uncovered one exists anywhere in it (a bare /proc, past the
// masks). So every mount of the whole of a procfs or sysfs outside the
// container's tree is detached. Inside means below the rootfs mount by
// parent ids, not by path. A mount locked by berth's own user namespace
// cannot be detached (EINVAL) and stays: there the kernel's own locks
// apply.
func detachHostPseudoFS(cfg *configs.Config, proc string) error {
	rootID, err := pathMountID(cfg.Rootfs)
	if err != nil {
		return fmt.Errorf("--no-pivot: %w", err)
	}
	mi, err := os.ReadFile(proc + "/mountinfo")
	if err != nil {
		return fmt.Errorf("--no-pivot: read mountinfo: %w", err)
	}
	// An unmount propagates through the peers of the parent (and, for the
	// mounts below, of the mount itself): unless the whole tree is rslave
	// or rprivate (unbindable) already, the parent is made a slave and the
	// mount an rslave first, so the host's copies stay.
	rp := cfg.RootPropagation
	slaveFirst := rp != 0 && (rp&unix.MS_REC == 0 || rp&(unix.MS_SLAVE|unix.MS_PRIVATE|unix.MS_UNBINDABLE) == 0)
	for _, m := range hostPseudoMounts(mi, rootID) {
		if slaveFirst {
			if err := unix.Mount("", m.parent, "", unix.MS_SLAVE, ""); err != nil {
				return fmt.Errorf("--no-pivot: make %s (holding host %s) a slave: %w", m.parent, m.point, err)
			}
			if err := unix.Mount("", m.point, "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
				return fmt.Errorf("--no-pivot: make host %s rslave: %w", m.point, err)
			}
		}
		if err := unix.Unmount(m.point, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("--no-pivot: detach host %s: umount2: %w", m.point, err)
		}
	}
	return nil
}

// hostMount is a mount to detach and the mount point of its parent.
type hostMount struct{ point, parent string }

// mountRec is what hostPseudoMounts needs of a mountinfo line.
type mountRec struct {
	id, parent uint64
	full       bool // the root of its filesystem is mounted
	pseudo     bool // proc or sysfs
	point      string
}

// hostPseudoMounts returns the full proc and sysfs mounts that are not
// the mount rootID or below it, leaving out those below another one in
// the list (detaching that takes them along).
func hostPseudoMounts(mi []byte, rootID uint64) []hostMount {
	var recs []mountRec
	byID := map[uint64]int{}
	mountinfo.Parse(mi, func(e *mountinfo.Entry) bool {
		byID[e.ID] = len(recs)
		recs = append(recs, mountRec{id: e.ID, parent: e.Parent, full: e.Root == "/",
			pseudo: e.FSType == "proc" || e.FSType == "sysfs", point: e.Point})
		return true
	})
	// above reports whether pred holds for r's parent or a mount above it
	// (with self, for r too). The chain ends at the namespace's root,
	// whose parent is not listed; the bound guards against a loop.
	above := func(r mountRec, self bool, pred func(mountRec) bool) bool {
		if self && pred(r) {
			return true
		}
		for range recs {
			i, ok := byID[r.parent]
			if !ok || r.parent == r.id {
				return false
			}
			if r = recs[i]; pred(r) {
				return true
			}
		}
		return false
	}
	isRoot := func(r mountRec) bool { return r.id == rootID }
	host := func(r mountRec) bool { return r.full && r.pseudo && !above(r, true, isRoot) }
	var out []hostMount
	for _, r := range recs {
		if host(r) && !above(r, false, host) {
			m := hostMount{point: r.point, parent: "/"}
			if i, ok := byID[r.parent]; ok {
				m.parent = recs[i].point
			}
			out = append(out, m)
		}
	}
	return out
}
