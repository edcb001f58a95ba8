// Package rootfs builds a container's root filesystem from inside its
// mount namespace: the configured mounts, device nodes and /dev symlinks,
// pivot_root (or chroot), then masked and read-only paths.
//
// Every path inside the rootfs is resolved by the kernel with the rootfs
// as its root (openat2 RESOLVE_IN_ROOT), missing directories are created
// relative to already-verified directory fds, and mounts are made onto
// the opened fd (move_mount, or mount(2) on /proc/self/fd/N), so a
// symlink planted in the rootfs can never redirect a mount to the host.
package rootfs

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/berth-runtime/berth/configs"
	"golang.org/x/sys/unix"
)

// Env says where Prepare runs: in init itself (the zero Env), or on a
// thread of berth that joined init's namespaces.
type Env struct {
	// Proc is the /proc directory of the container's init ("/proc/self"
	// when empty): the source of its cgroup membership and mount table.
	Proc string
	// ProcMounts are detached procfs mounts made by init in its pid
	// namespace, one per "proc" mount of the config, in order: a thread
	// of berth is not in that pid namespace, so it cannot make them.
	ProcMounts []int
	// OutsidePidNS: the caller is not in the container's pid namespace; a
	// procfs it made itself would show the host's processes.
	OutsidePidNS bool
	// MountSource, when set, is berth outside the container's user
	// namespace, asked for what init cannot make inside it: for mounts[i]
	// id-mapped (tree), its detached tree with every attribute applied;
	// otherwise an O_PATH fd of a bind source init may not reach.
	MountSource func(i int, tree bool) (int, error)
}

// preparer carries the state of one Prepare call.
type preparer struct {
	cfg    *configs.Config
	env    Env
	rootFd int // O_PATH fd of the rootfs bind mount
	// devTop is the root fd of a config mount on /dev that asked for ro:
	// it is mounted rw and made ro once the devices exist.
	devTop int
	idx    int         // index of the mount being made
	ns     usernsCache // for the id-mapped mounts made here
}

// Prepare runs before pivot_root inside the container's mount namespace:
// it sets the propagation of the mount tree, bind-mounts the rootfs on
// itself, performs cfg.Mounts in order, then creates the devices, the
// /dev symlinks and the /dev/console placeholder.
func Prepare(cfg *configs.Config) error {
	return PrepareIn(cfg, Env{})
}

// PrepareIn is Prepare for the process or thread that env describes.
func PrepareIn(cfg *configs.Config, env Env) error {
	if env.Proc == "" {
		env.Proc = "/proc/self"
	}
	if !filepath.IsAbs(cfg.Rootfs) {
		return fmt.Errorf("rootfs %q: must be an absolute path", cfg.Rootfs)
	}
	newNS := cfg.Has(configs.NEWNS)
	if newNS {
		if err := prepareRoot(cfg); err != nil {
			return err
		}
	} else if cfg.Readonly {
		// The host's mount namespace: a bind of the rootfs on itself is
		// what Finalize makes read-only, never the filesystem below it.
		if err := unix.Mount(cfg.Rootfs, cfg.Rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("root.readonly: bind rootfs %s on itself: %w", cfg.Rootfs, err)
		}
	}
	// Without a mount namespace the mounts land in the caller's namespace,
	// below the rootfs, as the config asks (runc does the same); delete
	// unmounts them.
	rootFd, err := unix.Open(cfg.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open rootfs %s: %w", cfg.Rootfs, err)
	}
	p := &preparer{cfg: cfg, env: env, rootFd: rootFd, devTop: -1, ns: usernsCache{proc: env.Proc}}
	defer p.close()

	for i := range cfg.Mounts {
		p.idx = i
		if err := p.mount(&cfg.Mounts[i]); err != nil {
			return fmt.Errorf("mounts[%d]: %w%s", i, err, userNSHint(cfg, &cfg.Mounts[i], err))
		}
	}
	if !bindsDev(cfg) {
		if err := p.setupDev(); err != nil {
			return err
		}
		if cfg.Process != nil && cfg.Process.Terminal {
			if err := p.consolePlaceholder(); err != nil {
				return err
			}
		}
	}
	if p.devTop >= 0 {
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		if err := setattr(p.devTop, false, &attr, "/dev ro"); err != nil {
			return err
		}
	}
	return nil
}

func (p *preparer) close() {
	p.ns.close()
	unix.Close(p.rootFd)
	if p.devTop >= 0 {
		unix.Close(p.devTop)
	}
}

// prepareRoot sets the propagation of the whole tree (rslave by default,
// so no mount made here reaches the host) and makes the rootfs a mount
// point, which pivot_root requires.
func prepareRoot(cfg *configs.Config) error {
	flags := uintptr(unix.MS_SLAVE | unix.MS_REC)
	if cfg.RootPropagation != 0 {
		flags = cfg.RootPropagation
	}
	if err := unix.Mount("", "/", "", flags, ""); err != nil {
		return fmt.Errorf("set propagation of /: mount: %w", err)
	}
	if flags&(unix.MS_SHARED|unix.MS_UNBINDABLE) != 0 {
		// A shared parent makes pivot_root fail and an unbindable one
		// makes the bind below fail: make just that one mount private.
		if err := makeParentPrivate(cfg.Rootfs); err != nil {
			return err
		}
	}
	if err := unix.Mount(cfg.Rootfs, cfg.Rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind rootfs %s on itself: %w", cfg.Rootfs, err)
	}
	return nil
}

// makeParentPrivate makes the mount containing dir private. Walking up
// while the mount id stays the same finds its mount point without
// parsing mountinfo.
func makeParentPrivate(dir string) error {
	id, err := pathMountID(dir)
	if err != nil {
		return err
	}
	cur := filepath.Clean(dir)
	for cur != "/" {
		parent := filepath.Dir(cur)
		pid, err := pathMountID(parent)
		if err != nil {
			return err
		}
		if pid != id {
			break
		}
		cur = parent
	}
	if err := unix.Mount("", cur, "", unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make %s private: %w", cur, err)
	}
	return nil
}

func pathMountID(p string) (uint64, error) {
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, p, unix.AT_SYMLINK_NOFOLLOW|unix.AT_STATX_DONT_SYNC, unix.STATX_MNT_ID, &stx); err != nil {
		return 0, fmt.Errorf("statx %s: %w", p, err)
	}
	return stx.Mnt_id, nil
}

// bindsDev reports whether the config bind-mounts /dev, in which case the
// container brings its own device nodes.
func bindsDev(cfg *configs.Config) bool {
	for i := range cfg.Mounts {
		if cfg.Mounts[i].IsBind() && filepath.Clean(cfg.Mounts[i].Destination) == "/dev" {
			return true
		}
	}
	return false
}

func (p *preparer) mount(m *configs.Mount) error {
	switch {
	case m.IsBind():
		return p.bind(m)
	case m.Type == "cgroup":
		return p.cgroup(m)
	case m.Type == "proc" && p.env.OutsidePidNS:
		if len(p.env.ProcMounts) == 0 {
			return fmt.Errorf("mount proc on %s: no procfs made by init left", m.Destination)
		}
		fd := p.env.ProcMounts[0]
		p.env.ProcMounts = p.env.ProcMounts[1:]
		return p.attachDetached(fd, m)
	default:
		return p.fsMount(m, m.Type, m.Source, m.Data)
	}
}

// bind clones the source tree detached (open_tree), applies the mount
// attributes to the clone before anyone can see it, then attaches it to
// the destination fd. No remount step, no window where it is writable.
func (p *preparer) bind(m *configs.Mount) error {
	src := bindSource(m, p.cfg.Bundle)
	tree, err := p.bindTree(m, src)
	if err != nil {
		return fmt.Errorf("bind %s on %s: %w", src, m.Destination, err)
	}
	defer unix.Close(tree)
	var st unix.Stat_t
	if err := unix.Fstat(tree, &st); err != nil {
		return fmt.Errorf("bind %s on %s: fstat: %w", src, m.Destination, err)
	}
	return p.attach(tree, m.Destination, "", st.Mode&unix.S_IFMT != unix.S_IFDIR, m.PropagationFlags, func() (bool, error) {
		return isProcfs(tree, src)
	})
}

// bindTree returns the detached tree of bind mount m, its attributes
// applied. In a user namespace berth makes id-mapped trees (only the
// initial namespace may map a host filesystem's ids) and opens the
// sources init may not reach (a 0700 directory of another owner).
func (p *preparer) bindTree(m *configs.Mount, src string) (int, error) {
	// berth rebuilds mounts[idx] from the config: only for that mount, not
	// for one made up here (the cgroup2 fallback).
	ask := p.env.MountSource != nil && p.idx < len(p.cfg.Mounts) && m == &p.cfg.Mounts[p.idx]
	if m.IsIDMapped() && ask {
		return p.env.MountSource(p.idx, true)
	}
	tree, err := unix.OpenTree(unix.AT_FDCWD, src, treeFlags(m))
	if errors.Is(err, unix.EACCES) && ask {
		var fd int
		if fd, err = p.env.MountSource(p.idx, false); err != nil {
			return -1, err
		}
		tree, err = unix.OpenTree(fd, "", treeFlags(m)|unix.AT_EMPTY_PATH)
		unix.Close(fd)
		if err != nil {
			return -1, fmt.Errorf("open_tree of the source berth opened: %w", err)
		}
	}
	if err != nil {
		return -1, fmt.Errorf("open_tree: %w", err)
	}
	if err := applyAttrs(tree, m, &p.ns); err != nil {
		unix.Close(tree)
		return -1, err
	}
	return tree, nil
}

func treeFlags(m *configs.Mount) uint {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if m.Flags&unix.MS_REC != 0 {
		flags |= unix.AT_RECURSIVE
	}
	return flags
}

// bindSource is the host path of a bind mount's source (relative ones
// are relative to the bundle).
func bindSource(m *configs.Mount, bundle string) string {
	if filepath.IsAbs(m.Source) {
		return m.Source
	}
	return filepath.Join(bundle, m.Source)
}

// applyAttrs sets the per-mount flags, the recursive attributes and the
// id mapping on a detached tree.
func applyAttrs(tree int, m *configs.Mount, ns *usernsCache) error {
	if err := setBindFlags(tree, m.Flags, m.ClearedFlags, "flags"); err != nil {
		return err
	}
	set, clr := m.RecAttrSet, m.RecAttrClr
	if set|clr != 0 {
		if (set|clr)&unix.MOUNT_ATTR__ATIME != 0 {
			clr |= unix.MOUNT_ATTR__ATIME
		}
		if err := setattr(tree, true, &unix.MountAttr{Attr_set: set, Attr_clr: clr}, "recursive flags"); err != nil {
			return err
		}
	}
	if m.IsIDMapped() {
		return idmapTree(tree, m, ns)
	}
	return nil
}

// attachDetached attaches a filesystem made elsewhere (a procfs made by
// init) with the mount's flags as mount attributes.
func (p *preparer) attachDetached(tree int, m *configs.Mount) error {
	if m.IsIDMapped() {
		return fmt.Errorf("mount %s on %s: id-mapped mounts: %w (only bind mounts)", m.Type, m.Destination, unix.EOPNOTSUPP)
	}
	if err := applyAttrs(tree, m, &p.ns); err != nil {
		return fmt.Errorf("mount %s on %s: %w", m.Type, m.Destination, err)
	}
	return p.attach(tree, m.Destination, m.Type, false, m.PropagationFlags, isProcMount)
}

// attach moves a detached tree onto dest inside the root, creating dest
// (a file when file is set), then applies the propagation flags. procfs
// tells whether the tree is a procfs (asked only for /proc and below);
// fstype is the filesystem of a new mount ("" for a bind).
func (p *preparer) attach(tree int, dest, fstype string, file bool, props []uintptr, procfs func() (bool, error)) error {
	l, err := resolveDest(p.rootFd, dest, fstype)
	if err != nil {
		return err
	}
	defer l.close()
	if err := p.checkProcLeaf(dest, l, procfs); err != nil {
		return err
	}
	dstFd, err := l.ensure(file)
	if err != nil {
		return err
	}
	defer unix.Close(dstFd)
	if err := unix.MoveMount(tree, "", dstFd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount on %s: %w", dest, err)
	}
	return setPropagation(tree, props, dest)
}

// fsMount mounts a new filesystem instance on dest with mount(2), since
// the data string is only understood by the legacy interface. The target
// is the opened destination's /proc/self/fd path.
func (p *preparer) fsMount(m *configs.Mount, fstype, source, data string) error {
	_, err := p.fsMountTop(m, fstype, source, data, false)
	return err
}

// fsMountTop is fsMount that, with wantTop, also returns an O_PATH fd of
// the root of the new mount.
func (p *preparer) fsMountTop(m *configs.Mount, fstype, source, data string, wantTop bool) (int, error) {
	if m.IsIDMapped() {
		return -1, fmt.Errorf("mount %s on %s: id-mapped mounts: %w (only bind mounts)", fstype, m.Destination, unix.EOPNOTSUPP)
	}
	l, err := resolveDest(p.rootFd, m.Destination, fstype)
	if err != nil {
		return -1, err
	}
	defer l.close()
	isProc := func() (bool, error) { return fstype == "proc", nil }
	if err := p.checkProcLeaf(m.Destination, l, isProc); err != nil {
		return -1, err
	}
	existed := l.exists
	dstFd, err := l.ensure(false)
	if err != nil {
		return -1, err
	}
	defer unix.Close(dstFd)
	if fstype == "tmpfs" && existed {
		data = inheritMode(l.perm, data)
	}
	copyUp := -1
	if m.CopyUp && existed {
		// Opened before the mount hides the directory's contents.
		if copyUp, err = unix.Openat(dstFd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			return -1, fmt.Errorf("tmpcopyup %s: open: %w", m.Destination, err)
		}
		defer unix.Close(copyUp)
	}

	flags := flagsFromAttrs(m.RecAttrSet, m.RecAttrClr, m.Flags&^msPropagation)
	devRO := l.rel == "dev" && flags&unix.MS_RDONLY != 0
	// A read-only tmpfs to fill is made ro once it is filled.
	copyRO := copyUp >= 0 && flags&unix.MS_RDONLY != 0
	if devRO || copyRO {
		flags &^= unix.MS_RDONLY
	}
	if err := unix.Mount(source, procFd(dstFd), fstype, flags, data); err != nil {
		return -1, fmt.Errorf("mount %s on %s: %w", fstype, m.Destination, err)
	}
	if len(m.PropagationFlags) == 0 && !devRO && copyUp < 0 && !wantTop {
		return -1, nil
	}
	top, err := mountTop(l, dstFd)
	if err != nil {
		return -1, err
	}
	if copyUp >= 0 {
		if err := fillCopyUp(copyUp, top, m.Destination, copyRO); err != nil {
			unix.Close(top)
			return -1, err
		}
	}
	if devRO {
		if p.devTop >= 0 {
			unix.Close(p.devTop)
		}
		if p.devTop, err = dupCloexec(top); err != nil {
			p.devTop = -1
			unix.Close(top)
			return -1, fmt.Errorf("dup /dev mount fd: %w", err)
		}
	}
	if err := setPropagation(top, m.PropagationFlags, m.Destination); err != nil {
		unix.Close(top)
		return -1, err
	}
	if !wantTop {
		unix.Close(top)
		return -1, nil
	}
	return top, nil
}

// resolveDest resolves a mount's destination, creating what is missing.
// A procfs or sysfs goes on an ordinary directory only, never through a
// symlink (as runc): what the kernel and berth trust there must be at
// the path the config names.
func resolveDest(rootFd int, dest, fstype string) (*leaf, error) {
	what := "mount on " + dest
	if fstype != "" {
		what = "mount " + fstype + " on " + dest
	}
	pseudo := fstype == "proc" || fstype == "sysfs"
	l, err := resolveLeaf(rootFd, dest, true, !pseudo)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if pseudo && l.exists && l.mode != unix.S_IFDIR {
		kind := "not a directory"
		if l.mode == unix.S_IFLNK {
			kind = "a symlink"
			if target, err := readlinkat(l.dirFd, l.name); err == nil {
				kind += " to " + target
			}
		}
		l.close()
		return nil, fmt.Errorf("%s: must be mounted on ordinary directory: /%s is %s", what, l.rel, kind)
	}
	return l, nil
}

// mountTop opens the mount just made on the leaf. The name is looked up
// again in the verified parent (no symlinks allowed), which crosses into
// the new mount; the mount id check proves it is not the old directory.
func mountTop(l *leaf, under int) (int, error) {
	fd, err := l.open()
	if err != nil {
		return -1, err
	}
	newID, err1 := mountID(fd)
	oldID, err2 := mountID(under)
	if err := errors.Join(err1, err2); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("statx /%s: %w", l.rel, err)
	}
	if newID == oldID {
		unix.Close(fd)
		return -1, fmt.Errorf("mount on /%s: new mount not found there", l.rel)
	}
	return fd, nil
}
