package rootfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"

	"golang.org/x/sys/unix"
)

// inheritMode puts the mode of the directory a tmpfs covers in front of
// its data, so the tmpfs root keeps the image's mode (a 1777 /tmp stays
// 1777) unless the config's own "mode=" (later, so it wins) says
// otherwise. runc does the same; a destination berth creates keeps the
// tmpfs default.
func inheritMode(perm uint32, data string) string {
	mode := "mode=0" + strconv.FormatUint(uint64(perm), 8)
	if data == "" {
		return mode
	}
	return mode + "," + data
}

// fillCopyUp is "tmpcopyup": it copies the tree of src (a readable fd of
// the directory the tmpfs now covers) into the tmpfs whose root is top,
// then makes it read-only when ro. Like runc it keeps each entry's type,
// contents, owner and mode (set-id and sticky bits too); times, xattrs
// and hard links are not kept.
func fillCopyUp(src, top int, dest string, ro bool) error {
	dst, err := unix.Openat(top, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("tmpcopyup %s: open the tmpfs: %w", dest, err)
	}
	defer unix.Close(dst)
	if err := copyTree(src, dst, dest); err != nil {
		return fmt.Errorf("tmpcopyup %s: %w", dest, err)
	}
	if ro {
		return setattr(top, false, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}, "tmpcopyup "+dest+" ro")
	}
	return nil
}

// copyTree copies the entries of directory src into directory dst; at
// names src for messages. Neither fd is closed.
func copyTree(src, dst int, at string) error {
	names, err := readDirNames(src)
	if err != nil {
		return fmt.Errorf("read %s: %w", at, err)
	}
	for _, name := range names {
		if err := copyEntry(src, dst, name, path.Join(at, name)); err != nil {
			return err
		}
	}
	return nil
}

// readDirNames lists directory fd without consuming it (a dup is read).
func readDirNames(fd int) ([]string, error) {
	d, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(d), ".")
	defer f.Close()
	return f.Readdirnames(-1)
}

// copyEntry copies name from directory src to directory dst, recursing
// into directories, and gives the copy the original's owner and mode.
func copyEntry(src, dst int, name, at string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(src, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("stat %s: %w", at, err)
	}
	perm := st.Mode & 0o7777
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return copyDir(src, dst, name, at, &st)
	case unix.S_IFREG:
		return copyFile(src, dst, name, at, &st)
	case unix.S_IFLNK:
		target, err := readlinkat(src, name)
		if err != nil {
			return fmt.Errorf("readlink %s: %w", at, err)
		}
		if err := unix.Symlinkat(target, dst, name); err != nil {
			return fmt.Errorf("symlink %s: %w", at, err)
		}
		return chownAt(dst, name, at, &st)
	default: // devices, fifos, sockets
		if err := unix.Mknodat(dst, name, st.Mode&unix.S_IFMT|0o600, int(st.Rdev)); err != nil {
			return fmt.Errorf("mknod %s: %w", at, err)
		}
		if err := chownAt(dst, name, at, &st); err != nil {
			return err
		}
		// The node was just made on a tmpfs only berth sees: no symlink
		// can have replaced it.
		if err := unix.Fchmodat(dst, name, perm, 0); err != nil {
			return fmt.Errorf("chmod %s: %w", at, err)
		}
		return nil
	}
}

func copyDir(src, dst int, name, at string, st *unix.Stat_t) error {
	if err := unix.Mkdirat(dst, name, 0o700); err != nil {
		return fmt.Errorf("mkdir %s: %w", at, err)
	}
	from, err := unix.Openat(src, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", at, err)
	}
	defer unix.Close(from)
	to, err := unix.Openat(dst, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the copy of %s: %w", at, err)
	}
	defer unix.Close(to)
	if err := copyTree(from, to, at); err != nil {
		return err
	}
	// Owner first: chown clears the set-id bits that chmod then sets.
	return chownChmod(to, at, st)
}

func copyFile(src, dst int, name, at string, st *unix.Stat_t) error {
	from, err := unix.Openat(src, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", at, err)
	}
	in := os.NewFile(uintptr(from), at)
	defer in.Close()
	to, err := unix.Openat(dst, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create the copy of %s: %w", at, err)
	}
	out := os.NewFile(uintptr(to), at)
	// os.File.ReadFrom uses copy_file_range or sendfile where it can.
	_, err = io.Copy(out, in)
	if err == nil {
		err = chownChmod(to, at, st)
	}
	return errors.Join(err, out.Close())
}

func chownChmod(fd int, at string, st *unix.Stat_t) error {
	if err := unix.Fchown(fd, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", at, err)
	}
	if err := unix.Fchmod(fd, st.Mode&0o7777); err != nil {
		return fmt.Errorf("chmod %s: %w", at, err)
	}
	return nil
}

func chownAt(dir int, name, at string, st *unix.Stat_t) error {
	if err := unix.Fchownat(dir, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown %s: %w", at, err)
	}
	return nil
}
