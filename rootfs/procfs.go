package rootfs

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/berth-runtime/berth/configs"
	"golang.org/x/sys/unix"
)

// procRootIno is the inode number of the root directory of every procfs.
const procRootIno = 1

// WriteSysctls writes linux.sysctl through the procfs mounted at /proc
// (call it after Pivot, so that it is the container's), in key order.
//
// Writing to the path "/proc/sys/..." would follow whatever the config
// or the image put there: a tmpfs or a bind mount over /proc/sys or one
// of its files, a fake procfs at /proc with symlinks to elsewhere
// (CVE-2019-16884, CVE-2025-52881). Instead the procfs mount itself is
// cloned without its submounts (so nothing mounted over /proc/sys/...
// exists in the clone), checked to be the root of a real procfs, and each
// file is opened beneath it without following any link or crossing any
// mount, then checked again to be a procfs file.
func WriteSysctls(sysctl map[string]string) error {
	if len(sysctl) == 0 {
		return nil
	}
	proc, err := procRoot("/proc")
	if err != nil {
		return fmt.Errorf("linux.sysctl: %w", err)
	}
	defer unix.Close(proc)
	keys := make([]string, 0, len(sysctl))
	for k := range sysctl {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		rel, err := sysctlPath(k)
		if err != nil {
			return fmt.Errorf("linux.sysctl %s: %w", k, err)
		}
		if err := writeProcFile(proc, rel, sysctl[k]); err != nil {
			return fmt.Errorf("linux.sysctl %s: %w", k, err)
		}
	}
	return nil
}

// procRoot returns a detached, non-recursive clone of the mount at p,
// which must be the root of a procfs.
func procRoot(p string) (int, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, p, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("open_tree %s: %w", p, err)
	}
	if err := checkProcRoot(fd, p); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// InitProc returns the procfs root init reaches its own /proc entries
// through after pivot_root (ReopenFD, nsenter.ExecProcess), never by a
// path: the procfs the config mounted on /proc (CheckProcDest let nothing
// else go there), checked; or, when the config mounts none, a procfs of
// init's pid namespace made for it alone. Never berth's /proc: init holds
// the fd while it waits, and a host procfs leads to the host.
//
// The private one is made before the rootfs is set up (before is true):
// in a user namespace the kernel mounts a new procfs only where a fully
// visible one is in the mount namespace, which after pivot_root, with no
// /proc in the config, there is not. The config's is opened after.
func InitProc(cfg *configs.Config, before bool) (int, error) {
	has := false
	for i := range cfg.Mounts {
		if cfg.Mounts[i].Destination == "/proc" {
			has = true
		}
	}
	switch {
	case has && !before:
		return OpenProcRoot("/proc")
	case !has && before:
		return privateProc()
	}
	return -1, nil
}

// privateProc makes a detached procfs of the caller's pid namespace.
func privateProc() (int, error) {
	fs, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("make a procfs for init: fsopen: %w", err)
	}
	defer unix.Close(fs)
	if err := unix.FsconfigSetString(fs, "source", "proc"); err != nil {
		return -1, fmt.Errorf("make a procfs for init: fsconfig source: %w", err)
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return -1, fmt.Errorf("make a procfs for init: fsconfig create: %w", err)
	}
	fd, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("make a procfs for init: fsmount: %w", err)
	}
	return fd, nil
}

// OpenProcRoot opens p as the root of a procfs (checked: not a directory
// the image or a bind put there).
func OpenProcRoot(p string) (int, error) {
	fd, err := unix.Open(p, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", p, err)
	}
	if err := checkProcRoot(fd, p); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// checkProcRoot checks that fd is the root of a procfs (its only inode
// numbered 1).
func checkProcRoot(fd int, p string) error {
	if err := checkProcFd(fd, p); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("fstat %s: %w", p, err)
	}
	if st.Ino != procRootIno {
		return fmt.Errorf("%s: not the root of a procfs", p)
	}
	return nil
}

// ReopenFD opens the calling thread's fd again with flags (exec.fifo's
// O_PATH fd, to block on it). Its fd directory is reached beneath the
// procfs root proc without crossing a mount or following a magic link,
// so no file mounted or planted at /proc can stand in for the fifo.
func ReopenFD(proc, fd, flags int) (int, error) {
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_XDEV | unix.RESOLVE_NO_MAGICLINKS,
	}
	dir, err := openat2Retry(proc, "thread-self/fd", &how)
	if err != nil {
		return -1, fmt.Errorf("open /proc/thread-self/fd: %w", err)
	}
	defer unix.Close(dir)
	nfd, err := unix.Openat(dir, strconv.Itoa(fd), flags|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("reopen fd %d: %w", fd, err)
	}
	return nfd, nil
}

func checkProcFd(fd int, what string) error {
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil {
		return fmt.Errorf("fstatfs %s: %w", what, err)
	}
	if sfs.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("%s: not on a procfs (filesystem type 0x%x)", what, sfs.Type)
	}
	return nil
}

// sysctlPath maps a sysctl key ("net.ipv4.ip_forward", or with slashes)
// to its path below the procfs root.
func sysctlPath(key string) (string, error) {
	rel := strings.ReplaceAll(key, ".", "/")
	for _, c := range strings.Split(rel, "/") {
		if c == "" || c == ".." {
			return "", errors.New("invalid key")
		}
	}
	return "sys/" + rel, nil
}

// writeProcFile writes val with one write(2) (as sysctl handlers expect)
// to rel beneath the procfs root fd proc.
func writeProcFile(proc int, rel, val string) error {
	how := unix.OpenHow{
		Flags:   unix.O_WRONLY | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	}
	fd, err := openat2Retry(proc, rel, &how)
	if err != nil {
		return fmt.Errorf("open /proc/%s: %w", rel, err)
	}
	defer unix.Close(fd)
	if err := checkProcFd(fd, "/proc/"+rel); err != nil {
		return err
	}
	n, err := unix.Write(fd, []byte(val))
	if err != nil {
		return fmt.Errorf("write /proc/%s: %w", rel, err)
	}
	if n != len(val) {
		return fmt.Errorf("write /proc/%s: short write (%d of %d bytes)", rel, n, len(val))
	}
	return nil
}
