package rootfs

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// followsDest reports whether a mount of fstype may follow a trailing
// symlink at its destination. proc and sysfs may not: the kernel and
// berth trust what /proc and /sys show, so a /proc planted as a symlink
// is refused rather than followed to wherever it points (CVE-2019-19921,
// CVE-2023-27561), as runc refuses it.
func followsDest(fstype string) bool { return fstype != "proc" && fstype != "sysfs" }

// resolveDest is resolveLeaf for a mount of fstype on dest: parents are
// created, and a trailing symlink is followed unless followsDest says no,
// in which case anything but a directory there is an error.
func (p *preparer) resolveDest(dest, fstype string) (*leaf, error) {
	follow := followsDest(fstype)
	l, err := resolveLeaf(p.rootFd, dest, true, follow)
	if err != nil {
		return nil, err
	}
	if !follow && l.exists && l.mode != unix.S_IFDIR {
		what := "not a directory"
		if l.mode == unix.S_IFLNK {
			what = "a symlink"
		}
		l.close()
		return nil, fmt.Errorf("%s must be mounted on ordinary directory: /%s is %s", fstype, l.rel, what)
	}
	return l, nil
}
