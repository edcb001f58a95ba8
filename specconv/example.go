package specconv

import (
	"os"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Example returns the config.json `berth spec` writes: a busybox-style
// interactive "sh" with runc's default confinement. With rootless it is
// adapted for an unprivileged caller, as runc's `spec --rootless` is:
//   - a user namespace maps the caller's euid/egid to root;
//   - no network namespace: an unprivileged one has only a loopback
//     device, so the host network is more useful;
//   - /sys is a read-only rbind of the host's (sysfs cannot be mounted
//     without owning the network namespace); it brings the host's
//     /sys/fs/cgroup along, so (unlike runc) no cgroup mount is added
//     on top of it. Its options are the recursive forms (rro...): plain
//     "ro" reaches only the top mount and would leave the host's cgroup
//     submounts writable (CVE-2023-25809);
//   - no uid=/gid= mount options (devpts's gid=5): the mapping holds
//     only the caller's ids;
//   - no linux.resources: the caller may not own a cgroup to write to.
func Example(rootless bool) (*specs.Spec, error) {
	defaultCaps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	s := &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: "rootfs", Readonly: true},
		Process: &specs.Process{
			Terminal: true,
			User:     specs.User{UID: 0, GID: 0},
			Args:     []string{"sh"},
			Env: []string{
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"TERM=xterm",
			},
			Cwd: "/",
			Capabilities: &specs.LinuxCapabilities{
				Bounding:  slices.Clone(defaultCaps),
				Effective: slices.Clone(defaultCaps),
				Permitted: slices.Clone(defaultCaps),
			},
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
			NoNewPrivileges: true,
		},
		Hostname: "berth",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs",
				Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts",
				Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm",
				Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue",
				Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs",
				Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup",
				Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
		},
		Linux: &specs.Linux{
			Resources: &specs.LinuxResources{
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			},
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace},
				{Type: specs.NetworkNamespace},
				{Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace},
				{Type: specs.MountNamespace},
				{Type: specs.CgroupNamespace},
			},
			MaskedPaths: []string{
				"/proc/acpi",
				"/proc/asound",
				"/proc/kcore",
				"/proc/keys",
				"/proc/latency_stats",
				"/proc/timer_list",
				"/proc/timer_stats",
				"/proc/sched_debug",
				"/sys/firmware",
				"/proc/scsi",
				"/sys/devices/virtual/powercap",
			},
			ReadonlyPaths: []string{
				"/proc/bus",
				"/proc/fs",
				"/proc/irq",
				"/proc/sys",
				"/proc/sysrq-trigger",
			},
		},
	}
	if rootless {
		makeRootless(s)
	}
	return s, nil
}

// DropNamespace removes every namespace of type t from s.
func DropNamespace(s *specs.Spec, t specs.LinuxNamespaceType) {
	s.Linux.Namespaces = slices.DeleteFunc(s.Linux.Namespaces, func(ns specs.LinuxNamespace) bool {
		return ns.Type == t
	})
}

func makeRootless(s *specs.Spec) {
	lx := s.Linux
	lx.Resources = nil
	lx.Namespaces = slices.DeleteFunc(lx.Namespaces, func(ns specs.LinuxNamespace) bool {
		return ns.Type == specs.NetworkNamespace || ns.Type == specs.UserNamespace
	})
	lx.Namespaces = append(lx.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	lx.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Geteuid()), Size: 1}}
	lx.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Getegid()), Size: 1}}

	mounts := s.Mounts[:0]
	for _, m := range s.Mounts {
		switch m.Destination {
		case "/sys":
			m = specs.Mount{Destination: "/sys", Type: "none", Source: "/sys",
				Options: []string{"rbind", "rnosuid", "rnoexec", "rnodev", "rro"}}
		case "/sys/fs/cgroup":
			continue
		}
		m.Options = slices.DeleteFunc(m.Options, func(o string) bool {
			return strings.HasPrefix(o, "uid=") || strings.HasPrefix(o, "gid=")
		})
		mounts = append(mounts, m)
	}
	s.Mounts = mounts
}
