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

// bindFlags is what a bind mount's own MS_* flags become: one
// mount_setattr (set, clr) on the detached clone, and the lockable flags
// that clr drops only because the config left them out (implied).
type bindFlags struct {
	set, clr, implied uint64
}

// msNamed are the options that make a bind replace its source's
// per-mount flags: anything but bind, rbind and remount.
const msNamed = ^uintptr(unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT | msPropagation)

// bindAttrs turns a bind mount's flags into mount_setattr masks, with
// mount(2)'s MS_BIND|MS_REMOUNT semantics (what runc gives): a bind that
// names no flag keeps its source's flags (no call at all); one that names
// any gets exactly the ro, nosuid, nodev, noexec and nosymfollow it sets,
// the others cleared. The atime mode (with nodiratime) is kept unless a
// mode is set: clearing one ("atime", "norelatime") changes nothing, as
// with mount(2); strictatime wins over noatime, noatime over relatime,
// and nodiratime alone means relatime.
func bindAttrs(set, clr uintptr) bindFlags {
	if set&msNamed == 0 && clr&msNamed == 0 {
		return bindFlags{}
	}
	pairs := [...]struct {
		ms       uintptr
		attr     uint64
		lockable bool
	}{
		{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY, true},
		{unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID, true},
		{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV, true},
		{unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC, true},
		{unix.MS_NOSYMFOLLOW, unix.MOUNT_ATTR_NOSYMFOLLOW, false},
	}
	var f bindFlags
	for _, p := range pairs {
		switch {
		case set&p.ms != 0:
			f.set |= p.attr
		case clr&p.ms == 0 && p.lockable:
			f.implied |= p.attr
			fallthrough
		default:
			f.clr |= p.attr
		}
	}
	if set&(msAtime|unix.MS_NODIRATIME) != 0 {
		f.clr |= unix.MOUNT_ATTR__ATIME | unix.MOUNT_ATTR_NODIRATIME
		switch {
		case set&unix.MS_STRICTATIME != 0:
			f.set |= unix.MOUNT_ATTR_STRICTATIME
		case set&unix.MS_NOATIME != 0:
			f.set |= unix.MOUNT_ATTR_NOATIME
		}
		if set&unix.MS_NODIRATIME != 0 {
			f.set |= unix.MOUNT_ATTR_NODIRATIME
		}
	}
	return f
}

// setBindFlags applies a bind mount's own flags to its detached clone.
// A mount locked in a user namespace (mount_namespaces(7)) refuses to
// lose a lockable flag: then the flags that were only implied are kept
// and the call is made again, so only a flag the config clears by name
// ("rw", "dev"...) fails. No flags named, no syscall.
func setBindFlags(tree int, set, clr uintptr, what string) error {
	f := bindAttrs(set, clr)
	if f.set|f.clr == 0 {
		return nil
	}
	attr := unix.MountAttr{Attr_set: f.set, Attr_clr: f.clr}
	err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, &attr)
	if errors.Is(err, unix.EPERM) && f.implied != 0 {
		attr.Attr_clr &^= f.implied
		err = unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, &attr)
	}
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("mount_setattr %s: %w (a flag the config clears, or the atime mode it sets, is locked on the source's mount in this user namespace)", what, err)
	}
	if err != nil {
		return setattrErr(what, err)
	}
	return nil
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
		return setattrErr(what, err)
	}
	return nil
}

func setattrErr(what string, err error) error {
	if errors.Is(err, unix.ENOSYS) {
		return fmt.Errorf("mount_setattr %s: not supported by this kernel (Linux 5.12 or later is needed): %w", what, err)
	}
	return fmt.Errorf("mount_setattr %s: %w", what, err)
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
