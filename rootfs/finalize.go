package rootfs

import (
	"errors"
	"fmt"

	"github.com/berth-runtime/berth/configs"
	"golang.org/x/sys/unix"
)

const (
	moveFds   = unix.MOVE_MOUNT_F_EMPTY_PATH | unix.MOVE_MOUNT_T_EMPTY_PATH
	cloneFd   = unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC | unix.AT_EMPTY_PATH
	roAttrs   = unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC
	ptyMajor0 = 136 // UNIX98_PTY_SLAVE_MAJOR
	ptyMajors = 8   // UNIX98_PTY_MAJOR_COUNT
)

// Finalize runs after Pivot, with the container's root as "/": it makes
// readonlyPaths read-only, masks maskedPaths, remounts / read-only when
// asked and applies a shared or unbindable rootfsPropagation.
func Finalize(cfg *configs.Config) error {
	rootFd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /: %w", err)
	}
	defer unix.Close(rootFd)

	// Read-only first, so a masked path below a read-only one stays masked.
	for _, p := range cfg.ReadonlyPaths {
		if err := readonlyPath(rootFd, p); err != nil {
			return err
		}
	}
	mk := masker{rootFd: rootFd, nullFd: -1, tmpfsFd: -1}
	defer mk.close()
	for _, p := range cfg.MaskedPaths {
		if err := mk.mask(p); err != nil {
			return err
		}
	}
	if cfg.Readonly {
		// Without a mount namespace "/" is PrepareIn's bind of the rootfs
		// on itself, in the host's namespace: only that bind turns
		// read-only (delete unmounts it).
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		if err := setattr(rootFd, false, &attr, "/ ro"); err != nil {
			return err
		}
	}
	if cfg.Has(configs.NEWNS) && cfg.RootPropagation&(unix.MS_SHARED|unix.MS_UNBINDABLE) != 0 {
		if err := unix.Mount("", "/", "", cfg.RootPropagation, ""); err != nil {
			return fmt.Errorf("set propagation of /: mount: %w", err)
		}
	}
	return nil
}

// readonlyPath binds p on itself (recursively) with ro,nosuid,nodev,noexec.
// mount_setattr only adds attributes, so flags the mount already has
// (including locked ones) are kept without having to read them first.
func readonlyPath(rootFd int, p string) error {
	l, err := resolveLeaf(rootFd, p, false, true)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("readonly path %s: %w", p, err)
	}
	defer l.close()
	if !l.exists {
		return nil
	}
	fd, err := l.open()
	if err != nil {
		return fmt.Errorf("readonly path %s: %w", p, err)
	}
	defer unix.Close(fd)
	tree, err := unix.OpenTree(fd, "", cloneFd|unix.AT_RECURSIVE)
	if err != nil {
		return fmt.Errorf("readonly path %s: open_tree: %w", p, err)
	}
	defer unix.Close(tree)
	if err := setattr(tree, true, &unix.MountAttr{Attr_set: roAttrs}, "readonly path "+p); err != nil {
		return err
	}
	if err := unix.MoveMount(tree, "", fd, "", moveFds); err != nil {
		return fmt.Errorf("readonly path %s: move_mount: %w", p, err)
	}
	return nil
}

// masker hides paths: directories under an empty read-only tmpfs (one
// superblock shared by all of them), anything else under /dev/null.
type masker struct {
	rootFd  int
	nullFd  int // verified /dev/null of the container
	tmpfsFd int // the masking tmpfs, once created
	used    bool
}

func (mk *masker) close() {
	if mk.nullFd >= 0 {
		unix.Close(mk.nullFd)
	}
	if mk.tmpfsFd >= 0 {
		unix.Close(mk.tmpfsFd)
	}
}

func (mk *masker) mask(p string) error {
	l, err := resolveLeaf(mk.rootFd, p, false, true)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("masked path %s: %w", p, err)
	}
	defer l.close()
	if !l.exists {
		return nil
	}
	fd, err := l.open()
	if err != nil {
		return fmt.Errorf("masked path %s: %w", p, err)
	}
	defer unix.Close(fd)
	var tree int
	if l.mode == unix.S_IFDIR {
		tree, err = mk.tmpfs()
	} else {
		tree, err = mk.null()
	}
	if err != nil {
		return fmt.Errorf("masked path %s: %w", p, err)
	}
	defer unix.Close(tree)
	if err := unix.MoveMount(tree, "", fd, "", moveFds); err != nil {
		return fmt.Errorf("masked path %s: move_mount: %w", p, err)
	}
	return nil
}

// null returns a detached bind of the container's /dev/null, checked to
// be the real 1:3 character device so a fake one cannot unmask anything.
func (mk *masker) null() (int, error) {
	if mk.nullFd < 0 {
		fd, err := openInRoot(mk.rootFd, "dev/null", 0)
		if err != nil {
			return -1, fmt.Errorf("open /dev/null: %w", err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("fstat /dev/null: %w", err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
			unix.Close(fd)
			return -1, errors.New("/dev/null is not the 1:3 character device")
		}
		mk.nullFd = fd
	}
	tree, err := unix.OpenTree(mk.nullFd, "", cloneFd)
	if err != nil {
		return -1, fmt.Errorf("open_tree /dev/null: %w", err)
	}
	return tree, nil
}

// tmpfs returns a mount of the empty read-only masking tmpfs: the
// detached mount itself the first time, a clone of it afterwards.
func (mk *masker) tmpfs() (int, error) {
	if mk.tmpfsFd < 0 {
		fsFd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
		if err != nil {
			return -1, fmt.Errorf("fsopen tmpfs: %w", err)
		}
		defer unix.Close(fsFd)
		if err := unix.FsconfigCreate(fsFd); err != nil {
			return -1, fmt.Errorf("fsconfig create tmpfs: %w", err)
		}
		mfd, err := unix.Fsmount(fsFd, unix.FSMOUNT_CLOEXEC, roAttrs)
		if err != nil {
			return -1, fmt.Errorf("fsmount tmpfs: %w", err)
		}
		mk.tmpfsFd = mfd
	}
	if !mk.used {
		mk.used = true
		return dupCloexec(mk.tmpfsFd)
	}
	// Attached by now, so it can be cloned like any bind source.
	tree, err := unix.OpenTree(mk.tmpfsFd, "", cloneFd)
	if err != nil {
		return -1, fmt.Errorf("open_tree masking tmpfs: %w", err)
	}
	return tree, nil
}

// MountConsole bind-mounts the pty slave at slavePath (inside the
// container, e.g. "/dev/pts/3") onto /dev/console. It runs after Pivot.
func MountConsole(slavePath string) error {
	rootFd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /: %w", err)
	}
	defer unix.Close(rootFd)
	src, err := openInRoot(rootFd, cleanRel(slavePath), 0)
	if err != nil {
		return fmt.Errorf("console %s: %w", slavePath, err)
	}
	defer unix.Close(src)
	var st unix.Stat_t
	if err := unix.Fstat(src, &st); err != nil {
		return fmt.Errorf("console %s: fstat: %w", slavePath, err)
	}
	if major := unix.Major(st.Rdev); st.Mode&unix.S_IFMT != unix.S_IFCHR || major < ptyMajor0 || major >= ptyMajor0+ptyMajors {
		return fmt.Errorf("console %s: not a pty slave", slavePath)
	}

	l, err := resolveLeaf(rootFd, "/dev/console", true, false)
	if err != nil {
		return fmt.Errorf("console /dev/console: %w", err)
	}
	defer l.close()
	if l.exists && l.mode == unix.S_IFLNK {
		if err := removeNonDir(l); err != nil {
			return fmt.Errorf("console: %w", err)
		}
	}
	dst, err := l.ensure(true)
	if err != nil {
		return err
	}
	defer unix.Close(dst)
	tree, err := unix.OpenTree(src, "", cloneFd)
	if err != nil {
		return fmt.Errorf("console %s: open_tree: %w", slavePath, err)
	}
	defer unix.Close(tree)
	if err := unix.MoveMount(tree, "", dst, "", moveFds); err != nil {
		return fmt.Errorf("bind %s on /dev/console: move_mount: %w", slavePath, err)
	}
	return nil
}
