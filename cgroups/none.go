package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// DriverNone is the driver of a container without a cgroup of its own
// (rootless with none delegated, or --cgroup-manager=disabled): it runs in
// berth's own cgroup.
const DriverNone = "none"

var _ Manager = noneManager{}

// errNoCgroup explains every operation that needs a cgroup.
func (m noneManager) errNoCgroup() error {
	if m.cfg.Disabled {
		return fmt.Errorf("the container has no cgroup (--cgroup-manager=disabled): %w", ErrNotSupported)
	}
	return fmt.Errorf("rootless container has no cgroup (none is delegated to uid %d): %w", os.Geteuid(), ErrNotSupported)
}

// noneManager manages nothing: as runc does for rootless containers,
// limits it cannot apply are errors (naming the field), and device rules
// are ignored (the container can only reach the host nodes its user may).
type noneManager struct{ cfg Config }

func (noneManager) Apply(int) error { return nil }

func (m noneManager) Set(r *specs.LinuxResources) error {
	if f := limitField(r); f != "" {
		return fmt.Errorf("linux.resources.%s: cannot set the limit: %w", f, m.errNoCgroup())
	}
	return nil
}

// limitField names the first field of r that asks for a limit.
func limitField(r *specs.LinuxResources) string {
	switch {
	case r == nil:
		return ""
	case r.Memory != nil && memoryAnySet(r.Memory):
		return "memory"
	case r.CPU != nil && (uint64Set(r.CPU.Shares) || int64Set(r.CPU.Quota) || uint64Set(r.CPU.Period) ||
		r.CPU.Burst != nil || int64Set(r.CPU.RealtimeRuntime) || uint64Set(r.CPU.RealtimePeriod) ||
		r.CPU.Idle != nil || r.CPU.Cpus != "" || r.CPU.Mems != ""):
		return "cpu"
	case r.Pids != nil && r.Pids.Limit != nil:
		return "pids"
	case r.BlockIO != nil && blkioAnySet(r.BlockIO):
		return "blockIO"
	case len(r.HugepageLimits) > 0:
		return "hugepageLimits"
	case r.Network != nil && (r.Network.ClassID != nil || len(r.Network.Priorities) > 0):
		return "network"
	case len(r.Rdma) > 0:
		return "rdma"
	case len(r.Unified) > 0:
		return "unified"
	}
	return ""
}

func (m noneManager) Pids() ([]int, error) {
	return nil, fmt.Errorf("list processes: %w", m.errNoCgroup())
}
func (m noneManager) Freeze() error       { return fmt.Errorf("freeze: %w", m.errNoCgroup()) }
func (m noneManager) Thaw() error         { return fmt.Errorf("thaw: %w", m.errNoCgroup()) }
func (noneManager) Frozen() (bool, error) { return false, nil }
func (noneManager) CheckUnused() error    { return nil } // the caller's cgroup: not the container's
func (m noneManager) Kill(int) error      { return fmt.Errorf("signal every process: %w", m.errNoCgroup()) }
func (m noneManager) Stats() (*Stats, error) {
	return nil, fmt.Errorf("stats: %w", m.errNoCgroup())
}
func (noneManager) Destroy() error { return nil }
func (m noneManager) State() State { return State{Driver: DriverNone, Config: m.cfg} }

// delegated reports whether the caller may use at least one of dirs: the
// directory, or the closest ancestor that exists (where it would be made),
// is writable by it. Only asked in rootless mode. access is unix.Access
// but for tests.
func delegated(dirs []string, access func(string, uint32) error) bool {
	for _, d := range dirs {
		for {
			err := access(d, unix.W_OK|unix.X_OK)
			if err == nil {
				return true
			}
			if !errors.Is(err, unix.ENOENT) {
				break
			}
			parent := filepath.Dir(d)
			if parent == d {
				break
			}
			d = parent
		}
	}
	return false
}
