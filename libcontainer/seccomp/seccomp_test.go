package seccomp

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

func uptr(v uint) *uint { return &v }

type insn struct {
	code   uint16
	jt, jf uint8
	k      uint32
}

func decode(t *testing.T, b []byte) []insn {
	t.Helper()
	if len(b)%sockFilterSize != 0 {
		t.Fatalf("BPF length %d is not a multiple of %d", len(b), sockFilterSize)
	}
	out := make([]insn, 0, len(b)/sockFilterSize)
	for i := 0; i < len(b); i += sockFilterSize {
		out = append(out, insn{
			code: binary.NativeEndian.Uint16(b[i:]),
			jt:   b[i+2],
			jf:   b[i+3],
			k:    binary.NativeEndian.Uint32(b[i+4:]),
		})
	}
	return out
}

const (
	bpfRetK = unix.BPF_RET | unix.BPF_K
	bpfJeqK = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
)

// count returns how many instructions with code have k == want.
func count(t *testing.T, c *Compiled, code uint16, want uint32) int {
	n := 0
	for _, in := range decode(t, c.BPF) {
		if in.code == code && in.k == want {
			n++
		}
	}
	return n
}

func mustCompile(t *testing.T, s *specs.LinuxSeccomp) (*Compiled, []string) {
	t.Helper()
	c, skipped, err := Compile(s)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return c, skipped
}

func rule(action specs.LinuxSeccompAction, errnoRet *uint, names ...string) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: names, Action: action, ErrnoRet: errnoRet}
}

func TestCompileRuleActionReturnValue(t *testing.T) {
	for _, tc := range []struct {
		action   specs.LinuxSeccompAction
		errnoRet *uint
		ret      uint32
		notify   bool
	}{
		{specs.ActKill, nil, unix.SECCOMP_RET_KILL_THREAD, false},
		{specs.ActKillThread, nil, unix.SECCOMP_RET_KILL_THREAD, false},
		{specs.ActKillProcess, nil, unix.SECCOMP_RET_KILL_PROCESS, false},
		{specs.ActTrap, nil, unix.SECCOMP_RET_TRAP, false},
		{specs.ActErrno, nil, unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM), false},
		{specs.ActErrno, uptr(38), unix.SECCOMP_RET_ERRNO | 38, false},
		{specs.ActErrno, uptr(0), unix.SECCOMP_RET_ERRNO, false},
		{specs.ActErrno, uptr(4094), unix.SECCOMP_RET_ERRNO | 4094, false},
		{specs.ActTrace, nil, unix.SECCOMP_RET_TRACE | uint32(unix.EPERM), false},
		{specs.ActTrace, uptr(7), unix.SECCOMP_RET_TRACE | 7, false},
		{specs.ActTrace, uptr(0xffff), unix.SECCOMP_RET_TRACE | 0xffff, false},
		{specs.ActLog, nil, unix.SECCOMP_RET_LOG, false},
		{specs.ActNotify, nil, unix.SECCOMP_RET_USER_NOTIF, true},
	} {
		name := string(tc.action)
		if tc.errnoRet != nil {
			name += fmt.Sprintf("/%d", *tc.errnoRet)
		}
		t.Run(name, func(t *testing.T) {
			base := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/x"}
			with := *base
			with.Syscalls = []specs.LinuxSyscall{rule(tc.action, tc.errnoRet, "getppid")}
			b, _ := mustCompile(t, base)
			c, _ := mustCompile(t, &with)
			if count(t, c, bpfJeqK, unix.SYS_GETPPID) == 0 {
				t.Error("no rule for getppid in the filter")
			}
			// Kill shares its ret with the bad-arch verdict; others must add one.
			if got, was := count(t, c, bpfRetK, tc.ret), count(t, b, bpfRetK, tc.ret); got <= was && tc.ret != unix.SECCOMP_RET_KILL_THREAD {
				t.Errorf("return %#x appears %d times, %d without the rule", tc.ret, got, was)
			}
			if c.Notify != tc.notify {
				t.Errorf("Notify = %v, want %v", c.Notify, tc.notify)
			}
			if hasL := c.Flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0; hasL != tc.notify {
				t.Errorf("NEW_LISTENER in Flags = %v, want %v", hasL, tc.notify)
			}
		})
	}
}

func TestCompileDefaultActionReturnValue(t *testing.T) {
	for _, tc := range []struct {
		action   specs.LinuxSeccompAction
		errnoRet *uint
		ret      uint32
	}{
		{specs.ActAllow, nil, unix.SECCOMP_RET_ALLOW},
		{specs.ActKill, nil, unix.SECCOMP_RET_KILL_THREAD},
		{specs.ActKillThread, nil, unix.SECCOMP_RET_KILL_THREAD},
		{specs.ActKillProcess, nil, unix.SECCOMP_RET_KILL_PROCESS},
		{specs.ActTrap, nil, unix.SECCOMP_RET_TRAP},
		{specs.ActErrno, nil, unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{specs.ActErrno, uptr(uint(unix.ENOSYS)), unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)},
		{specs.ActTrace, nil, unix.SECCOMP_RET_TRACE | uint32(unix.EPERM)},
		{specs.ActTrace, uptr(3), unix.SECCOMP_RET_TRACE | 3},
		{specs.ActLog, nil, unix.SECCOMP_RET_LOG},
	} {
		t.Run(string(tc.action), func(t *testing.T) {
			c, _ := mustCompile(t, &specs.LinuxSeccomp{DefaultAction: tc.action, DefaultErrnoRet: tc.errnoRet})
			if count(t, c, bpfRetK, tc.ret) == 0 {
				t.Errorf("no ret %#x in the filter", tc.ret)
			}
		})
	}
}

func TestCompileArchitectureInFilter(t *testing.T) {
	maj, min, _ := libseccomp.GetLibraryVersion()
	has26 := maj > 2 || (maj == 2 && min >= 6)
	littleHost := binary.NativeEndian.Uint16([]byte{1, 0}) == 1
	for _, tc := range []struct {
		arch    string
		audit   uint32
		needs26 bool
		little  bool
	}{
		{"SCMP_ARCH_X86", unix.AUDIT_ARCH_I386, false, true},
		{"SCMP_ARCH_X86_64", unix.AUDIT_ARCH_X86_64, false, true},
		{"SCMP_ARCH_X32", unix.AUDIT_ARCH_X86_64, false, true},
		{"SCMP_ARCH_ARM", unix.AUDIT_ARCH_ARM, false, true},
		{"SCMP_ARCH_AARCH64", unix.AUDIT_ARCH_AARCH64, false, true},
		{"SCMP_ARCH_MIPS", unix.AUDIT_ARCH_MIPS, false, false},
		{"SCMP_ARCH_MIPS64", unix.AUDIT_ARCH_MIPS64, false, false},
		{"SCMP_ARCH_MIPS64N32", unix.AUDIT_ARCH_MIPS64N32, false, false},
		{"SCMP_ARCH_MIPSEL", unix.AUDIT_ARCH_MIPSEL, false, true},
		{"SCMP_ARCH_MIPSEL64", unix.AUDIT_ARCH_MIPSEL64, false, true},
		{"SCMP_ARCH_MIPSEL64N32", unix.AUDIT_ARCH_MIPSEL64N32, false, true},
		{"SCMP_ARCH_PPC", unix.AUDIT_ARCH_PPC, false, false},
		{"SCMP_ARCH_PPC64", unix.AUDIT_ARCH_PPC64, false, false},
		{"SCMP_ARCH_PPC64LE", unix.AUDIT_ARCH_PPC64LE, false, true},
		{"SCMP_ARCH_S390", unix.AUDIT_ARCH_S390, false, false},
		{"SCMP_ARCH_S390X", unix.AUDIT_ARCH_S390X, false, false},
		{"SCMP_ARCH_PARISC", unix.AUDIT_ARCH_PARISC, false, false},
		{"SCMP_ARCH_PARISC64", unix.AUDIT_ARCH_PARISC64, false, false},
		{"SCMP_ARCH_RISCV64", unix.AUDIT_ARCH_RISCV64, false, true},
		{"SCMP_ARCH_LOONGARCH64", unix.AUDIT_ARCH_LOONGARCH64, true, true},
		{"SCMP_ARCH_M68K", unix.AUDIT_ARCH_M68K, true, false},
		{"SCMP_ARCH_SH", unix.AUDIT_ARCH_SHEL, true, true},
		{"SCMP_ARCH_SHEB", unix.AUDIT_ARCH_SH, true, false},
	} {
		t.Run(tc.arch, func(t *testing.T) {
			s := &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Architectures: []specs.Arch{specs.Arch(tc.arch)},
				Syscalls:      []specs.LinuxSyscall{rule(specs.ActErrno, nil, "close")},
			}
			c, _, err := Compile(s)
			if tc.little != littleHost && (has26 || !tc.needs26) {
				want := `linux.seccomp.architectures[0]: unsupported architecture "` + tc.arch + `": byte order differs from the native architecture: `
				if err == nil || !strings.HasPrefix(err.Error(), want) {
					t.Fatalf("err = %v, want prefix %q", err, want)
				}
				return
			}
			if tc.needs26 && !has26 {
				want := `linux.seccomp.architectures[0]: unsupported architecture "` + tc.arch + `"`
				if err == nil || !strings.HasPrefix(err.Error(), want) {
					t.Fatalf("err = %v, want prefix %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if count(t, c, bpfJeqK, tc.audit) == 0 {
				t.Errorf("filter does not check for audit arch %#x", tc.audit)
			}
		})
	}
}

func TestCompileFlagsValue(t *testing.T) {
	notify := []specs.LinuxSyscall{rule(specs.ActNotify, nil, "getppid")}
	for _, tc := range []struct {
		flag     specs.LinuxSeccompFlag
		syscalls []specs.LinuxSyscall
		want     uint
	}{
		{"SECCOMP_FILTER_FLAG_TSYNC", nil, 0}, // init always syncs
		{specs.LinuxSeccompFlagLog, nil, unix.SECCOMP_FILTER_FLAG_LOG},
		{specs.LinuxSeccompFlagSpecAllow, nil, unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW},
		{specs.LinuxSeccompFlagWaitKillableRecv, notify, unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER},
	} {
		t.Run(string(tc.flag), func(t *testing.T) {
			c, _ := mustCompile(t, &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Flags:         []specs.LinuxSeccompFlag{tc.flag},
				ListenerPath:  "/run/agent.sock",
				Syscalls:      tc.syscalls,
			})
			if c.Flags != tc.want {
				t.Errorf("Flags = %#x, want %#x", c.Flags, tc.want)
			}
		})
	}
}

func TestCompileOperatorCompiles(t *testing.T) {
	for _, op := range []specs.LinuxSeccompOperator{
		specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
		specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual,
	} {
		t.Run(string(op), func(t *testing.T) {
			s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{
				Names: []string{"getppid"}, Action: specs.ActErrno,
				Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0xff, ValueTwo: 0x10, Op: op}},
			}}}
			c, _ := mustCompile(t, s)
			if count(t, c, bpfRetK, unix.SECCOMP_RET_ERRNO|uint32(unix.EPERM)) == 0 {
				t.Error("conditional ERRNO rule missing from the filter")
			}
		})
	}
}

func TestCompileErrorNamesField(t *testing.T) {
	ok := rule(specs.ActAllow, nil, "getppid")
	arg := func(a specs.LinuxSeccompArg) specs.LinuxSyscall {
		return specs.LinuxSyscall{Names: []string{"getppid"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 1, Op: specs.OpEqualTo}, a}}
	}
	for _, tc := range []struct {
		name string
		s    *specs.LinuxSeccomp
		want string
	}{
		{"nil", nil, "linux.seccomp: missing"},
		{"empty default", &specs.LinuxSeccomp{}, `linux.seccomp.defaultAction: unknown action ""`},
		{"unknown default", &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_NOPE"}, `linux.seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"`},
		{"notify default", &specs.LinuxSeccomp{DefaultAction: specs.ActNotify, ListenerPath: "/x"}, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action"},
		{"defaultErrnoRet with allow", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, DefaultErrnoRet: uptr(1)}, "linux.seccomp.defaultErrnoRet: not supported by action SCMP_ACT_ALLOW"},
		{"defaultErrnoRet too big", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: uptr(65536)}, "linux.seccomp.defaultErrnoRet: 65536 out of range (max 4094)"},
		{"errnoRet above MAX_ERRNO", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{rule(specs.ActErrno, uptr(4095), "read")}}, "linux.seccomp.syscalls[0].errnoRet: 4095 out of range (max 4094)"},
		{"unknown action", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{ok, ok, ok, rule("SCMP_ACT_FOO", nil, "read")}}, `linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"`},
		{"errnoRet with kill", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{rule(specs.ActKillProcess, uptr(1), "read")}}, "linux.seccomp.syscalls[0].errnoRet: not supported by action SCMP_ACT_KILL_PROCESS"},
		{"errnoRet too big", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{ok, rule(specs.ActTrace, uptr(1<<20), "read")}}, "linux.seccomp.syscalls[1].errnoRet: 1048576 out of range (max 65535)"},
		{"no names", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Action: specs.ActErrno}}}, "linux.seccomp.syscalls[0].names: must contain at least one entry"},
		{"unknown arch", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_BOGUS"}}, `linux.seccomp.architectures[0]: unknown architecture "SCMP_ARCH_BOGUS"`},
		{"unknown arch second", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_X86", "x86_64"}}, `linux.seccomp.architectures[1]: unknown architecture "x86_64"`},
		{"unknown flag", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, "SECCOMP_FILTER_FLAG_BOGUS"}}, `linux.seccomp.flags[1]: unknown flag "SECCOMP_FILTER_FLAG_BOGUS"`},
		{"wait killable without notify", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}}, "linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV requires SCMP_ACT_NOTIFY"},
		{"unknown operator", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{ok, ok, {Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Op: "SCMP_CMP_FOO"}}}}}, `linux.seccomp.syscalls[2].args[0].op: unknown operator "SCMP_CMP_FOO"`},
		{"empty operator", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{arg(specs.LinuxSeccompArg{})}}, `linux.seccomp.syscalls[0].args[1].op: unknown operator ""`},
		{"index out of range", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{arg(specs.LinuxSeccompArg{Index: 6, Op: specs.OpEqualTo})}}, "linux.seccomp.syscalls[0].args[1].index: 6 out of range (syscalls have 6 arguments, 0 to 5)"},
		{"notify without listenerPath", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{rule(specs.ActNotify, nil, "getppid")}}, "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used"},
		{"metadata without listenerPath", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerMetadata: "m"}, "linux.seccomp.listenerMetadata: set without linux.seccomp.listenerPath"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := Compile(tc.s)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if c != nil {
				t.Errorf("Compiled = %+v on error, want nil", c)
			}
		})
	}
}

func TestCompileSkipsUnknownNames(t *testing.T) {
	c, skipped := mustCompile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
		rule(specs.ActErrno, nil, "no_such_syscall", "getppid", "another_bogus"),
		rule(specs.ActLog, nil, "no_such_syscall", ""),
	}})
	if want := []string{"no_such_syscall", "another_bogus", ""}; !slices.Equal(skipped, want) {
		t.Errorf("skipped = %q, want %q", skipped, want)
	}
	if count(t, c, bpfJeqK, uint32(unix.SYS_GETPPID)) == 0 {
		t.Error("known name getppid was not compiled")
	}
}

func TestCompileIgnoresRuleWithDefaultAction(t *testing.T) {
	// Names below getppid's number, so that the ENOSYS prefix stays the same.
	base := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{rule(specs.ActAllow, nil, "getppid")}}
	with := *base
	with.Syscalls = append(slices.Clone(base.Syscalls),
		rule(specs.ActErrno, nil, "read"),
		rule(specs.ActErrno, uptr(uint(unix.EPERM)), "getpid"),
	)
	b, _ := mustCompile(t, base)
	c, _ := mustCompile(t, &with)
	if !slices.Equal(b.BPF, c.BPF) {
		t.Error("rules equal to the default action changed the filter")
	}
	// A different errno is a different action and must be kept.
	with.Syscalls = append(with.Syscalls, rule(specs.ActErrno, uptr(5), "getpid"))
	d, _ := mustCompile(t, &with)
	if count(t, d, bpfRetK, unix.SECCOMP_RET_ERRNO|5) == 0 {
		t.Error("rule with a non-default errno was dropped")
	}
}

func TestCompileSameIndexArgsCompile(t *testing.T) {
	// libseccomp refuses two conditions on one argument in one rule; Compile
	// must split them into separate (ORed) rules.
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{
		Names: []string{"getppid"}, Action: specs.ActErrno,
		Args: []specs.LinuxSeccompArg{{Index: 0, Value: 1, Op: specs.OpEqualTo}, {Index: 0, Value: 2, Op: specs.OpEqualTo}},
	}}}
	c, _ := mustCompile(t, s)
	for _, v := range []uint32{1, 2} {
		if count(t, c, bpfJeqK, v) == 0 {
			t.Errorf("no comparison with %d in the filter", v)
		}
	}
}

func TestCompiledJSONRoundTrip(t *testing.T) {
	c, _ := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow, ListenerPath: "/x",
		Syscalls: []specs.LinuxSyscall{rule(specs.ActNotify, nil, "getppid")},
	})
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Compiled
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*c, back) {
		t.Errorf("round trip changed the filter: %+v != %+v", back, *c)
	}
}

func TestCompileDeterministic(t *testing.T) {
	s := loadProfile(t, "testdata/docker-default.json")
	a, _ := mustCompile(t, s)
	b, _ := mustCompile(t, s)
	if !slices.Equal(a.BPF, b.BPF) {
		t.Error("two compilations of one profile differ; a cache keyed by its hash would be wrong")
	}
}

func TestCompileDockerProfileSkipsOnlyUnknown(t *testing.T) {
	c, skipped := mustCompile(t, loadProfile(t, "testdata/docker-default.json"))
	// Only syscalls newer than some libseccomp releases may be skipped.
	newer := []string{"cachestat", "map_shadow_stack", "mseal", "lsm_get_self_attr", "listmount", "statmount", "fchmodat2", "futex_waitv", "memfd_secret", "process_mrelease"}
	for _, n := range skipped {
		if !slices.Contains(newer, n) {
			t.Errorf("%q skipped, but libseccomp should know it", n)
		}
	}
	if n := len(c.BPF) / sockFilterSize; n > maxInsns {
		t.Errorf("%d instructions", n)
	}
}

func loadProfile(t testing.TB, path string) *specs.LinuxSeccomp {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s specs.LinuxSeccomp
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func BenchmarkCompileDockerProfile(b *testing.B) {
	s := loadProfile(b, "testdata/docker-default.json")
	for b.Loop() {
		if _, _, err := Compile(s); err != nil {
			b.Fatal(err)
		}
	}
}
