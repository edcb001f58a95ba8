package specconv

import (
	"strings"

	"github.com/berth-runtime/berth/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// msSuperblock are the MS_* options that change a filesystem instance,
// not a mount: a bind mount (a new view of an existing instance) cannot
// carry them, and the kernel would ignore them there.
const msSuperblock = unix.MS_SYNCHRONOUS | unix.MS_DIRSYNC | unix.MS_MANDLOCK |
	unix.MS_SILENT | unix.MS_I_VERSION | unix.MS_LAZYTIME

// checkOptionsApply refuses an option the mount kind cannot honour, so
// that none is dropped silently: tmpcopyup outside a tmpfs, and
// filesystem data or filesystem-instance flags on a bind mount.
func checkOptionsApply(f elem, sm *specs.Mount, m *configs.Mount) error {
	if m.CopyUp && (m.IsBind() || sm.Type != "tmpfs") {
		return fieldErr(f.at(".options"), "tmpcopyup: only a tmpfs mount can be filled from the rootfs (type %q)", sm.Type)
	}
	if m.IsBind() {
		// Filesystem data means nothing to a bind: the kernel ignores it.
		if m.Data != "" {
			return fieldErr(f.at(".options"), "%s: not a mount option berth knows, and a bind mount takes no filesystem options", m.Data)
		}
		if bad := (m.Flags | m.ClearedFlags) & msSuperblock; bad != 0 {
			return fieldErr(f.at(".options"), "%s: a bind mount cannot change the source filesystem's own flags (set them where the source is mounted)", optNames(sm.Options, bad))
		}
	}
	return nil
}

// optNames lists the options of opts whose MS_* bits are in mask.
func optNames(opts []string, mask uintptr) string {
	var names []string
	for _, o := range opts {
		d, ok := mountOpts[o]
		if ok && (d.kind == optSet || d.kind == optClear) && uintptr(d.val)&mask != 0 {
			names = append(names, o)
		}
	}
	return strings.Join(names, ",")
}
