package rootfs

import (
	"fmt"

	"github.com/berth-runtime/berth/configs"
	"golang.org/x/sys/unix"
)

// Pivot makes cfg.Rootfs the root of the process and ends in "/". It
// uses pivot_root(".", ".") and detaches the old root, or chroot when
// cfg.NoPivot is set or there is no mount namespace to pivot in.
func Pivot(cfg *configs.Config) error {
	if !cfg.Has(configs.NEWNS) {
		return chrootOnly(cfg.Rootfs)
	}
	if cfg.NoPivot {
		if err := detachHostPseudoFS(cfg, "/proc/self"); err != nil {
			return err
		}
		return moveAndChroot(cfg.Rootfs)
	}
	return pivotRoot(cfg.Rootfs)
}

func pivotRoot(rootfs string) error {
	oldRoot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open old root /: %w", err)
	}
	defer unix.Close(oldRoot)
	newRoot, err := unix.Open(rootfs, unix.O_DIRECTORY|unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open new root %s: %w", rootfs, err)
	}
	defer unix.Close(newRoot)
	if err := unix.Fchdir(newRoot); err != nil {
		return fmt.Errorf("chdir %s: %w", rootfs, err)
	}
	// With both arguments ".", the old root ends up stacked on the new
	// one and no put_old directory is needed inside the container.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root %s: %w", rootfs, err)
	}
	if err := unix.Fchdir(oldRoot); err != nil {
		return fmt.Errorf("chdir old root: %w", err)
	}
	// rslave first, so detaching the old root cannot propagate unmounts
	// to the host through a shared peer group.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root rslave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: umount2: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// moveAndChroot moves the rootfs mount over / and chroots into it, for
// --no-pivot (e.g. a ramdisk root where pivot_root is not possible).
func moveAndChroot(rootfs string) error {
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("chdir %s: %w", rootfs, err)
	}
	if err := unix.Mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move %s to /: %w", rootfs, err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot %s: %w", rootfs, err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

func chrootOnly(rootfs string) error {
	if err := unix.Chroot(rootfs); err != nil {
		return fmt.Errorf("chroot %s: %w", rootfs, err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}
