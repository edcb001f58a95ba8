package seccomp

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestCompileENOSYSPrefixOnlyWhenDefaultRefuses(t *testing.T) {
	const retENOSYS = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	x86 := []specs.Arch{specs.ArchX86, specs.ArchX32, specs.ArchX86_64}
	for _, tc := range []struct {
		def    specs.LinuxSeccompAction
		arches []specs.Arch
		names  []string
		prefix bool
	}{
		{specs.ActAllow, x86, []string{"mkdir"}, false},
		{specs.ActLog, x86, []string{"mkdir"}, false},
		{specs.ActErrno, x86, []string{"mkdir"}, true},
		{specs.ActErrno, nil, []string{"mkdir"}, true},
		{specs.ActKillProcess, x86, []string{"getppid"}, true},
		{specs.ActTrap, nil, []string{"getppid"}, true},
		// Nothing named resolves: no highest number to compare with.
		{specs.ActErrno, x86, []string{"no_such_syscall"}, false},
	} {
		t.Run(string(tc.def), func(t *testing.T) {
			act := specs.ActAllow
			if tc.def == specs.ActAllow || tc.def == specs.ActLog {
				act = specs.ActErrno
			}
			c, _ := mustCompile(t, &specs.LinuxSeccomp{
				DefaultAction: tc.def, Architectures: tc.arches,
				Syscalls: []specs.LinuxSyscall{rule(act, nil, tc.names...)},
			})
			if got := count(t, c, bpfRetK, retENOSYS) > 0; got != tc.prefix {
				t.Errorf("ENOSYS prefix present = %v, want %v", got, tc.prefix)
			}
		})
	}
}

func TestENOSYSPrefixComparesHighestPerArch(t *testing.T) {
	c, _ := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86, specs.ArchX32, specs.ArchX86_64},
		Syscalls:      []specs.LinuxSyscall{rule(specs.ActAllow, nil, "read", "mkdir", "openat2")},
	})
	const jgtK = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
	// openat2 is 437 on x86_64 and i386, 0x40000000+437 on x32.
	for _, want := range []uint32{437, x32Bit + 437} {
		if count(t, c, jgtK, want) == 0 {
			t.Errorf("no jgt %#x in the prefix", want)
		}
	}
	if n := count(t, c, bpfJeqK, unix.AUDIT_ARCH_I386); n == 0 {
		t.Error("prefix does not test for i386")
	}
}

// The prefix for every arch libseccomp takes in one (little-endian)
// filter: each jump stays inside the program, and the arch checks end in
// "go on" and "return ENOSYS".
func TestENOSYSPrefixJumpsStayInside(t *testing.T) {
	var all []specs.Arch
	for name := range arches {
		s := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.Arch(name)},
			Syscalls: []specs.LinuxSyscall{rule(specs.ActAllow, nil, "read")}}
		if _, _, err := Compile(s); err == nil {
			all = append(all, specs.Arch(name))
		}
	}
	c, _ := mustCompile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: all,
		Syscalls: []specs.LinuxSyscall{rule(specs.ActAllow, nil, "read", "openat", "mkdir")}})
	ins := decode(t, c.BPF)
	for i, in := range ins {
		if in.code&0x07 != unix.BPF_JMP || in.code == opJa {
			continue
		}
		if i+1+int(in.jt) >= len(ins) || i+1+int(in.jf) >= len(ins) {
			t.Fatalf("insn %d (%+v) jumps outside the %d instructions", i, in, len(ins))
		}
	}
	// Find the prefix's end: "ja 1" right before "ret ENOSYS".
	for i := 0; i+1 < len(ins); i++ {
		if ins[i].code == opJa && ins[i].k == 1 && ins[i+1].code == opRet && ins[i+1].k == unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS) {
			t.Logf("%d arches, prefix of %d instructions", len(all), i+2)
			return
		}
	}
	t.Fatal("no prefix end found")
}

// Every arch a profile may name gets the prefix: none may lack its audit value.
func TestEveryArchHasAnAuditArch(t *testing.T) {
	for name, a := range arches {
		if _, ok := auditArches[a]; !ok {
			t.Errorf("%s: no AUDIT_ARCH value for the ENOSYS prefix", name)
		}
	}
}
