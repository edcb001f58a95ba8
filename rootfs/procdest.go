package rootfs

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// procCoverable are the files below /proc that a mount may cover: those
// lxcfs emulates, and two sysctls that are bind-mounted for checkpoint
// restore and FIPS. It is the list runc keeps for CVE-2019-16884.
var procCoverable = map[string]bool{
	"cpuinfo":                 true,
	"diskstats":               true,
	"meminfo":                 true,
	"stat":                    true,
	"swaps":                   true,
	"uptime":                  true,
	"loadavg":                 true,
	"slabinfo":                true,
	"net/dev":                 true,
	"sys/kernel/ns_last_pid":  true,
	"sys/crypto/fips_enabled": true,
}

var (
	errProcNotProcfs = errors.New("only a procfs may be mounted on /proc")
	errInsideProc    = errors.New("below /proc only the files lxcfs emulates (cpuinfo, meminfo, stat, ...) may be covered")
)

// CheckProcDest is the rule for mounts at or below /proc (CVE-2019-16884):
// berth and the kernel trust what /proc shows, so only a procfs (a "proc"
// mount, or a bind of a procfs) may be mounted on it, and below it only
// the files in procCoverable. rel is the destination relative to the
// root, cleaned ("proc/cpuinfo"); procfs says whether the mount is a
// procfs. Every other destination passes without further work.
func CheckProcDest(rel string, procfs bool) error {
	if rel == "proc" {
		if !procfs {
			return errProcNotProcfs
		}
		return nil
	}
	if sub, ok := strings.CutPrefix(rel, "proc/"); ok && !procCoverable[sub] {
		return errInsideProc
	}
	return nil
}

// checkProcLeaf applies CheckProcDest where the destination really is: a
// symlink in the image can lead a mount onto or below /proc whatever the
// config says (runc resolves the path first for the same reason). l.rel
// is the path after the trailing symlinks were followed; a symlinked
// parent shows only in the parent directory itself: the root's "proc"
// (fstat, only for a leaf named proc), or a directory of a procfs.
func (p *preparer) checkProcLeaf(dest string, l *leaf, procfs func() (bool, error)) error {
	rel := l.rel
	at := func() string {
		if r := "/" + rel; r != dest {
			return dest + " (there: " + r + ")"
		}
		return dest
	}
	if !IsProcDest(rel) {
		if l.name == "proc" {
			root, err := sameDir(l.dirFd, p.rootFd)
			if err != nil {
				return fmt.Errorf("mount on /%s: %w", rel, err)
			}
			if root {
				rel = "proc"
			}
		}
		if rel != "proc" {
			onProc, err := isProcfs(l.dirFd, "/"+path.Dir(rel))
			if err != nil {
				return fmt.Errorf("mount on /%s: %w", rel, err)
			}
			if onProc {
				return fmt.Errorf("mount on %s: a symlink leads it into a procfs: %w", at(), errInsideProc)
			}
			return nil
		}
	}
	isProc, err := procfs()
	if err != nil {
		return fmt.Errorf("mount on /%s: %w", rel, err)
	}
	if err := CheckProcDest(rel, isProc); err != nil {
		return fmt.Errorf("mount on %s: %w", at(), err)
	}
	return nil
}

// isProcMount is the procfs answer for a procfs that init made.
func isProcMount() (bool, error) { return true, nil }

// isProcfs reports whether fd (of what) is on a procfs.
func isProcfs(fd int, what string) (bool, error) {
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil {
		return false, fmt.Errorf("fstatfs %s: %w", what, err)
	}
	return sfs.Type == unix.PROC_SUPER_MAGIC, nil
}

func sameDir(a, b int) (bool, error) {
	var sa, sb unix.Stat_t
	if err := unix.Fstat(a, &sa); err != nil {
		return false, fmt.Errorf("fstat: %w", err)
	}
	if err := unix.Fstat(b, &sb); err != nil {
		return false, fmt.Errorf("fstat: %w", err)
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino, nil
}

// IsProcDest reports whether rel (cleaned, relative to the root) is /proc
// or below it.
func IsProcDest(rel string) bool {
	return rel == "proc" || strings.HasPrefix(rel, "proc/")
}
