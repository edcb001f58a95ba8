package rootfs

import (
	"errors"

	"github.com/berth-runtime/berth/configs"
	"golang.org/x/sys/unix"
)

// userNSHint says why a mount a user namespace may not make failed, for
// the ones rootless configs commonly trip on.
func userNSHint(cfg *configs.Config, m *configs.Mount, err error) string {
	if !cfg.Has(configs.NEWUSER) || !errors.Is(err, unix.EPERM) {
		return ""
	}
	switch {
	case m.Type == "sysfs" && !cfg.Has(configs.NEWNET):
		return " (a user namespace may mount sysfs only with its own network namespace: bind /sys instead, as `berth spec --rootless` does)"
	case !m.IsBind():
		return " (not permitted in a user namespace)"
	}
	return ""
}
