package specconv

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestFeatures(t *testing.T) {
	f, err := Features("1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	lx := f.Linux
	isTrue := func(b *bool) bool { return b != nil && *b }
	isFalse := func(b *bool) bool { return b != nil && !*b }
	subset := func(a, b []string) bool {
		for _, x := range a {
			if !slices.Contains(b, x) {
				return false
			}
		}
		return true
	}
	tests := []struct {
		name string
		ok   bool
	}{
		{"ociVersionMin 1.0.0", f.OCIVersionMin == "1.0.0"},
		{"ociVersionMax is the spec version", f.OCIVersionMax == specs.Version},
		{"all six hooks", reflect.DeepEqual(f.Hooks, []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"})},
		{"mount options sorted", slices.IsSorted(f.MountOptions)},
		{"mount options include MUST ones", subset([]string{"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync",
			"exec", "iversion", "lazytime", "loud", "mand", "noatime", "nodev", "nodiratime", "noexec", "noiversion", "nolazytime",
			"nomand", "norelatime", "nostrictatime", "nosuid", "private", "rbind", "relatime", "remount", "ro", "rprivate",
			"rshared", "rslave", "runbindable", "rw", "shared", "silent", "slave", "strictatime", "suid", "sync", "unbindable"}, f.MountOptions)},
		{"idmap options listed iff idmap enabled", slices.Contains(f.MountOptions, "idmap") == isTrue(lx.MountExtensions.IDMap.Enabled)},
		{"all eight namespaces", reflect.DeepEqual(lx.Namespaces, []string{"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"})},
		{"41 capabilities", len(lx.Capabilities) == 41 && lx.Capabilities[0] == "CAP_CHOWN" && lx.Capabilities[40] == "CAP_CHECKPOINT_RESTORE"},
		{"cgroup v1 and v2", isTrue(lx.Cgroup.V1) && isTrue(lx.Cgroup.V2)},
		{"systemd, not systemd user", isTrue(lx.Cgroup.Systemd) && isFalse(lx.Cgroup.SystemdUser)},
		{"rdma", isTrue(lx.Cgroup.Rdma)},
		{"seccomp enabled", isTrue(lx.Seccomp.Enabled)},
		{"seccomp actions", len(lx.Seccomp.Actions) == 9 && slices.Contains(lx.Seccomp.Actions, "SCMP_ACT_NOTIFY")},
		{"seccomp operators", len(lx.Seccomp.Operators) == 7 && slices.Contains(lx.Seccomp.Operators, "SCMP_CMP_MASKED_EQ")},
		{"seccomp archs include the common ones", subset([]string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"}, lx.Seccomp.Archs)},
		{"seccomp archs are spec names", subset(lx.Seccomp.Archs, seccompArchs)},
		{"seccomp known flags", reflect.DeepEqual(lx.Seccomp.KnownFlags, []string{"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
			"SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"})},
		{"supported flags are known flags", subset(lx.Seccomp.SupportedFlags, lx.Seccomp.KnownFlags)},
		{"no apparmor", isFalse(lx.Apparmor.Enabled)},
		{"no selinux", isFalse(lx.Selinux.Enabled)},
		{"intelRdt", isTrue(lx.IntelRdt.Enabled) && isTrue(lx.IntelRdt.Schemata) && isTrue(lx.IntelRdt.Monitoring)},
		{"netDevices", isTrue(lx.NetDevices.Enabled)},
		{"idmap stated", lx.MountExtensions.IDMap.Enabled != nil},
		{"version annotation", f.Annotations["io.github.berth.version"] == "1.2.3"},
	}
	for _, tc := range tests {
		if !tc.ok {
			t.Errorf("%s: not so in %+v", tc.name, f)
		}
	}
}

// Everything Features advertises must be accepted by Convert/ParseMountOptions.
func TestFeaturesAreAccepted(t *testing.T) {
	f, err := Features("x")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range f.MountOptions {
		if m, err := ParseMountOptions([]string{o}); err != nil || m.Data != "" {
			t.Errorf("mount option %q is advertised but not recognised", o)
		}
	}
	bundle := newBundle(t)
	for _, v := range []string{f.OCIVersionMin, f.OCIVersionMax} {
		s := validSpec(t)
		s.Version = v
		if _, err := Convert(s, Options{Bundle: bundle}); err != nil {
			t.Errorf("ociVersion %q advertised but rejected: %v", v, err)
		}
	}
	s := validSpec(t)
	s.Process.Capabilities.Bounding = f.Linux.Capabilities
	s.Linux.Namespaces = nil
	s.Hostname = ""
	for _, ns := range f.Linux.Namespaces {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.LinuxNamespaceType(ns)})
	}
	withUsernsMappings(s)
	if _, err := Convert(s, Options{Bundle: bundle}); err != nil {
		t.Errorf("advertised capabilities/namespaces rejected: %v", err)
	}
	if _, err := json.Marshal(f); err != nil {
		t.Error(err)
	}
}

func withUsernsMappings(s *specs.Spec) {
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
}
