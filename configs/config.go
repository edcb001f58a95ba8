// Package configs holds berth's own container configuration: config.json
// after validation, with every string option already parsed into the
// numbers the kernel wants. specconv builds it in the parent; the parent
// sends it to `berth init` as JSON, so init never parses user text again.
package configs

import (
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/internal/rtnl"
)

// Config is a validated container configuration.
type Config struct {
	OCIVersion string `json:"ociVersion"`
	// Bundle and Rootfs are absolute host paths.
	Bundle   string `json:"bundle"`
	Rootfs   string `json:"rootfs"`
	Readonly bool   `json:"readonly,omitempty"`
	// NoPivot asks for chroot instead of pivot_root (--no-pivot).
	NoPivot bool `json:"noPivot,omitempty"`
	// NoNewKeyring keeps the caller's session keyring (--no-new-keyring).
	NoNewKeyring bool `json:"noNewKeyring,omitempty"`
	// RootPropagation holds MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE
	// (possibly with MS_REC) from linux.rootfsPropagation; 0 when unset.
	RootPropagation uintptr `json:"rootPropagation,omitempty"`

	Hostname   string `json:"hostname,omitempty"`
	Domainname string `json:"domainname,omitempty"`

	// Namespaces in config.json order. A namespace with a Path is joined,
	// one without is created.
	Namespaces  []Namespace                      `json:"namespaces,omitempty"`
	UIDMappings []specs.LinuxIDMapping           `json:"uidMappings,omitempty"`
	GIDMappings []specs.LinuxIDMapping           `json:"gidMappings,omitempty"`
	TimeOffsets map[string]specs.LinuxTimeOffset `json:"timeOffsets,omitempty"`

	Mounts        []Mount           `json:"mounts,omitempty"`
	Devices       []Device          `json:"devices,omitempty"`
	MaskedPaths   []string          `json:"maskedPaths,omitempty"`
	ReadonlyPaths []string          `json:"readonlyPaths,omitempty"`
	Sysctl        map[string]string `json:"sysctl,omitempty"`

	// Process is nil when config.json has no process (create then fails:
	// berth can only create containers that have one).
	Process *Process `json:"process,omitempty"`

	Hooks  *specs.Hooks `json:"hooks,omitempty"`
	Cgroup CgroupConfig `json:"cgroup"`
	// Seccomp, Personality and the LSM labels are applied by init; kept in
	// spec form because their own packages parse them.
	Seccomp     *specs.LinuxSeccomp     `json:"seccomp,omitempty"`
	Personality *specs.LinuxPersonality `json:"personality,omitempty"`
	MountLabel  string                  `json:"mountLabel,omitempty"`
	// MemoryPolicy is linux.memoryPolicy as set_mempolicy(2) takes it.
	MemoryPolicy *MemoryPolicy `json:"memoryPolicy,omitempty"`
	// NetDevices are host links moved into the container's network
	// namespace (linux.netDevices), sorted by host name.
	NetDevices []NetDevice `json:"netDevices,omitempty"`
	// IntelRdt is linux.intelRdt, checked (the parent applies it).
	IntelRdt *specs.LinuxIntelRdt `json:"intelRdt,omitempty"`

	Annotations map[string]string `json:"annotations,omitempty"`
}

// MemoryPolicy is the process's NUMA memory policy: set_mempolicy's mode
// with its MPOL_F_* flags, and the node mask (whole 64-bit words in host
// order; none for no nodes).
type MemoryPolicy struct {
	Mode  uint32 `json:"mode"`
	Nodes []byte `json:"nodes,omitempty"`
}

// NamespaceType is the OCI name of a namespace ("pid", "network", ...).
type NamespaceType string

const (
	NEWPID    NamespaceType = "pid"
	NEWNET    NamespaceType = "network"
	NEWNS     NamespaceType = "mount"
	NEWIPC    NamespaceType = "ipc"
	NEWUTS    NamespaceType = "uts"
	NEWUSER   NamespaceType = "user"
	NEWCGROUP NamespaceType = "cgroup"
	NEWTIME   NamespaceType = "time"
)

// Namespace is one entry of linux.namespaces.
type Namespace struct {
	Type NamespaceType `json:"type"`
	Path string        `json:"path,omitempty"`
}

// Has reports whether the config asks for the namespace type (new or joined).
func (c *Config) Has(t NamespaceType) bool {
	for _, ns := range c.Namespaces {
		if ns.Type == t {
			return true
		}
	}
	return false
}

// OwnsNamespace reports whether the container creates a namespace of type
// t (has one, not joined by path).
func (c *Config) OwnsNamespace(t NamespaceType) bool {
	return c.Has(t) && c.NamespacePath(t) == ""
}

// NamespacePath returns the path of a joined namespace, "" if created or absent.
func (c *Config) NamespacePath(t NamespaceType) string {
	for _, ns := range c.Namespaces {
		if ns.Type == t {
			return ns.Path
		}
	}
	return ""
}

// Mount is one entry of config.json mounts with its options parsed.
type Mount struct {
	Source      string `json:"source,omitempty"`
	Destination string `json:"destination"`
	Type        string `json:"type,omitempty"`
	// Flags are the MS_* flags for mount(2) (MS_BIND, MS_REC, MS_RDONLY...).
	Flags uintptr `json:"flags,omitempty"`
	// ClearedFlags are MS_* flags explicitly turned off ("rw", "suid"...),
	// needed to remount a bind mount without inheriting them.
	ClearedFlags uintptr `json:"clearedFlags,omitempty"`
	// PropagationFlags are applied one by one after the mount (MS_SHARED...).
	PropagationFlags []uintptr `json:"propagationFlags,omitempty"`
	// RecAttrSet/RecAttrClr are MOUNT_ATTR_* bits for mount_setattr(2)
	// with AT_RECURSIVE, from the recursive options ("rro", "rnosuid"...).
	RecAttrSet uint64 `json:"recAttrSet,omitempty"`
	RecAttrClr uint64 `json:"recAttrClr,omitempty"`
	// Data is the filesystem-specific option string ("mode=755,size=65536k").
	Data string `json:"data,omitempty"`
	// UIDMappings/GIDMappings ask for an id-mapped mount.
	UIDMappings []specs.LinuxIDMapping `json:"uidMappings,omitempty"`
	GIDMappings []specs.LinuxIDMapping `json:"gidMappings,omitempty"`
	// IDMapUserns asks for an id-mapped mount whose mapping is the
	// container's user namespace ("idmap" without mappings of its own).
	IDMapUserns bool `json:"idmapUserns,omitempty"`
	// IDMapRecursive ("ridmap") maps every mount of an rbind tree, not
	// only its top one.
	IDMapRecursive bool `json:"idmapRecursive,omitempty"`
	// CopyUp ("tmpcopyup") fills a new tmpfs with what the rootfs had at
	// the destination.
	CopyUp bool `json:"copyUp,omitempty"`
}

// IsBind reports whether the mount is a bind mount.
func (m *Mount) IsBind() bool { return m.Flags&0x1000 != 0 } // MS_BIND

// IsIDMapped reports whether the mount asks for an id mapping.
func (m *Mount) IsIDMapped() bool { return len(m.UIDMappings) > 0 || m.IDMapUserns }

// Device is a device node to create inside the container.
type Device struct {
	Path     string      `json:"path"`
	Type     rune        `json:"type"` // 'c', 'b', 'u' or 'p'
	Major    int64       `json:"major"`
	Minor    int64       `json:"minor"`
	FileMode os.FileMode `json:"fileMode"`
	UID      uint32      `json:"uid"`
	GID      uint32      `json:"gid"`
}

// Process is the container process, from config.json process.
type Process struct {
	Args            []string               `json:"args"`
	Env             []string               `json:"env,omitempty"`
	Cwd             string                 `json:"cwd"`
	Terminal        bool                   `json:"terminal,omitempty"`
	ConsoleSize     *specs.Box             `json:"consoleSize,omitempty"`
	UID             uint32                 `json:"uid"`
	GID             uint32                 `json:"gid"`
	AdditionalGids  []uint32               `json:"additionalGids,omitempty"`
	Umask           *uint32                `json:"umask,omitempty"`
	Capabilities    *Capabilities          `json:"capabilities,omitempty"`
	Rlimits         []Rlimit               `json:"rlimits,omitempty"`
	NoNewPrivileges bool                   `json:"noNewPrivileges,omitempty"`
	OOMScoreAdj     *int                   `json:"oomScoreAdj,omitempty"`
	ApparmorProfile string                 `json:"apparmorProfile,omitempty"`
	SelinuxLabel    string                 `json:"selinuxLabel,omitempty"`
	IOPriority      *specs.LinuxIOPriority `json:"ioPriority,omitempty"`
	Scheduler       *specs.Scheduler       `json:"scheduler,omitempty"`
	ExecCPUAffinity *specs.CPUAffinity     `json:"execCPUAffinity,omitempty"`
}

// Capabilities holds the five capability sets as capability numbers.
// A nil set and an empty set both mean "no capabilities".
type Capabilities struct {
	Bounding    []int `json:"bounding,omitempty"`
	Effective   []int `json:"effective,omitempty"`
	Inheritable []int `json:"inheritable,omitempty"`
	Permitted   []int `json:"permitted,omitempty"`
	Ambient     []int `json:"ambient,omitempty"`
}

// Rlimit is one process.rlimits entry with its RLIMIT_* number.
type Rlimit struct {
	Type int    `json:"type"`
	Hard uint64 `json:"hard"`
	Soft uint64 `json:"soft"`
}

// CgroupConfig says where the container's cgroup is and what it limits.
type CgroupConfig struct {
	// Path is linux.cgroupsPath, or berth's default for the id when unset.
	Path      string                `json:"path"`
	Systemd   bool                  `json:"systemd,omitempty"`
	Rootless  bool                  `json:"rootless,omitempty"`
	Disabled  bool                  `json:"disabled,omitempty"` // --cgroup-manager=disabled
	Resources *specs.LinuxResources `json:"resources,omitempty"`
}

// NetDevice is one entry of linux.netDevices. The parent fills Moved and
// Addrs when it moves the link; init then names it, gives it its
// addresses back and sets it up inside the container.
type NetDevice struct {
	HostName string `json:"hostName"`
	Name     string `json:"name"` // in the container; may hold %d
	// Moved is the link's name right after the move: Name, or a
	// placeholder init renames when Name is a %d template.
	Moved string      `json:"moved,omitempty"`
	Addrs []rtnl.Addr `json:"addrs,omitempty"`
}
