package specconv

import (
	"errors"
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Features returns the `berth features` document. version is berth's own
// version, published as the io.github.berth.version annotation.
func Features(version string) (*features.Features, error) {
	idmap := idmapMountsAvailable()
	var caps []string
	for _, c := range capNames {
		caps = append(caps, c.name)
	}
	ns := make([]string, len(namespaceTypes))
	for i, t := range namespaceTypes {
		ns[i] = string(t)
	}
	maj, min, micro := seccomp.GetLibraryVersion()
	return &features.Features{
		OCIVersionMin: minVersion,
		OCIVersionMax: specs.Version,
		Hooks:         append([]string(nil), hookNames...),
		MountOptions:  knownMountOptions(idmap),
		Linux: &features.Linux{
			Namespaces:   ns,
			Capabilities: caps,
			Cgroup: &features.Cgroup{
				V1:          new(true),
				V2:          new(true),
				Systemd:     new(true),
				SystemdUser: new(false),
				Rdma:        new(true),
			},
			Seccomp:         seccompFeatures(),
			Apparmor:        &features.Apparmor{Enabled: new(false)},
			Selinux:         &features.Selinux{Enabled: new(false)},
			IntelRdt:        &features.IntelRdt{Enabled: new(true), Schemata: new(true), Monitoring: new(true)},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: new(idmap)}},
			NetDevices:      &features.NetDevices{Enabled: new(true)},
			MemoryPolicy:    &features.MemoryPolicy{Modes: MemoryPolicyModes(), Flags: MemoryPolicyFlags()},
		},
		Annotations: map[string]string{
			"io.github.berth.version":            version,
			"io.github.berth.libseccomp.version": fmt.Sprintf("%d.%d.%d", maj, min, micro),
		},
	}, nil
}

// idmapMountsAvailable probes for mount_setattr(2) (Linux 5.12), which
// id-mapped mounts need. Only ENOSYS means absent: EPERM or EINVAL come
// from a syscall that exists.
func idmapMountsAvailable() bool {
	err := unix.MountSetattr(-1, "", 0, &unix.MountAttr{})
	return !errors.Is(err, unix.ENOSYS)
}

var seccompActions = []string{
	"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
	"SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
}

var seccompOperators = []string{
	"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
	"SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
}

// seccompArchs is every architecture config-linux.md names.
var seccompArchs = []string{
	"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
	"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
	"SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64",
	"SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64",
	"SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
	"SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64",
}

// seccompFlags are the filter flags the spec knows, with the kernel flag
// bits to probe. berth loads filters with seccomp(2) itself (init never
// runs libseccomp), so the linked libseccomp's API level does not matter.
var seccompFlags = []struct {
	name   string
	kernel uintptr
}{
	{"SECCOMP_FILTER_FLAG_TSYNC", unix.SECCOMP_FILTER_FLAG_TSYNC},
	{"SECCOMP_FILTER_FLAG_LOG", unix.SECCOMP_FILTER_FLAG_LOG},
	{"SECCOMP_FILTER_FLAG_SPEC_ALLOW", unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW},
	// The kernel only takes WAIT_KILLABLE_RECV together with NEW_LISTENER.
	{"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER},
}

func seccompFeatures() *features.Seccomp {
	sf := &features.Seccomp{
		Enabled:   new(true),
		Actions:   append([]string(nil), seccompActions...),
		Operators: append([]string(nil), seccompOperators...),
	}
	// An arch is usable only if the linked libseccomp knows it; the Go
	// binding reports that through IsArchPresent's argument check.
	if filter, err := seccomp.NewFilter(seccomp.ActAllow); err == nil {
		for _, name := range seccompArchs {
			a, err := seccomp.GetArchFromString(strings.ToLower(strings.TrimPrefix(name, "SCMP_ARCH_")))
			if err != nil {
				continue
			}
			if _, err := filter.IsArchPresent(a); err == nil {
				sf.Archs = append(sf.Archs, name)
			}
		}
		filter.Release()
	}
	for _, fl := range seccompFlags {
		sf.KnownFlags = append(sf.KnownFlags, fl.name)
		if kernelHasSeccompFlag(fl.kernel) {
			sf.SupportedFlags = append(sf.SupportedFlags, fl.name)
		}
	}
	return sf
}

// kernelHasSeccompFlag asks seccomp(SECCOMP_SET_MODE_FILTER) with a NULL
// program: known flags get past the flag check and fail with EFAULT on the
// program pointer, unknown ones fail with EINVAL. Nothing is installed.
func kernelHasSeccompFlag(flags uintptr) bool {
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, 0)
	return errno == unix.EFAULT
}
