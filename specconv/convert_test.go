package specconv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/berth-runtime/berth/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// newBundle makes a bundle directory with an empty rootfs.
func newBundle(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// validSpec is the default `berth spec` config, which Convert accepts.
func validSpec(t testing.TB) *specs.Spec {
	t.Helper()
	s, err := Example(false)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// withUserns adds a user namespace mapping container ids 0-65535.
func withUserns(s *specs.Spec) {
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
}

func withoutNS(s *specs.Spec, t specs.LinuxNamespaceType) {
	var out []specs.LinuxNamespace
	for _, ns := range s.Linux.Namespaces {
		if ns.Type != t {
			out = append(out, ns)
		}
	}
	s.Linux.Namespaces = out
}

func TestConvertErrors(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(s *specs.Spec, o *Options, bundle string)
		field string // the error must start with "<field>: "
		msg   string // and contain this
	}{
		// ociVersion
		{"ociVersion missing", func(s *specs.Spec, _ *Options, _ string) { s.Version = "" },
			"ociVersion", "missing"},
		{"ociVersion major 2", func(s *specs.Spec, _ *Options, _ string) { s.Version = "2.0.0" },
			"ociVersion", `"2.0.0" is not supported (berth supports 1.0.0 to ` + specs.Version + ")"},
		{"ociVersion newer minor", func(s *specs.Spec, _ *Options, _ string) {
			s.Version = fmt.Sprintf("1.%d.0", specs.VersionMinor+1)
		}, "ociVersion", "is not supported"},
		{"ociVersion major 0", func(s *specs.Spec, _ *Options, _ string) { s.Version = "0.5.0" },
			"ociVersion", "is not supported"},
		{"ociVersion two parts", func(s *specs.Spec, _ *Options, _ string) { s.Version = "1.0" },
			"ociVersion", "not a valid semantic version"},
		{"ociVersion leading zero", func(s *specs.Spec, _ *Options, _ string) { s.Version = "1.01.0" },
			"ociVersion", "not a valid semantic version"},
		{"ociVersion empty prerelease", func(s *specs.Spec, _ *Options, _ string) { s.Version = "1.0.0-" },
			"ociVersion", "not a valid semantic version"},
		{"ociVersion bad build", func(s *specs.Spec, _ *Options, _ string) { s.Version = "1.0.0+a_b" },
			"ociVersion", "not a valid semantic version"},

		{"bundle relative", func(_ *specs.Spec, o *Options, _ string) { o.Bundle = "bundle" },
			"bundle", "is not an absolute path"},

		// root
		{"root missing", func(s *specs.Spec, _ *Options, _ string) { s.Root = nil },
			"root.path", "missing"},
		{"root.path empty", func(s *specs.Spec, _ *Options, _ string) { s.Root.Path = "" },
			"root.path", "missing"},
		{"root.path does not exist", func(s *specs.Spec, _ *Options, _ string) { s.Root.Path = "nope" },
			"root.path", "no such file or directory"},
		{"root.path is a file", func(s *specs.Spec, _ *Options, b string) {
			os.WriteFile(filepath.Join(b, "file"), nil, 0o644)
			s.Root.Path = "file"
		}, "root.path", "is not a directory"},

		// process
		{"process missing", func(s *specs.Spec, _ *Options, _ string) { s.Process = nil },
			"process", "missing"},
		{"args missing", func(s *specs.Spec, _ *Options, _ string) { s.Process.Args = nil },
			"process.args", "missing"},
		{"args[0] empty", func(s *specs.Spec, _ *Options, _ string) { s.Process.Args = []string{""} },
			"process.args[0]", "empty"},
		{"args NUL", func(s *specs.Spec, _ *Options, _ string) { s.Process.Args = []string{"sh", "a\x00b"} },
			"process.args[1]", "NUL"},
		{"cwd missing", func(s *specs.Spec, _ *Options, _ string) { s.Process.Cwd = "" },
			"process.cwd", "missing"},
		{"cwd relative", func(s *specs.Spec, _ *Options, _ string) { s.Process.Cwd = "tmp" },
			"process.cwd", `"tmp" is not an absolute path`},
		{"env without =", func(s *specs.Spec, _ *Options, _ string) { s.Process.Env = append(s.Process.Env, "FOO") },
			"process.env[2]", `"FOO" is not in KEY=value form`},
		{"env empty key", func(s *specs.Spec, _ *Options, _ string) { s.Process.Env = []string{"=x"} },
			"process.env[0]", "KEY=value"},
		{"umask too big", func(s *specs.Spec, _ *Options, _ string) { s.Process.User.Umask = new(uint32(0o1000)) },
			"process.user.umask", "not a valid umask"},
		{"uid not mapped", func(s *specs.Spec, _ *Options, _ string) { withUserns(s); s.Process.User.UID = 70000 },
			"process.user.uid", "70000 is not mapped"},
		{"gid not mapped", func(s *specs.Spec, _ *Options, _ string) { withUserns(s); s.Process.User.GID = 70000 },
			"process.user.gid", "not mapped"},
		{"additional gid not mapped", func(s *specs.Spec, _ *Options, _ string) {
			withUserns(s)
			s.Process.User.AdditionalGids = []uint32{1, 70000}
		}, "process.user.additionalGids[1]", "not mapped"},
		{"unknown rlimit", func(s *specs.Spec, _ *Options, _ string) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_FOO"}}
		}, "process.rlimits[0].type", `unknown rlimit "RLIMIT_FOO"`},
		{"duplicate rlimit", func(s *specs.Spec, _ *Options, _ string) {
			s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Hard: 1, Soft: 1})
		}, "process.rlimits[1].type", "duplicate rlimit"},
		{"rlimit soft above hard", func(s *specs.Spec, _ *Options, _ string) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_CORE", Hard: 1, Soft: 2}}
		}, "process.rlimits[0].soft", "greater than hard"},
		{"oomScoreAdj too big", func(s *specs.Spec, _ *Options, _ string) { s.Process.OOMScoreAdj = new(1001) },
			"process.oomScoreAdj", "out of range"},
		{"oomScoreAdj too small", func(s *specs.Spec, _ *Options, _ string) { s.Process.OOMScoreAdj = new(-1001) },
			"process.oomScoreAdj", "out of range"},
		{"ioPriority class", func(s *specs.Spec, _ *Options, _ string) {
			s.Process.IOPriority = &specs.LinuxIOPriority{Class: "IOPRIO_CLASS_FOO"}
		}, "process.ioPriority.class", "unknown class"},
		{"ioPriority priority", func(s *specs.Spec, _ *Options, _ string) {
			s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 8}
		}, "process.ioPriority.priority", "out of range"},
		{"scheduler policy", func(s *specs.Spec, _ *Options, _ string) {
			s.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_FOO"}
		}, "process.scheduler.policy", "unknown policy"},
		{"scheduler nice", func(s *specs.Spec, _ *Options, _ string) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Nice: 20}
		}, "process.scheduler.nice", "out of range"},
		{"scheduler flag", func(s *specs.Spec, _ *Options, _ string) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Flags: []specs.LinuxSchedulerFlag{"SCHED_FLAG_FOO"}}
		}, "process.scheduler.flags[0]", "unknown flag"},
		{"execCPUAffinity initial range backwards", func(s *specs.Spec, _ *Options, _ string) {
			s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "3-1"}
		}, "process.execCPUAffinity.initial", "cpu list"},
		{"execCPUAffinity final garbage", func(s *specs.Spec, _ *Options, _ string) {
			s.Process.ExecCPUAffinity = &specs.CPUAffinity{Final: "0,,1"}
		}, "process.execCPUAffinity.final", "cpu list"},

		// hostname, domainname
		{"hostname without uts", func(s *specs.Spec, _ *Options, _ string) { withoutNS(s, specs.UTSNamespace) },
			"hostname", "requires a uts namespace"},
		{"domainname without uts", func(s *specs.Spec, _ *Options, _ string) {
			s.Hostname = ""
			s.Domainname = "example.org"
			withoutNS(s, specs.UTSNamespace)
		}, "domainname", "requires a uts namespace"},
		{"hostname too long", func(s *specs.Spec, _ *Options, _ string) { s.Hostname = strings.Repeat("h", 65) },
			"hostname", "at most 64"},

		// namespaces and mappings
		{"unknown namespace", func(s *specs.Spec, _ *Options, _ string) { s.Linux.Namespaces[2].Type = "foo" },
			"linux.namespaces[2].type", `unknown namespace type "foo"`},
		{"duplicate namespace", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace, Path: "/proc/1/ns/pid"})
		}, "linux.namespaces[6].type", `duplicate namespace type "pid"`},
		{"namespace path relative", func(s *specs.Spec, _ *Options, _ string) { s.Linux.Namespaces[0].Path = "proc/1/ns/pid" },
			"linux.namespaces[0].path", "is not an absolute path"},
		{"uidMappings without user namespace", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
		}, "linux.uidMappings", "need linux.namespaces user"},
		{"gidMappings without user namespace", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
		}, "linux.gidMappings", "need linux.namespaces user"},
		{"new user namespace without uid mappings", func(s *specs.Spec, _ *Options, _ string) {
			withUserns(s)
			s.Linux.UIDMappings = nil
		}, "linux.uidMappings", "missing"},
		{"new user namespace without gid mappings", func(s *specs.Spec, _ *Options, _ string) {
			withUserns(s)
			s.Linux.GIDMappings = nil
		}, "linux.gidMappings", "missing"},
		{"mapping of size 0", func(s *specs.Spec, _ *Options, _ string) { withUserns(s); s.Linux.UIDMappings[0].Size = 0 },
			"linux.uidMappings[0].size", "greater than 0"},
		{"mapping past 2^32 in the container", func(s *specs.Spec, _ *Options, _ string) {
			withUserns(s)
			s.Linux.UIDMappings[0].ContainerID = 4294967295
		}, "linux.uidMappings[0]", "beyond the 32-bit id range"},
		{"mapping past 2^32 on the host", func(s *specs.Spec, _ *Options, _ string) {
			withUserns(s)
			s.Linux.GIDMappings[0].HostID = 4294967295
		}, "linux.gidMappings[0]", "beyond the 32-bit id range"},
		{"overlapping container ranges", func(s *specs.Spec, _ *Options, _ string) {
			withUserns(s)
			s.Linux.GIDMappings = append(s.Linux.GIDMappings, specs.LinuxIDMapping{ContainerID: 65535, HostID: 500000, Size: 2})
		}, "linux.gidMappings[1]", "container range overlaps linux.gidMappings[0]"},
		{"overlapping host ranges", func(s *specs.Spec, _ *Options, _ string) {
			withUserns(s)
			s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 70000, HostID: 100001, Size: 1})
		}, "linux.uidMappings[1]", "host range overlaps"},
		{"too many mappings", func(s *specs.Spec, _ *Options, _ string) {
			withUserns(s)
			for i := uint32(1); i <= 340; i++ {
				s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 100000 + i, HostID: 200000 + i, Size: 1})
			}
		}, "linux.uidMappings", "at most 340"},
		{"timeOffsets without time namespace", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
		}, "linux.timeOffsets", "need linux.namespaces time"},
		{"timeOffsets with a joined time namespace", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace, Path: "/proc/1/ns/time"})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
		}, "linux.timeOffsets", "without a path"},
		{"timeOffsets unknown clock", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {}, "realtime": {Secs: 1}}
		}, `linux.timeOffsets["realtime"]`, "unknown clock"},
		{"timeOffsets nanosecs", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Nanosecs: 1e9}}
		}, `linux.timeOffsets["boottime"].nanosecs`, "not less than 1000000000"},

		// mounts
		{"mount destination missing", func(s *specs.Spec, _ *Options, _ string) { s.Mounts[0].Destination = "" },
			"mounts[0].destination", "missing"},
		{"mount empty option", func(s *specs.Spec, _ *Options, _ string) { s.Mounts[3].Options[1] = "" },
			"mounts[3].options[1]", "empty mount option"},
		{"mount option with NUL", func(s *specs.Spec, _ *Options, _ string) { s.Mounts[1].Options[0] = "a\x00" },
			"mounts[1].options[0]", "NUL"},
		{"bind mount without source", func(s *specs.Spec, _ *Options, _ string) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Options: []string{"rbind"}})
		}, "mounts[7].source", "missing"},
		{"non-bind mount without type", func(s *specs.Spec, _ *Options, _ string) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Source: "tmpfs", Options: []string{"nosuid"}})
		}, "mounts[7].type", "missing"},
		{"mount uidMappings without gidMappings", func(s *specs.Spec, _ *Options, _ string) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Source: "/srv", Options: []string{"bind", "idmap"},
				UIDMappings: []specs.LinuxIDMapping{{HostID: 1, Size: 1}}})
		}, "mounts[7].gidMappings", "missing"},
		{"mount gidMappings without uidMappings", func(s *specs.Spec, _ *Options, _ string) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Source: "/srv", Options: []string{"bind", "idmap"},
				GIDMappings: []specs.LinuxIDMapping{{HostID: 1, Size: 1}}})
		}, "mounts[7].uidMappings", "missing"},
		{"idmap on a non-bind mount", func(s *specs.Spec, _ *Options, _ string) {
			withUserns(s)
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "tmpfs", Source: "tmpfs", Options: []string{"idmap"}})
		}, "mounts[7].options", "must be bind mounts"},
		{"idmap without any mapping", func(s *specs.Spec, _ *Options, _ string) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Source: "/srv", Options: []string{"rbind", "ridmap"}})
		}, "mounts[7].options", "idmap without uidMappings and gidMappings on the mount needs a user namespace"},
		{"mount mapping of size 0", func(s *specs.Spec, _ *Options, _ string) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Source: "/srv", Options: []string{"bind", "idmap"},
				UIDMappings: []specs.LinuxIDMapping{{HostID: 1}}, GIDMappings: []specs.LinuxIDMapping{{HostID: 1, Size: 1}}})
		}, "mounts[7].uidMappings[0].size", "greater than 0"},

		// devices
		{"device path relative", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "dev/fuse", Type: "c", Major: 10, Minor: 229}}
		}, "linux.devices[0].path", "is not an absolute path"},
		{"device type unknown", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "x"}}
		}, "linux.devices[0].type", "unknown device type"},
		{"device type empty", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse"}}
		}, "linux.devices[0].type", "unknown device type"},
		{"device major negative", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: -1}}
		}, "linux.devices[0].major", "negative"},
		{"device minor negative", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "b", Minor: -1}}
		}, "linux.devices[0].minor", "negative"},
		{"device duplicate", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c"}, {Path: "/dev/./fuse", Type: "c"}}
		}, "linux.devices[1].path", "duplicate device"},
		{"device uid not mapped", func(s *specs.Spec, _ *Options, _ string) {
			withUserns(s)
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", UID: new(uint32(70000))}}
		}, "linux.devices[0].uid", "not mapped"},
		{"device gid not mapped", func(s *specs.Spec, _ *Options, _ string) {
			withUserns(s)
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", GID: new(uint32(70000))}}
		}, "linux.devices[0].gid", "not mapped"},

		// other linux fields
		{"rootfsPropagation unknown", func(s *specs.Spec, _ *Options, _ string) { s.Linux.RootfsPropagation = "foo" },
			"linux.rootfsPropagation", `unknown propagation "foo"`},
		{"sysctl not namespaced", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Sysctl = map[string]string{"vm.swappiness": "1"}
		}, `linux.sysctl["vm.swappiness"]`, "not namespaced"},
		{"net sysctl without network namespace", func(s *specs.Spec, _ *Options, _ string) {
			withoutNS(s, specs.NetworkNamespace)
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, `linux.sysctl["net.ipv4.ip_forward"]`, "needs a network namespace"},
		{"net sysctl in the host network namespace", func(s *specs.Spec, _ *Options, _ string) {
			withoutNS(s, specs.NetworkNamespace)
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: "/proc/self/ns/net"})
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, `linux.sysctl["net.ipv4.ip_forward"]`, "host's network namespace"},
		{"ipc sysctl without ipc namespace", func(s *specs.Spec, _ *Options, _ string) {
			withoutNS(s, specs.IPCNamespace)
			s.Linux.Sysctl = map[string]string{"kernel.shmmax": "1"}
		}, `linux.sysctl["kernel.shmmax"]`, "needs an ipc namespace"},
		{"user sysctl without user namespace", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Sysctl = map[string]string{"user.max_user_namespaces": "5"}
		}, `linux.sysctl["user.max_user_namespaces"]`, "needs a user namespace"},
		{"mqueue sysctl without ipc namespace", func(s *specs.Spec, _ *Options, _ string) {
			withoutNS(s, specs.IPCNamespace)
			s.Linux.Sysctl = map[string]string{"fs/mqueue/msg_max": "1"}
		}, `linux.sysctl["fs/mqueue/msg_max"]`, "needs an ipc namespace"},
		{"uts sysctl without uts namespace", func(s *specs.Spec, _ *Options, _ string) {
			s.Hostname = ""
			withoutNS(s, specs.UTSNamespace)
			s.Linux.Sysctl = map[string]string{"kernel.hostname": "x"}
		}, `linux.sysctl["kernel.hostname"]`, "needs a uts namespace"},
		{"sysctl escaping /proc/sys", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Sysctl = map[string]string{"net/../../etc/passwd": "x"}
		}, `linux.sysctl["net/../../etc/passwd"]`, "not a valid sysctl name"},
		{"sysctl with empty component", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Sysctl = map[string]string{"net..ipv4": "x"}
		}, `linux.sysctl["net..ipv4"]`, "not a valid sysctl name"},
		{"maskedPaths relative", func(s *specs.Spec, _ *Options, _ string) { s.Linux.MaskedPaths[3] = "proc/keys" },
			"linux.maskedPaths[3]", `"proc/keys" is not an absolute path`},
		{"readonlyPaths relative", func(s *specs.Spec, _ *Options, _ string) { s.Linux.ReadonlyPaths[0] = "proc/bus" },
			"linux.readonlyPaths[0]", "is not an absolute path"},
		{"cgroupsPath escapes", func(s *specs.Spec, _ *Options, _ string) { s.Linux.CgroupsPath = "a/../../b" },
			"linux.cgroupsPath", "outside the cgroup hierarchy"},
		{"cgroupsPath not systemd form", func(s *specs.Spec, o *Options, _ string) {
			o.Systemd = true
			s.Linux.CgroupsPath = "/a/b"
		}, "linux.cgroupsPath", "slice:prefix:name"},
		{"device rule type", func(s *specs.Spec, _ *Options, _ string) { s.Linux.Resources.Devices[0].Type = "p" },
			"linux.resources.devices[0].type", "unknown device type"},
		{"personality domain", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Personality = &specs.LinuxPersonality{Domain: "LINUX64"}
		}, "linux.personality.domain", "unknown domain"},
		{"personality flags", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"X"}}
		}, "linux.personality.flags", "not supported"},
		{"intelRdt closID", func(s *specs.Spec, _ *Options, _ string) { s.Linux.IntelRdt = &specs.LinuxIntelRdt{ClosID: "a/b"} },
			"linux.intelRdt.closID", "not a resctrl group name"},
		{"intelRdt memBwSchema", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.IntelRdt = &specs.LinuxIntelRdt{MemBwSchema: "L3:0=1"}
		},
			"linux.intelRdt.memBwSchema", `starting with "MB:"`},
		{"intelRdt schemata", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.IntelRdt = &specs.LinuxIntelRdt{Schemata: []string{"L3:0=1", "MB:0=1\nL2:0=1"}}
		}, "linux.intelRdt.schemata[1]", "one line"},
		{"netDevices", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth0": {Name: "a/b"}}
		}, "linux.netDevices[eth0].name", "contains '/'"},

		// hooks
		{"hook path relative", func(s *specs.Spec, _ *Options, _ string) {
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "bin/true"}}}
		}, "hooks.prestart[0].path", "is not an absolute path"},
		{"hook path missing", func(s *specs.Spec, _ *Options, _ string) {
			s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true"}, {}}}
		}, "hooks.startContainer[1].path", "missing"},
		{"hook timeout zero", func(s *specs.Spec, _ *Options, _ string) {
			s.Hooks = &specs.Hooks{Poststart: []specs.Hook{{Path: "/bin/true", Timeout: new(0)}}}
		}, "hooks.poststart[0].timeout", "greater than zero"},
		{"hook env without =", func(s *specs.Spec, _ *Options, _ string) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/true", Env: []string{"X"}}}}
		}, "hooks.createRuntime[0].env[0]", "KEY=value"},
		{"hook args NUL", func(s *specs.Spec, _ *Options, _ string) {
			s.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/true", Args: []string{"\x00"}}}}
		}, "hooks.createContainer[0].args[0]", "NUL"},
		{"poststop hook relative", func(s *specs.Spec, _ *Options, _ string) {
			s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "x"}}}
		}, "hooks.poststop[0].path", "is not an absolute path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bundle := newBundle(t)
			s := validSpec(t)
			o := Options{Bundle: bundle}
			tc.edit(s, &o, bundle)
			c, err := Convert(s, o)
			if err == nil {
				t.Fatalf("Convert succeeded (%+v), want an error about %s", c, tc.field)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tc.field+": ") {
				t.Errorf("error %q does not start with %q", msg, tc.field+": ")
			}
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("error %q does not contain %q", msg, tc.msg)
			}
			if strings.ContainsAny(msg, "\n\r") {
				t.Errorf("error %q is not one line", msg)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("error is not a *FieldError for %q: %#v", tc.field, err)
			}
		})
	}
}

func TestConvertReportsTheFirstErrorDeterministically(t *testing.T) {
	tests := []struct {
		name string
		edit func(s *specs.Spec)
		want string
	}{
		{"process before mounts", func(s *specs.Spec) {
			s.Mounts[0].Destination = ""
			s.Process.Cwd = "x"
		}, "process.cwd: "},
		{"sysctl keys in sorted order", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"zz.a": "1", "vm.b": "1", "aa.c": "1", "mm.d": "1"}
		}, `linux.sysctl["aa.c"]: `},
		{"timeOffsets keys in sorted order", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"x": {}, "b": {}, "q": {}}
		}, `linux.timeOffsets["b"]: `},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bundle := newBundle(t)
			for range 20 {
				s := validSpec(t)
				tc.edit(s)
				_, err := Convert(s, Options{Bundle: bundle})
				if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
					t.Fatalf("error %v, want prefix %q", err, tc.want)
				}
			}
		})
	}
}

func TestConvertAcceptsVersions(t *testing.T) {
	for _, v := range []string{"1.0.0", "1.0.0-rc5", "1.0.2-dev", "1.1.0", "1.2.1", specs.Version, fmt.Sprintf("1.%d.9+build.7", specs.VersionMinor)} {
		t.Run(v, func(t *testing.T) {
			s := validSpec(t)
			s.Version = v
			c, err := Convert(s, Options{Bundle: newBundle(t)})
			if err != nil {
				t.Fatal(err)
			}
			if c.OCIVersion != v {
				t.Errorf("OCIVersion = %q", c.OCIVersion)
			}
		})
	}
}

func TestConvertExample(t *testing.T) {
	bundle := newBundle(t)
	s := validSpec(t)
	c, err := Convert(s, Options{Bundle: bundle + "/", NoPivot: true, NoNewKeyring: true, DefaultCgroupPath: "/berth/c1"})
	if err != nil {
		t.Fatal(err)
	}
	nosuidNoexecNodev := uintptr(unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV)
	want := &configs.Config{
		OCIVersion:   specs.Version,
		Bundle:       bundle,
		Rootfs:       filepath.Join(bundle, "rootfs"),
		Readonly:     true,
		NoPivot:      true,
		NoNewKeyring: true,
		Hostname:     "berth",
		Namespaces: []configs.Namespace{
			{Type: configs.NEWPID}, {Type: configs.NEWNET}, {Type: configs.NEWIPC},
			{Type: configs.NEWUTS}, {Type: configs.NEWNS}, {Type: configs.NEWCGROUP},
		},
		Mounts: []configs.Mount{
			{Source: "proc", Destination: "/proc", Type: "proc"},
			{Source: "tmpfs", Destination: "/dev", Type: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=755,size=65536k"},
			{Source: "devpts", Destination: "/dev/pts", Type: "devpts", Flags: unix.MS_NOSUID | unix.MS_NOEXEC,
				Data: "newinstance,ptmxmode=0666,mode=0620,gid=5"},
			{Source: "shm", Destination: "/dev/shm", Type: "tmpfs", Flags: nosuidNoexecNodev, Data: "mode=1777,size=65536k"},
			{Source: "mqueue", Destination: "/dev/mqueue", Type: "mqueue", Flags: nosuidNoexecNodev},
			{Source: "sysfs", Destination: "/sys", Type: "sysfs", Flags: nosuidNoexecNodev | unix.MS_RDONLY},
			{Source: "cgroup", Destination: "/sys/fs/cgroup", Type: "cgroup", Flags: nosuidNoexecNodev | unix.MS_RELATIME | unix.MS_RDONLY},
		},
		MaskedPaths:   s.Linux.MaskedPaths,
		ReadonlyPaths: s.Linux.ReadonlyPaths,
		Process: &configs.Process{
			Args:     []string{"sh"},
			Env:      []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"},
			Cwd:      "/",
			Terminal: true,
			Capabilities: &configs.Capabilities{
				Bounding:  []int{unix.CAP_AUDIT_WRITE, unix.CAP_KILL, unix.CAP_NET_BIND_SERVICE},
				Effective: []int{unix.CAP_AUDIT_WRITE, unix.CAP_KILL, unix.CAP_NET_BIND_SERVICE},
				Permitted: []int{unix.CAP_AUDIT_WRITE, unix.CAP_KILL, unix.CAP_NET_BIND_SERVICE},
			},
			Rlimits:         []configs.Rlimit{{Type: unix.RLIMIT_NOFILE, Hard: 1024, Soft: 1024}},
			NoNewPrivileges: true,
		},
		Cgroup: configs.CgroupConfig{Path: "/berth/c1", Resources: &specs.LinuxResources{
			Devices: append([]specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}, defaultDeviceRules...),
		}},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Convert(Example(false)):\n got %+v\nwant %+v", c, want)
		diffConfigs(t, c, want)
	}
}

func TestConvertExampleRootless(t *testing.T) {
	bundle := newBundle(t)
	s, err := Example(true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Convert(s, Options{Bundle: bundle, Rootless: true, DefaultCgroupPath: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ok   bool
	}{
		{"user namespace created", c.Has(configs.NEWUSER) && c.NamespacePath(configs.NEWUSER) == ""},
		{"no network namespace", !c.Has(configs.NEWNET)},
		{"uid mapping is the caller", reflect.DeepEqual(c.UIDMappings, []specs.LinuxIDMapping{{HostID: uint32(os.Geteuid()), Size: 1}})},
		{"gid mapping is the caller", reflect.DeepEqual(c.GIDMappings, []specs.LinuxIDMapping{{HostID: uint32(os.Getegid()), Size: 1}})},
		{"cgroup is rootless", c.Cgroup.Rootless && c.Cgroup.Path == "c1"},
		{"only the default device rules", reflect.DeepEqual(c.Cgroup.Resources, &specs.LinuxResources{Devices: defaultList()})},
		{"/sys is a recursively read-only rbind", c.Mounts[5].Destination == "/sys" && c.Mounts[5].Source == "/sys" &&
			c.Mounts[5].Flags == unix.MS_BIND|unix.MS_REC &&
			c.Mounts[5].RecAttrSet == unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC|unix.MOUNT_ATTR_NODEV},
		{"no cgroup mount", len(c.Mounts) == 6},
		{"devpts without gid=5", c.Mounts[2].Data == "newinstance,ptmxmode=0666,mode=0620"},
	}
	for _, tc := range tests {
		if !tc.ok {
			t.Errorf("%s: not so in %+v", tc.name, c)
		}
	}
}

func TestConvertRichConfig(t *testing.T) {
	bundle := newBundle(t)
	data, err := os.ReadFile("testdata/rich-config.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(bundle)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Convert(s, Options{Bundle: bundle, Systemd: false, DefaultCgroupPath: "/unused"})
	if err != nil {
		t.Fatal(err)
	}
	cmap := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 32000}}
	want := &configs.Config{
		OCIVersion:      "1.2.0",
		Bundle:          bundle,
		Rootfs:          filepath.Join(bundle, "rootfs"),
		Readonly:        true,
		RootPropagation: unix.MS_SLAVE | unix.MS_REC,
		Hostname:        "slartibartfast",
		Domainname:      "foobarbaz.test",
		Namespaces: []configs.Namespace{
			{Type: configs.NEWPID}, {Type: configs.NEWNET, Path: "/var/run/netns/neta"}, {Type: configs.NEWIPC},
			{Type: configs.NEWUTS}, {Type: configs.NEWNS}, {Type: configs.NEWUSER}, {Type: configs.NEWCGROUP}, {Type: configs.NEWTIME},
		},
		UIDMappings: cmap,
		GIDMappings: cmap,
		TimeOffsets: map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 172800}, "boottime": {Secs: 604800, Nanosecs: 5}},
		Mounts: []configs.Mount{
			{Source: "proc", Destination: "/proc", Type: "proc"},
			{Source: "tmpfs", Destination: "/dev", Type: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=755,size=65536k"},
			{Source: filepath.Join(bundle, "vol"), Destination: "/data", Type: "none",
				Flags: unix.MS_BIND | unix.MS_REC, ClearedFlags: unix.MS_RDONLY,
				PropagationFlags: []uintptr{unix.MS_PRIVATE | unix.MS_REC},
				RecAttrSet:       unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NOATIME,
				RecAttrClr:       unix.MOUNT_ATTR__ATIME},
			{Source: "/srv/data", Destination: "/mnt/host", Type: "bind", Flags: unix.MS_BIND, IDMapUserns: true},
			{Source: "/srv/m", Destination: "/mnt/mapped", Flags: unix.MS_BIND | unix.MS_NOSYMFOLLOW, IDMapRecursive: true,
				UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 2000, Size: 10}},
				GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 3000, Size: 10}}},
			{Destination: "/run", Flags: unix.MS_REMOUNT | unix.MS_RDONLY},
			{Source: "tmpfs", Destination: "/var/tmp", Type: "tmpfs", Flags: unix.MS_NODEV, CopyUp: true},
		},
		Devices: []configs.Device{
			{Path: "/dev/fuse", Type: 'c', Major: 10, Minor: 229, FileMode: 0o666},
			{Path: "/dev/sda", Type: 'b', Major: 8, Minor: 0, FileMode: 0o660, UID: 1, GID: 5},
			{Path: "/run/fifo", Type: 'p', FileMode: 0o666},
		},
		MaskedPaths:   []string{"/proc/kcore", "/proc/latency_stats"},
		ReadonlyPaths: []string{"/proc/sys", "/proc/sysrq-trigger"},
		Sysctl: map[string]string{
			"net.ipv4.ip_forward": "1", "net/core/somaxconn": "256", "kernel.shmmax": "1000",
			"fs.mqueue.msg_max": "20", "kernel.domainname": "foobarbaz.test",
		},
		Process: &configs.Process{
			Args:           []string{"/bin/sh", "-c", "echo hi"},
			Env:            []string{"PATH=/usr/bin:/bin", "TERM=xterm", "EMPTY="},
			Cwd:            "/root",
			Terminal:       true,
			ConsoleSize:    &specs.Box{Height: 25, Width: 80},
			UID:            1,
			GID:            1,
			AdditionalGids: []uint32{5, 6},
			Umask:          new(uint32(63)),
			Capabilities: &configs.Capabilities{
				Bounding:    []int{unix.CAP_AUDIT_WRITE, unix.CAP_KILL, unix.CAP_NET_BIND_SERVICE, unix.CAP_SYS_ADMIN},
				Effective:   []int{unix.CAP_AUDIT_WRITE, unix.CAP_KILL},
				Inheritable: []int{unix.CAP_CHECKPOINT_RESTORE},
				Permitted:   []int{unix.CAP_AUDIT_WRITE, unix.CAP_KILL, unix.CAP_NET_BIND_SERVICE},
			},
			Rlimits: []configs.Rlimit{
				{Type: unix.RLIMIT_CORE, Hard: 1024, Soft: 512},
				{Type: unix.RLIMIT_NOFILE, Hard: 1024, Soft: 1024},
			},
			NoNewPrivileges: true,
			OOMScoreAdj:     new(100),
			ApparmorProfile: "acme_secure_profile",
			SelinuxLabel:    "system_u:system_r:svirt_lxc_net_t:s0:c124,c675",
			IOPriority:      &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE, Priority: 4},
			Scheduler:       &specs.Scheduler{Policy: specs.SchedBatch, Nice: 5, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}},
			ExecCPUAffinity: &specs.CPUAffinity{Initial: "7", Final: "0-3,7"},
		},
		Hooks:       s.Hooks,
		Cgroup:      configs.CgroupConfig{Path: "/myRuntime/myContainer", Resources: withDefaultRules(s.Linux.Resources)},
		Seccomp:     s.Linux.Seccomp,
		Personality: &specs.LinuxPersonality{Domain: specs.PerLinux32},
		MountLabel:  "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811",
		Annotations: map[string]string{"com.example.key1": "value1"},
	}
	if !reflect.DeepEqual(c, want) {
		diffConfigs(t, c, want)
	}
	// Spot-check the pass-through parts that the comparison above shares by pointer.
	if c.Hooks == nil || len(c.Hooks.Prestart) != 1 || *c.Hooks.Poststart[0].Timeout != 5 {
		t.Errorf("hooks %+v", c.Hooks)
	}
	if c.Cgroup.Resources == nil || *c.Cgroup.Resources.Pids.Limit != 32771 {
		t.Errorf("resources %+v", c.Cgroup.Resources)
	}
	if c.Seccomp == nil || c.Seccomp.DefaultAction != specs.ActAllow || len(c.Seccomp.Syscalls) != 1 {
		t.Errorf("seccomp %+v", c.Seccomp)
	}
}

func TestConvertDetails(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(s *specs.Spec, o *Options, bundle string)
		check func(c *configs.Config, bundle string) bool
	}{
		{"consoleSize dropped without a terminal", func(s *specs.Spec, _ *Options, _ string) {
			s.Process.Terminal = false
			s.Process.ConsoleSize = &specs.Box{Height: 1, Width: 1}
		}, func(c *configs.Config, _ string) bool { return c.Process.ConsoleSize == nil && !c.Process.Terminal }},
		{"absolute root.path", func(s *specs.Spec, _ *Options, b string) { s.Root.Path = filepath.Join(b, "rootfs") },
			func(c *configs.Config, b string) bool { return c.Rootfs == filepath.Join(b, "rootfs") }},
		{"symlinked rootfs resolved", func(s *specs.Spec, _ *Options, b string) {
			os.Symlink("rootfs", filepath.Join(b, "link"))
			s.Root.Path = "link"
		}, func(c *configs.Config, b string) bool { return c.Rootfs == filepath.Join(b, "rootfs") }},
		{"readonly false", func(s *specs.Spec, _ *Options, _ string) { s.Root.Readonly = false },
			func(c *configs.Config, _ string) bool { return !c.Readonly }},
		{"relative mount destination is relative to /", func(s *specs.Spec, _ *Options, _ string) {
			s.Mounts[0].Destination = "proc/../proc/"
		}, func(c *configs.Config, _ string) bool { return c.Mounts[0].Destination == "/proc" }},
		{"type bind makes a bind mount", func(s *specs.Spec, _ *Options, _ string) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Type: "bind", Source: "/srv"})
		}, func(c *configs.Config, _ string) bool {
			return c.Mounts[7].IsBind() && c.Mounts[7].Flags&unix.MS_REC == 0
		}},
		{"relative bind source is in the bundle", func(s *specs.Spec, _ *Options, _ string) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Source: "data/./x", Options: []string{"rbind"}})
		}, func(c *configs.Config, b string) bool { return c.Mounts[7].Source == filepath.Join(b, "data/x") }},
		{"non-bind source kept as given", func(s *specs.Spec, _ *Options, _ string) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Type: "tmpfs", Source: "my-tmpfs"})
		}, func(c *configs.Config, _ string) bool { return c.Mounts[7].Source == "my-tmpfs" }},
		{"propagation-only mount needs no type", func(s *specs.Spec, _ *Options, _ string) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Options: []string{"rshared"}})
		}, func(c *configs.Config, _ string) bool {
			return reflect.DeepEqual(c.Mounts[7].PropagationFlags, []uintptr{unix.MS_SHARED | unix.MS_REC})
		}},
		{"capabilities case-insensitive and deduplicated", func(s *specs.Spec, _ *Options, _ string) {
			s.Process.Capabilities.Bounding = []string{"cap_chown", "CAP_CHOWN", "Cap_Kill"}
		}, func(c *configs.Config, _ string) bool {
			return reflect.DeepEqual(c.Process.Capabilities.Bounding, []int{unix.CAP_CHOWN, unix.CAP_KILL})
		}},
		{"no capabilities object", func(s *specs.Spec, _ *Options, _ string) { s.Process.Capabilities = nil },
			func(c *configs.Config, _ string) bool { return c.Process.Capabilities == nil }},
		{"linux.cgroupsPath wins over the default", func(s *specs.Spec, o *Options, _ string) {
			o.DefaultCgroupPath = "/default"
			s.Linux.CgroupsPath = "mine"
		}, func(c *configs.Config, _ string) bool { return c.Cgroup.Path == "mine" }},
		{"systemd cgroupsPath", func(s *specs.Spec, o *Options, _ string) {
			o.Systemd = true
			s.Linux.CgroupsPath = "system.slice:berth:c1"
		}, func(c *configs.Config, _ string) bool {
			return c.Cgroup.Systemd && c.Cgroup.Path == "system.slice:berth:c1"
		}},
		{"rootfsPropagation private", func(s *specs.Spec, _ *Options, _ string) { s.Linux.RootfsPropagation = "private" },
			func(c *configs.Config, _ string) bool { return c.RootPropagation == unix.MS_PRIVATE }},
		{"rootfsPropagation runbindable", func(s *specs.Spec, _ *Options, _ string) { s.Linux.RootfsPropagation = "runbindable" },
			func(c *configs.Config, _ string) bool { return c.RootPropagation == unix.MS_UNBINDABLE|unix.MS_REC }},
		{"joined user namespace may carry mappings", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/proc/1/ns/user"})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
			s.Process.User.UID = 5 // not checked: berth does not write maps for a joined namespace
		}, func(c *configs.Config, _ string) bool {
			return c.NamespacePath(configs.NEWUSER) == "/proc/1/ns/user" && len(c.UIDMappings) == 1 && c.Process.UID == 5
		}},
		{"joined uts namespace allows hostname", func(s *specs.Spec, _ *Options, _ string) {
			withoutNS(s, specs.UTSNamespace)
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UTSNamespace, Path: "/proc/1/ns/uts"})
		}, func(c *configs.Config, _ string) bool { return c.Hostname == "berth" }},
		{"no linux section", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux = nil
			s.Hostname = ""
		}, func(c *configs.Config, _ string) bool {
			return len(c.Namespaces) == 0 && reflect.DeepEqual(c.Cgroup.Resources, &specs.LinuxResources{Devices: defaultList()})
		}},
		{"device defaults", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/null2", Type: "u", Major: 1, Minor: 3}}
		}, func(c *configs.Config, _ string) bool {
			return reflect.DeepEqual(c.Devices, []configs.Device{{Path: "/dev/null2", Type: 'u', Major: 1, Minor: 3, FileMode: 0o666}})
		}},
		{"pipe device ignores major and minor", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/p", Type: "p", Major: 4, Minor: 5}}
		}, func(c *configs.Config, _ string) bool { return c.Devices[0].Major == 0 && c.Devices[0].Minor == 0 }},
		{"options copied", func(s *specs.Spec, o *Options, _ string) { o.NoPivot, o.NoNewKeyring, o.Systemd = true, true, false },
			func(c *configs.Config, _ string) bool { return c.NoPivot && c.NoNewKeyring && !c.Cgroup.Systemd }},
		{"idmap without mappings takes a joined user namespace's", func(s *specs.Spec, _ *Options, _ string) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/proc/1/ns/user"})
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Source: "/srv", Options: []string{"bind", "idmap"}})
		}, func(c *configs.Config, _ string) bool {
			m := c.Mounts[7]
			return m.IDMapUserns && !m.IDMapRecursive && len(m.UIDMappings) == 0 && m.IsIDMapped()
		}},
		{"ridmap without mappings takes a new user namespace's, recursively", func(s *specs.Spec, _ *Options, _ string) {
			withUserns(s)
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Source: "/srv", Options: []string{"rbind", "ridmap"}})
		}, func(c *configs.Config, _ string) bool {
			m := c.Mounts[7]
			return m.IDMapUserns && m.IDMapRecursive && len(m.UIDMappings) == 0
		}},
		{"mappings on the mount without idmap or ridmap map only its top", func(s *specs.Spec, _ *Options, _ string) {
			one := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Source: "/srv", Options: []string{"rbind"}, UIDMappings: one, GIDMappings: one})
		}, func(c *configs.Config, _ string) bool {
			m := c.Mounts[7]
			return !m.IDMapUserns && !m.IDMapRecursive && len(m.UIDMappings) == 1 && m.IsIDMapped()
		}},
		{"sysctl of a joined network namespace", func(s *specs.Spec, _ *Options, _ string) {
			withoutNS(s, specs.NetworkNamespace)
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: "/var/run/netns/x"})
			s.Linux.Sysctl = map[string]string{"net.core.somaxconn": "1"}
		}, func(c *configs.Config, _ string) bool { return c.Sysctl["net.core.somaxconn"] == "1" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bundle := newBundle(t)
			s := validSpec(t)
			o := Options{Bundle: bundle}
			tc.edit(s, &o, bundle)
			c, err := Convert(s, o)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c, bundle) {
				t.Errorf("unexpected result: %+v (process %+v)", c, c.Process)
			}
		})
	}
}

func withDefaultRules(r *specs.LinuxResources) *specs.LinuxResources {
	c := *r
	c.Devices = append(append([]specs.LinuxDeviceCgroup(nil), r.Devices...), defaultDeviceRules...)
	if len(r.Devices) == 0 || !isDenyAll(r.Devices[0]) {
		c.Devices = append([]specs.LinuxDeviceCgroup{denyAllDevices}, c.Devices...)
	}
	return &c
}

// defaultList is what a spec without device rules gets.
func defaultList() []specs.LinuxDeviceCgroup {
	return append([]specs.LinuxDeviceCgroup{denyAllDevices}, defaultDeviceRules...)
}

func TestConvertDeviceRules(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	denyAll := specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}
	tun := specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(10), Minor: i64(200), Access: "rwm"}
	tests := []struct {
		name  string
		res   *specs.LinuxResources
		check func(got *specs.LinuxResources) bool
	}{
		{"no resources: deny-all and the defaults", nil,
			func(got *specs.LinuxResources) bool {
				return reflect.DeepEqual(got, &specs.LinuxResources{Devices: defaultList()})
			}},
		{"no device rules: deny-all and the defaults", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: new(int64(5))}},
			func(got *specs.LinuxResources) bool {
				return reflect.DeepEqual(got.Devices, defaultList()) && *got.Pids.Limit == 5
			}},
		{"allow rules alone go over deny-all", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{tun}},
			func(got *specs.LinuxResources) bool {
				return reflect.DeepEqual(got.Devices, append([]specs.LinuxDeviceCgroup{denyAll, tun}, defaultDeviceRules...))
			}},
		{"a leading deny-all is not repeated", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "a", Major: i64(-1)}, tun}},
			func(got *specs.LinuxResources) bool {
				return len(got.Devices) == 2+len(defaultDeviceRules) && got.Devices[0].Type == "a" && reflect.DeepEqual(got.Devices[1], tun)
			}},
		{"allow-all stays allow-all", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}},
			func(got *specs.LinuxResources) bool {
				return got.Devices[1].Allow && got.Devices[1].Type == "" && got.Devices[1].Access == "rwm"
			}},
		{"a narrow deny is not a deny-all", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "c", Access: "rwm"}}},
			func(got *specs.LinuxResources) bool {
				return reflect.DeepEqual(got.Devices[0], denyAll) && got.Devices[1].Type == "c"
			}},
		{"user rules come before the defaults", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{denyAll}},
			func(got *specs.LinuxResources) bool { return reflect.DeepEqual(got.Devices[0], denyAll) }},
		{"default devices allowed after a deny-all", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{denyAll}},
			func(got *specs.LinuxResources) bool {
				want := map[[2]int64]bool{{1, 3}: true, {1, 5}: true, {1, 7}: true, {1, 8}: true, {1, 9}: true, {5, 0}: true, {5, 1}: true, {5, 2}: true}
				for _, r := range got.Devices[1:] {
					if r.Allow && r.Type == "c" && r.Access == "rwm" && r.Major != nil && r.Minor != nil {
						delete(want, [2]int64{*r.Major, *r.Minor})
					}
				}
				return len(want) == 0
			}},
		{"pts and mknod allowed", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{denyAll}},
			func(got *specs.LinuxResources) bool {
				var pts, mknodC, mknodB bool
				for _, r := range got.Devices[1:] {
					pts = pts || (r.Type == "c" && r.Major != nil && *r.Major == 136 && r.Minor == nil && r.Access == "rwm")
					mknodC = mknodC || (r.Type == "c" && r.Major == nil && r.Minor == nil && r.Access == "m")
					mknodB = mknodB || (r.Type == "b" && r.Major == nil && r.Minor == nil && r.Access == "m")
				}
				return pts && mknodC && mknodB
			}},
		{"spec slice not modified", &specs.LinuxResources{Devices: append(make([]specs.LinuxDeviceCgroup, 0, 20),
			specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(10), Minor: i64(229), Access: "rw"})},
			func(got *specs.LinuxResources) bool { return len(got.Devices) == 2+len(defaultDeviceRules) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := validSpec(t)
			s.Linux.Resources = tc.res
			var before []specs.LinuxDeviceCgroup
			if tc.res != nil {
				before = append(before, tc.res.Devices...)
			}
			c, err := Convert(s, Options{Bundle: newBundle(t)})
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c.Cgroup.Resources) {
				t.Errorf("unexpected resources %+v", c.Cgroup.Resources)
			}
			if tc.res != nil && !reflect.DeepEqual(tc.res.Devices, before) {
				t.Errorf("Convert modified the spec's device rules")
			}
			if tc.res != nil && cap(tc.res.Devices) > len(tc.res.Devices) {
				if full := tc.res.Devices[:cap(tc.res.Devices)]; len(tc.res.Devices) > 0 && full[len(tc.res.Devices)].Access != "" {
					t.Errorf("Convert wrote into the spec's spare capacity")
				}
			}
		})
	}
}

// diffConfigs names the top-level fields that differ.
func diffConfigs(t *testing.T, got, want *configs.Config) {
	t.Helper()
	g, w := reflect.ValueOf(*got), reflect.ValueOf(*want)
	for i := 0; i < g.NumField(); i++ {
		if !reflect.DeepEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
			t.Errorf("%s:\n got %+v\nwant %+v", g.Type().Field(i).Name, deref(g.Field(i)), deref(w.Field(i)))
		}
	}
}

func deref(v reflect.Value) any {
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		return v.Elem().Interface()
	}
	return v.Interface()
}

func TestCapabilityAndRlimitNames(t *testing.T) {
	tests := []struct{ got, want string }{
		{CapabilityName(0), "CAP_CHOWN"},
		{CapabilityName(21), "CAP_SYS_ADMIN"},
		{CapabilityName(40), "CAP_CHECKPOINT_RESTORE"},
		{CapabilityName(99), "capability 99"},
		{RlimitName(7), "RLIMIT_NOFILE"},
		{RlimitName(999), "rlimit 999"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestConvertCapsDropsWhatCannotBeSet(t *testing.T) {
	tests := []struct {
		name string
		in   specs.LinuxCapabilities
		want configs.Capabilities
	}{
		{"unknown names are ignored",
			specs.LinuxCapabilities{Bounding: []string{"CAP_UNKNOWN", "CAP_KILL", "SYS_ADMIN", ""}},
			configs.Capabilities{Bounding: []int{unix.CAP_KILL}}},
		{"ambient needs inheritable and permitted",
			specs.LinuxCapabilities{
				Permitted:   []string{"CAP_KILL", "CAP_CHOWN", "CAP_SYSLOG"},
				Inheritable: []string{"CAP_KILL", "CAP_SETUID", "CAP_SYSLOG"},
				Ambient:     []string{"CAP_KILL", "CAP_CHOWN", "CAP_SETUID", "CAP_SYSLOG"},
			},
			configs.Capabilities{
				Permitted:   []int{unix.CAP_KILL, unix.CAP_CHOWN, unix.CAP_SYSLOG},
				Inheritable: []int{unix.CAP_KILL, unix.CAP_SETUID, unix.CAP_SYSLOG},
				Ambient:     []int{unix.CAP_KILL, unix.CAP_SYSLOG},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := convertCaps(&tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("convertCaps = %+v, want %+v", *got, tt.want)
			}
		})
	}
}
