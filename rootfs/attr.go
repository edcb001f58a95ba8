package rootfs

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

const (
	msPropagation = unix.MS_SHARED | unix.MS_SLAVE | unix.MS_PRIVATE | unix.MS_UNBINDABLE
	msAtime       = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME
)

// attrsFromFlags converts the per-mount MS_* flags of a bind mount into
// mount_setattr set/clear masks. Only what the config names changes, so
// flags the source already has (possibly locked ones) are kept unless the
// config explicitly clears them.
func attrsFromFlags(set, clr uintptr) (attrSet, attrClr uint64) {
	pairs := [...]struct {
		ms   uintptr
		attr uint64
	}{
		{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY},
		{unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID},
		{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV},
		{unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
		{unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME},
		{unix.MS_NOSYMFOLLOW, unix.MOUNT_ATTR_NOSYMFOLLOW},
	}
	for _, p := range pairs {
		if set&p.ms != 0 {
			attrSet |= p.attr
		} else if clr&p.ms != 0 {
			attrClr |= p.attr
		}
	}
	// The atime mode is one field: setting any value needs the whole
	// field cleared; clearing a mode falls back to the kernel default.
	switch {
	case set&unix.MS_NOATIME != 0:
		attrSet |= unix.MOUNT_ATTR_NOATIME
		attrClr |= unix.MOUNT_ATTR__ATIME
	case set&unix.MS_STRICTATIME != 0:
		attrSet |= unix.MOUNT_ATTR_STRICTATIME
		attrClr |= unix.MOUNT_ATTR__ATIME
	case set&unix.MS_RELATIME != 0, clr&msAtime != 0:
		attrSet |= unix.MOUNT_ATTR_RELATIME
		attrClr |= unix.MOUNT_ATTR__ATIME
	}
	return attrSet, attrClr
}

// flagsFromAttrs converts recursive MOUNT_ATTR_* bits into MS_* flags for
// a fresh filesystem mount, which has no submounts, so "recursive" and
// plain are the same thing there.
func flagsFromAttrs(set, clr uint64, flags uintptr) uintptr {
	pairs := [...]struct {
		attr uint64
		ms   uintptr
	}{
		{unix.MOUNT_ATTR_RDONLY, unix.MS_RDONLY},
		{unix.MOUNT_ATTR_NOSUID, unix.MS_NOSUID},
		{unix.MOUNT_ATTR_NODEV, unix.MS_NODEV},
		{unix.MOUNT_ATTR_NOEXEC, unix.MS_NOEXEC},
		{unix.MOUNT_ATTR_NODIRATIME, unix.MS_NODIRATIME},
		{unix.MOUNT_ATTR_NOSYMFOLLOW, unix.MS_NOSYMFOLLOW},
	}
	for _, p := range pairs {
		if clr&p.attr != 0 {
			flags &^= p.ms
		}
		if set&p.attr != 0 {
			flags |= p.ms
		}
	}
	if clr&unix.MOUNT_ATTR__ATIME != 0 || set&unix.MOUNT_ATTR__ATIME != 0 {
		flags &^= msAtime
		switch set & unix.MOUNT_ATTR__ATIME {
		case unix.MOUNT_ATTR_NOATIME:
			flags |= unix.MS_NOATIME
		case unix.MOUNT_ATTR_STRICTATIME:
			flags |= unix.MS_STRICTATIME
		default:
			flags |= unix.MS_RELATIME
		}
	}
	return flags
}

// setattr wraps mount_setattr on an fd that is the root of a mount.
func setattr(fd int, recursive bool, attr *unix.MountAttr, what string) error {
	flags := uint(unix.AT_EMPTY_PATH)
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	if err := unix.MountSetattr(fd, "", flags, attr); err != nil {
		if errors.Is(err, unix.ENOSYS) {
			return fmt.Errorf("mount_setattr %s: not supported by this kernel (Linux 5.12 or later is needed): %w", what, err)
		}
		return fmt.Errorf("mount_setattr %s: %w", what, err)
	}
	return nil
}

// setPropagation applies each propagation flag (MS_SHARED... with an
// optional MS_REC) to the mount whose root fd is.
func setPropagation(fd int, props []uintptr, what string) error {
	for _, p := range props {
		if p&msPropagation == 0 {
			continue
		}
		attr := unix.MountAttr{Propagation: uint64(p & msPropagation)}
		if err := setattr(fd, p&unix.MS_REC != 0, &attr, what+" propagation"); err != nil {
			return err
		}
	}
	return nil
}
