package rootfs

import (
	"errors"
	"fmt"
	"path"

	"github.com/berth-runtime/berth/configs"
	"golang.org/x/sys/unix"
)

// DefaultDevices are the nodes every container gets (OCI "Default Devices").
var DefaultDevices = []configs.Device{
	{Path: "/dev/null", Type: 'c', Major: 1, Minor: 3, FileMode: 0o666},
	{Path: "/dev/zero", Type: 'c', Major: 1, Minor: 5, FileMode: 0o666},
	{Path: "/dev/full", Type: 'c', Major: 1, Minor: 7, FileMode: 0o666},
	{Path: "/dev/random", Type: 'c', Major: 1, Minor: 8, FileMode: 0o666},
	{Path: "/dev/urandom", Type: 'c', Major: 1, Minor: 9, FileMode: 0o666},
	{Path: "/dev/tty", Type: 'c', Major: 5, Minor: 0, FileMode: 0o666},
}

// devSymlinks are the /dev symlinks from the OCI spec (name -> target).
var devSymlinks = [...][2]string{
	{"fd", "/proc/self/fd"},
	{"stdin", "/proc/self/fd/0"},
	{"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"},
}

func (p *preparer) setupDev() error {
	// mknod applies the umask; the config's modes must be exact.
	old := unix.Umask(0)
	defer unix.Umask(old)

	// mknod of a real device is never allowed in a user namespace: skip
	// straight to bind mounts there.
	bind := p.cfg.Has(configs.NEWUSER)
	seen := make(map[string]bool, len(p.cfg.Devices))
	for i := range p.cfg.Devices {
		seen[path.Clean(p.cfg.Devices[i].Path)] = true
	}
	for i := range DefaultDevices {
		if seen[DefaultDevices[i].Path] {
			continue // the config overrides it
		}
		if err := p.createDevice(&DefaultDevices[i], &bind); err != nil {
			return fmt.Errorf("default device: %w%s", err, bindHint(bind))
		}
	}
	for i := range p.cfg.Devices {
		if err := p.createDevice(&p.cfg.Devices[i], &bind); err != nil {
			return fmt.Errorf("linux.devices[%d]: %w%s", i, err, bindHint(bind))
		}
	}
	return p.devLinks()
}

// bindHint explains a failed bind of a host node: the container could
// not mknod (user namespace), so the node must exist on the host.
func bindHint(bind bool) string {
	if bind {
		return " (a user namespace cannot mknod: devices are bind mounts of the host's nodes)"
	}
	return ""
}

func deviceMode(d *configs.Device) (uint32, error) {
	perm := uint32(d.FileMode.Perm())
	if perm == 0 {
		perm = 0o666
	}
	switch d.Type {
	case 'c', 'u':
		return unix.S_IFCHR | perm, nil
	case 'b':
		return unix.S_IFBLK | perm, nil
	case 'p':
		return unix.S_IFIFO | perm, nil
	}
	return 0, fmt.Errorf("device %s: unknown type %q", d.Path, d.Type)
}

// createDevice makes d inside the root: mknod, or a bind mount of the
// host node when mknod is not permitted (*bind then stays set).
func (p *preparer) createDevice(d *configs.Device, bind *bool) error {
	mode, err := deviceMode(d)
	if err != nil {
		return err
	}
	rdev := unix.Mkdev(uint32(d.Major), uint32(d.Minor))
	if mode&unix.S_IFMT == unix.S_IFIFO {
		rdev = 0
	}
	// The last component is not followed: a symlink planted at the
	// device path is replaced, never written through.
	l, err := resolveLeaf(p.rootFd, d.Path, true, false)
	if err != nil {
		return fmt.Errorf("device %s: %w", d.Path, err)
	}
	defer l.close()
	if *bind && mode&unix.S_IFMT != unix.S_IFIFO {
		return p.bindDevice(l, d, mode, rdev)
	}
	if l.exists {
		var st unix.Stat_t
		if err := unix.Fstatat(l.dirFd, l.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("device %s: stat: %w", d.Path, err)
		}
		if st.Mode&unix.S_IFMT == mode&unix.S_IFMT && st.Rdev == rdev {
			return chownMode(l, d, mode, true)
		}
		if err := removeNonDir(l); err != nil {
			return fmt.Errorf("device %s: %w", d.Path, err)
		}
	}
	err = unix.Mknodat(l.dirFd, l.name, mode, int(rdev))
	if errors.Is(err, unix.EPERM) && mode&unix.S_IFMT != unix.S_IFIFO {
		*bind = true
		return p.bindDevice(l, d, mode, rdev)
	}
	if err != nil {
		return fmt.Errorf("mknod %s: %w", d.Path, err)
	}
	return chownMode(l, d, mode, false)
}

func removeNonDir(l *leaf) error {
	if l.mode == unix.S_IFDIR {
		return fmt.Errorf("/%s: is a directory", l.rel)
	}
	if err := unix.Unlinkat(l.dirFd, l.name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unlink /%s: %w", l.rel, err)
	}
	l.exists = false
	return nil
}

// chownMode sets the owner, and the mode too when the node already
// existed (a fresh mknod got it exactly, umask being 0).
func chownMode(l *leaf, d *configs.Device, mode uint32, existed bool) error {
	if err := unix.Fchownat(l.dirFd, l.name, int(d.UID), int(d.GID), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown %s: %w", d.Path, err)
	}
	if existed {
		if err := unix.Fchmodat(l.dirFd, l.name, mode&0o7777, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("chmod %s: %w", d.Path, err)
		}
	}
	return nil
}

// bindDevice bind-mounts the host's node at d.Path onto an empty file,
// after checking the host node is the device the config names.
func (p *preparer) bindDevice(l *leaf, d *configs.Device, mode uint32, rdev uint64) error {
	tree, err := unix.OpenTree(unix.AT_FDCWD, d.Path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return fmt.Errorf("bind device %s: open_tree: %w", d.Path, err)
	}
	defer unix.Close(tree)
	var st unix.Stat_t
	if err := unix.Fstat(tree, &st); err != nil {
		return fmt.Errorf("bind device %s: fstat: %w", d.Path, err)
	}
	if st.Mode&unix.S_IFMT != mode&unix.S_IFMT || st.Rdev != rdev {
		return fmt.Errorf("bind device %s: host node is not device %d:%d", d.Path, d.Major, d.Minor)
	}
	if l.exists && l.mode == unix.S_IFLNK {
		if err := removeNonDir(l); err != nil {
			return fmt.Errorf("device %s: %w", d.Path, err)
		}
	}
	dstFd, err := l.ensure(true)
	if err != nil {
		return err
	}
	defer unix.Close(dstFd)
	if err := unix.MoveMount(tree, "", dstFd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("bind device %s: move_mount: %w", d.Path, err)
	}
	return nil
}

// devLinks creates the standard /dev symlinks; existing entries are kept,
// except /dev/ptmx which must point at this container's devpts.
func (p *preparer) devLinks() error {
	devFd, err := mkdirAllInRoot(p.rootFd, "dev", 0o755)
	if err != nil {
		return fmt.Errorf("open /dev: %w", err)
	}
	defer unix.Close(devFd)
	for _, ln := range devSymlinks {
		if err := unix.Symlinkat(ln[1], devFd, ln[0]); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("symlink /dev/%s -> %s: %w", ln[0], ln[1], err)
		}
	}
	// /proc/kcore only exists on some kernels; link core only then.
	if err := unix.Access("/proc/kcore", unix.F_OK); err == nil {
		if err := unix.Symlinkat("/proc/kcore", devFd, "core"); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("symlink /dev/core -> /proc/kcore: %w", err)
		}
	}
	if target, err := readlinkat(devFd, "ptmx"); err == nil && target == "pts/ptmx" {
		return nil
	}
	if err := unix.Unlinkat(devFd, "ptmx", 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove /dev/ptmx: %w", err)
	}
	if err := unix.Symlinkat("pts/ptmx", devFd, "ptmx"); err != nil {
		return fmt.Errorf("symlink /dev/ptmx -> pts/ptmx: %w", err)
	}
	return nil
}

// consolePlaceholder makes sure /dev/console is a file or device that
// MountConsole can bind the pty onto; a symlink there is replaced.
func (p *preparer) consolePlaceholder() error {
	l, err := resolveLeaf(p.rootFd, "/dev/console", true, false)
	if err != nil {
		return fmt.Errorf("create /dev/console: %w", err)
	}
	defer l.close()
	if l.exists && l.mode == unix.S_IFLNK {
		if err := removeNonDir(l); err != nil {
			return fmt.Errorf("create /dev/console: %w", err)
		}
	}
	fd, err := l.ensure(true)
	if err != nil {
		return err
	}
	unix.Close(fd)
	return nil
}
