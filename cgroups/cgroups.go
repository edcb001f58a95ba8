// Package cgroups puts containers into cgroups and applies their
// linux.resources. One Manager interface has three implementations:
// cgroupfs v1 (also used on hybrid hosts), cgroupfs v2 and systemd.
package cgroups

import (
	"errors"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ErrNotSupported is wrapped by errors for features the host lacks.
var ErrNotSupported = errors.New("not supported")

// Config says which cgroup a container gets.
type Config struct {
	// Path is linux.cgroupsPath: absolute ("/a/b"), relative ("a/b"), or for
	// the systemd driver "slice:prefix:name". Never empty (the caller
	// supplies berth's default for the container id).
	Path     string
	Systemd  bool
	Rootless bool
	// Disabled (--cgroup-manager=disabled): no cgroup of its own, as
	// crun's option; limits are then errors naming the field.
	Disabled bool
	// ID is the container id (the systemd driver names units after it).
	ID string
}

// Manager owns one container's cgroup.
type Manager interface {
	// CheckUnused, before a new container's Apply, refuses a cgroup
	// that exists with processes in it or frozen (ErrNotEmpty,
	// ErrFrozen): it is someone else's, and the create's rollback must
	// not destroy it.
	CheckUnused() error
	// Apply creates the cgroup (if needed) and moves pid into it.
	Apply(pid int) error
	// Set writes the resource limits. A value the host cannot honour fails
	// with an error naming the linux.resources field and the file.
	Set(r *specs.LinuxResources) error
	// Pids lists every process in the cgroup (and its descendants).
	Pids() ([]int, error)
	// Freeze and Thaw pause and resume every process in the cgroup.
	Freeze() error
	Thaw() error
	// Frozen reports whether the cgroup is frozen.
	Frozen() (bool, error)
	// Kill sends sig to every process of the cgroup.
	Kill(sig int) error
	// Stats reads usage counters.
	Stats() (*Stats, error)
	// Destroy kills what is left and removes the cgroup; removing a cgroup
	// that is already gone is not an error.
	Destroy() error
	// State is what berth saves in state.json to rebuild the manager
	// with Load in a later command.
	State() State
}

// State is the persisted form of a Manager.
type State struct {
	Driver string            `json:"driver"` // "v1", "v2" or "systemd"
	Paths  map[string]string `json:"paths"`  // controller (or "" on v2) -> directory
	Config Config            `json:"config"`
	Unit   string            `json:"unit,omitempty"` // systemd: the transient unit
	// UnitStarted: systemd accepted berth's start of Unit. A state saved
	// before that (create killed early) must not stop a unit of the same
	// name that another container owns.
	UnitStarted bool `json:"unitStarted,omitempty"`
}

// Stats is the subset of cgroup counters berth reports (runc's shapes).
type Stats struct {
	CPU     CPUStats                `json:"cpu"`
	Memory  MemoryStats             `json:"memory"`
	Pids    PidsStats               `json:"pids"`
	Blkio   BlkioStats              `json:"blkio"`
	Hugetlb map[string]HugetlbStats `json:"hugetlb,omitempty"`
}

type CPUStats struct {
	Usage      CPUUsage   `json:"usage"`
	Throttling Throttling `json:"throttling"`
}

type CPUUsage struct {
	Total  uint64   `json:"total,omitempty"`
	PerCPU []uint64 `json:"percpu,omitempty"`
	Kernel uint64   `json:"kernel"`
	User   uint64   `json:"user"`
}

type Throttling struct {
	Periods          uint64 `json:"periods,omitempty"`
	ThrottledPeriods uint64 `json:"throttledPeriods,omitempty"`
	ThrottledTime    uint64 `json:"throttledTime,omitempty"`
}

type MemoryEntry struct {
	Limit   uint64 `json:"limit"`
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

type MemoryStats struct {
	Cache     uint64            `json:"cache,omitempty"`
	Usage     MemoryEntry       `json:"usage,omitempty"`
	Swap      MemoryEntry       `json:"swap,omitempty"`
	Kernel    MemoryEntry       `json:"kernel,omitempty"`
	KernelTCP MemoryEntry       `json:"kernelTCP,omitempty"`
	Raw       map[string]uint64 `json:"raw,omitempty"`
}

type PidsStats struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

type BlkioEntry struct {
	Major uint64 `json:"major,omitempty"`
	Minor uint64 `json:"minor,omitempty"`
	Op    string `json:"op,omitempty"`
	Value uint64 `json:"value,omitempty"`
}

type BlkioStats struct {
	IoServiceBytesRecursive []BlkioEntry `json:"ioServiceBytesRecursive,omitempty"`
	IoServicedRecursive     []BlkioEntry `json:"ioServicedRecursive,omitempty"`
}

type HugetlbStats struct {
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}
