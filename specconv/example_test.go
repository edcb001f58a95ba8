package specconv

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func mountAt(s *specs.Spec, dest string) *specs.Mount {
	for i := range s.Mounts {
		if s.Mounts[i].Destination == dest {
			return &s.Mounts[i]
		}
	}
	return nil
}

func nsTypes(s *specs.Spec) []specs.LinuxNamespaceType {
	var out []specs.LinuxNamespaceType
	for _, ns := range s.Linux.Namespaces {
		out = append(out, ns.Type)
	}
	return out
}

func TestExample(t *testing.T) {
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	masked := []string{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
		"/sys/devices/virtual/powercap"}
	readonly := []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
	s, err := Example(false)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ok   bool
	}{
		{"ociVersion is the spec version", s.Version == specs.Version},
		{"process is an interactive sh", s.Process.Terminal && reflect.DeepEqual(s.Process.Args, []string{"sh"}) && s.Process.Cwd == "/"},
		{"process runs as root", s.Process.User.UID == 0 && s.Process.User.GID == 0},
		{"bounding caps", reflect.DeepEqual(s.Process.Capabilities.Bounding, caps)},
		{"effective caps", reflect.DeepEqual(s.Process.Capabilities.Effective, caps)},
		{"permitted caps", reflect.DeepEqual(s.Process.Capabilities.Permitted, caps)},
		{"no inheritable or ambient caps", s.Process.Capabilities.Inheritable == nil && s.Process.Capabilities.Ambient == nil},
		{"RLIMIT_NOFILE 1024", reflect.DeepEqual(s.Process.Rlimits, []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}})},
		{"noNewPrivileges", s.Process.NoNewPrivileges},
		{"read-only rootfs", s.Root.Path == "rootfs" && s.Root.Readonly},
		{"hostname berth", s.Hostname == "berth"},
		{"namespaces", reflect.DeepEqual(nsTypes(s), []specs.LinuxNamespaceType{"pid", "network", "ipc", "uts", "mount", "cgroup"})},
		{"no user namespace mappings", s.Linux.UIDMappings == nil && s.Linux.GIDMappings == nil},
		{"masked paths", reflect.DeepEqual(s.Linux.MaskedPaths, masked)},
		{"readonly paths", reflect.DeepEqual(s.Linux.ReadonlyPaths, readonly)},
		{"devices deny all", reflect.DeepEqual(s.Linux.Resources.Devices, []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}})},
		{"/proc", mountAt(s, "/proc") != nil && mountAt(s, "/proc").Type == "proc"},
		{"/dev tmpfs", mountAt(s, "/dev") != nil && mountAt(s, "/dev").Type == "tmpfs"},
		{"/dev/pts with gid=5", mountAt(s, "/dev/pts") != nil && slices.Contains(mountAt(s, "/dev/pts").Options, "gid=5")},
		{"/dev/shm tmpfs", mountAt(s, "/dev/shm") != nil && mountAt(s, "/dev/shm").Type == "tmpfs"},
		{"/dev/mqueue", mountAt(s, "/dev/mqueue") != nil && mountAt(s, "/dev/mqueue").Type == "mqueue"},
		{"/sys sysfs ro", mountAt(s, "/sys") != nil && mountAt(s, "/sys").Type == "sysfs" && slices.Contains(mountAt(s, "/sys").Options, "ro")},
		{"/sys/fs/cgroup ro", mountAt(s, "/sys/fs/cgroup") != nil && slices.Contains(mountAt(s, "/sys/fs/cgroup").Options, "ro")},
		{"seven mounts", len(s.Mounts) == 7},
	}
	for _, tc := range tests {
		if !tc.ok {
			t.Errorf("%s: not so", tc.name)
		}
	}
}

func TestExampleRootless(t *testing.T) {
	s, err := Example(true)
	if err != nil {
		t.Fatal(err)
	}
	sys := mountAt(s, "/sys")
	tests := []struct {
		name string
		ok   bool
	}{
		{"user namespace instead of network", reflect.DeepEqual(nsTypes(s), []specs.LinuxNamespaceType{"pid", "ipc", "uts", "mount", "cgroup", "user"})},
		{"no uid= or gid= option anywhere", !slices.ContainsFunc(s.Mounts, func(m specs.Mount) bool {
			return slices.ContainsFunc(m.Options, func(o string) bool { return strings.HasPrefix(o, "uid=") || strings.HasPrefix(o, "gid=") })
		})},
		{"uid mapping of the caller", reflect.DeepEqual(s.Linux.UIDMappings, []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Geteuid()), Size: 1}})},
		{"gid mapping of the caller", reflect.DeepEqual(s.Linux.GIDMappings, []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Getegid()), Size: 1}})},
		{"/sys is a read-only rbind", sys != nil && sys.Source == "/sys" && sys.Type == "none" &&
			reflect.DeepEqual(sys.Options, []string{"rbind", "rnosuid", "rnoexec", "rnodev", "rro"})},
		{"no cgroup mount (the /sys rbind has the host's)", mountAt(s, "/sys/fs/cgroup") == nil},
		{"six mounts", len(s.Mounts) == 6},
		{"devpts without gid=5", !slices.Contains(mountAt(s, "/dev/pts").Options, "gid=5")},
		{"no resources", s.Linux.Resources == nil},
		{"rest unchanged", s.Hostname == "berth" && s.Root.Readonly && len(s.Linux.MaskedPaths) == 11},
	}
	for _, tc := range tests {
		if !tc.ok {
			t.Errorf("%s: not so", tc.name)
		}
	}
}

// Example is written as config.json by `berth spec`; it must survive the
// JSON round trip unchanged and calls must not share slices.
func TestExampleRoundTripAndIndependence(t *testing.T) {
	for _, rootless := range []bool{false, true} {
		a, _ := Example(rootless)
		data, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var back specs.Spec
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, &back) {
			t.Errorf("rootless=%v: round trip changed the spec", rootless)
		}
		a.Process.Capabilities.Bounding[0] = "CAP_CHANGED"
		b, _ := Example(rootless)
		if b.Process.Capabilities.Bounding[0] == "CAP_CHANGED" || b.Process.Capabilities.Effective[0] == "CAP_CHANGED" {
			t.Errorf("rootless=%v: Example results share memory", rootless)
		}
	}
}

func TestDropNamespace(t *testing.T) {
	s, err := Example(false)
	if err != nil {
		t.Fatal(err)
	}
	DropNamespace(s, specs.CgroupNamespace)
	want := []specs.LinuxNamespaceType{"pid", "network", "ipc", "uts", "mount"}
	if got := nsTypes(s); !reflect.DeepEqual(got, want) {
		t.Errorf("namespaces %v, want %v", got, want)
	}
}
