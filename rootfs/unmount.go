package rootfs

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/mountinfo"
)

// UnmountBelow detaches every mount at or below dir, deepest first. A
// container without a mount namespace made its mounts in the caller's
// namespace; delete takes them away again.
func UnmountBelow(dir string) error {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	var points []string
	mountinfo.Parse(b, func(e *mountinfo.Entry) bool {
		if e.Point == dir || strings.HasPrefix(e.Point, dir+"/") {
			points = append(points, e.Point)
		}
		return true
	})
	var errs []error
	for i := len(points) - 1; i >= 0; i-- {
		err := unix.Unmount(points[i], unix.MNT_DETACH)
		if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", points[i], err))
		}
	}
	return errors.Join(errs...)
}
