package rootfs

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/configs"
)

// SourceMaker serves Env.MountSource: it runs in berth, outside the
// container's user namespace, on a thread in the container's mount
// namespace (an fd of a source must be on a mount of init's namespace).
type SourceMaker struct {
	cfg *configs.Config
	ns  usernsCache
}

// NewSourceMaker serves cfg's mounts; initProc is the /proc directory of
// the container's init, whose user namespace is the one "idmap" without
// mappings takes, unless userns (an fd of it the maker then owns) is
// given.
func NewSourceMaker(cfg *configs.Config, initProc string, userns int) *SourceMaker {
	s := &SourceMaker{cfg: cfg, ns: usernsCache{proc: initProc}}
	if userns >= 0 {
		s.ns.byMapping = map[string]int{containerUserns: userns}
	}
	return s
}

// Make returns, for cfg.Mounts[i], its detached tree with every
// attribute applied (tree, an id-mapped bind mount) or an O_PATH fd of
// its source. The caller owns the fd.
func (s *SourceMaker) Make(i int, tree bool) (int, error) {
	if i < 0 || i >= len(s.cfg.Mounts) || !s.cfg.Mounts[i].IsBind() {
		return -1, fmt.Errorf("mounts[%d]: not a bind mount", i)
	}
	m := &s.cfg.Mounts[i]
	src := bindSource(m, s.cfg.Bundle)
	if !tree {
		fd, err := unix.Open(src, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, fmt.Errorf("open %s: %w", src, err)
		}
		return fd, nil
	}
	if !m.IsIDMapped() {
		return -1, fmt.Errorf("mounts[%d]: not an id-mapped mount", i)
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, src, treeFlags(m))
	if err != nil {
		return -1, fmt.Errorf("open_tree: %w", err)
	}
	if err := applyAttrs(fd, m, &s.ns); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// Close releases the user namespaces made for the mappings.
func (s *SourceMaker) Close() { s.ns.close() }
