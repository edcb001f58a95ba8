// Package seccomp compiles linux.seccomp into a BPF program in the parent
// (with libseccomp) and loads that program in init with a raw seccomp(2), so
// init never pays for compiling.
//
// Use: the parent calls Compile (logging the skipped names with --debug) and
// ships the Compiled in the init config; init sets no_new_privs (or keeps
// CAP_SYS_ADMIN), calls Load as late as possible before execve, and, when
// Notify, hands the fd to SendListener (directly or via the parent).
package seccomp

import (
	"errors"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Compiled is a ready-to-load filter. It is plain data so it can be sent to
// init in configs.Config and cached by a hash of the source JSON.
type Compiled struct {
	// BPF is the sock_filter array exported by libseccomp, in host byte
	// order, covering the native architecture and the requested ones.
	BPF []byte `json:"bpf"`
	// Flags are SECCOMP_FILTER_FLAG_* for seccomp(2): linux.seccomp.flags
	// (SPEC_ALLOW when the field is absent and the kernel has it, as
	// runc does; TSYNC is accepted and left to init, which always syncs)
	// plus SECCOMP_FILTER_FLAG_NEW_LISTENER when Notify is set.
	Flags uint `json:"flags,omitempty"`
	// Notify is set when the filter uses SCMP_ACT_NOTIFY: Load then returns
	// the listener fd.
	Notify bool `json:"notify,omitempty"`
}

// maxInsns is BPF_MAXINSNS: the kernel refuses longer programs.
const maxInsns = 4096

// maxErrno is the largest errno libseccomp accepts (below MAX_ERRNO, 4095).
const maxErrno = 4094

// sockFilterSize is sizeof(struct sock_filter).
const sockFilterSize = 8

var actions = map[string]libseccomp.ScmpAction{
	"SCMP_ACT_KILL":         libseccomp.ActKillThread,
	"SCMP_ACT_KILL_THREAD":  libseccomp.ActKillThread,
	"SCMP_ACT_KILL_PROCESS": libseccomp.ActKillProcess,
	"SCMP_ACT_TRAP":         libseccomp.ActTrap,
	"SCMP_ACT_ERRNO":        libseccomp.ActErrno,
	"SCMP_ACT_TRACE":        libseccomp.ActTrace,
	"SCMP_ACT_ALLOW":        libseccomp.ActAllow,
	"SCMP_ACT_LOG":          libseccomp.ActLog,
	"SCMP_ACT_NOTIFY":       libseccomp.ActNotify,
}

// Names the spec lists that libseccomp-golang maps; whether the linked
// libseccomp knows the arch is checked by AddArch (2.5 lacks LOONGARCH64,
// M68K, SH).
var arches = map[string]libseccomp.ScmpArch{
	"SCMP_ARCH_X86":         libseccomp.ArchX86,
	"SCMP_ARCH_X86_64":      libseccomp.ArchAMD64,
	"SCMP_ARCH_X32":         libseccomp.ArchX32,
	"SCMP_ARCH_ARM":         libseccomp.ArchARM,
	"SCMP_ARCH_AARCH64":     libseccomp.ArchARM64,
	"SCMP_ARCH_MIPS":        libseccomp.ArchMIPS,
	"SCMP_ARCH_MIPS64":      libseccomp.ArchMIPS64,
	"SCMP_ARCH_MIPS64N32":   libseccomp.ArchMIPS64N32,
	"SCMP_ARCH_MIPSEL":      libseccomp.ArchMIPSEL,
	"SCMP_ARCH_MIPSEL64":    libseccomp.ArchMIPSEL64,
	"SCMP_ARCH_MIPSEL64N32": libseccomp.ArchMIPSEL64N32,
	"SCMP_ARCH_PPC":         libseccomp.ArchPPC,
	"SCMP_ARCH_PPC64":       libseccomp.ArchPPC64,
	"SCMP_ARCH_PPC64LE":     libseccomp.ArchPPC64LE,
	"SCMP_ARCH_S390":        libseccomp.ArchS390,
	"SCMP_ARCH_S390X":       libseccomp.ArchS390X,
	"SCMP_ARCH_PARISC":      libseccomp.ArchPARISC,
	"SCMP_ARCH_PARISC64":    libseccomp.ArchPARISC64,
	"SCMP_ARCH_RISCV64":     libseccomp.ArchRISCV64,
	"SCMP_ARCH_LOONGARCH64": libseccomp.ArchLOONGARCH64,
	"SCMP_ARCH_M68K":        libseccomp.ArchM68K,
	"SCMP_ARCH_SH":          libseccomp.ArchSH,
	"SCMP_ARCH_SHEB":        libseccomp.ArchSHEB,
}

var flags = map[specs.LinuxSeccompFlag]uint{
	specs.LinuxSeccompFlagLog:              unix.SECCOMP_FILTER_FLAG_LOG,
	specs.LinuxSeccompFlagSpecAllow:        unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
	specs.LinuxSeccompFlagWaitKillableRecv: unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
	// Init loads the filter with TSYNC whatever the config says.
	specs.LinuxSeccompFlag("SECCOMP_FILTER_FLAG_TSYNC"): 0,
}

var operators = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpNotEqual:     libseccomp.CompareNotEqual,
	specs.OpLessThan:     libseccomp.CompareLess,
	specs.OpLessEqual:    libseccomp.CompareLessOrEqual,
	specs.OpEqualTo:      libseccomp.CompareEqual,
	specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
	specs.OpGreaterThan:  libseccomp.CompareGreater,
	specs.OpMaskedEqual:  libseccomp.CompareMaskedEqual,
}

// fieldErr prefixes err with the config path it is about.
func fieldErr(path string, err error) error {
	return fmt.Errorf("%s: %w", path, err)
}

// oneLine keeps libseccomp's messages to one line in our errors.
func oneLine(err error) error {
	if s := err.Error(); strings.ContainsAny(s, "\r\n") {
		return fmt.Errorf("%s", strings.Join(strings.Fields(s), " "))
	}
	return err
}

// action resolves name plus the optional errno of the field at path.
func action(path, errnoPath, name string, errnoRet *uint) (libseccomp.ScmpAction, error) {
	act, ok := actions[name]
	if !ok {
		return libseccomp.ActInvalid, fieldErr(path, fmt.Errorf("unknown action %q", name))
	}
	switch act {
	case libseccomp.ActErrno, libseccomp.ActTrace:
		code := uint(unix.EPERM)
		if errnoRet != nil {
			code = *errnoRet
		}
		// SECCOMP_RET_DATA is 16 bits wide; an errno must also be one
		// (see maxErrno).
		limit := uint(unix.SECCOMP_RET_DATA)
		if act == libseccomp.ActErrno {
			limit = maxErrno
		}
		if code > limit {
			return libseccomp.ActInvalid, fieldErr(errnoPath, fmt.Errorf("%d out of range (max %d)", code, limit))
		}
		return act.SetReturnCode(int16(uint16(code))), nil
	}
	if errnoRet != nil {
		// The spec says the runtime must fail rather than ignore it.
		return libseccomp.ActInvalid, fieldErr(errnoPath, fmt.Errorf("not supported by action %s", name))
	}
	return act, nil
}

// Compile validates s and compiles it with libseccomp. Syscall names unknown
// to libseccomp are skipped and returned (deduplicated, in order) so the
// caller can log them. Any other problem is an error naming the field.
func Compile(s *specs.LinuxSeccomp) (*Compiled, []string, error) {
	if s == nil {
		return nil, nil, errors.New("linux.seccomp: missing")
	}
	defAct, err := action("linux.seccomp.defaultAction", "linux.seccomp.defaultErrnoRet", string(s.DefaultAction), s.DefaultErrnoRet)
	if err != nil {
		return nil, nil, err
	}
	if defAct == libseccomp.ActNotify {
		// Init itself makes syscalls after loading (passing the listener
		// fd, execve); they would wait on an agent that has no fd yet.
		return nil, nil, fieldErr("linux.seccomp.defaultAction", errors.New("SCMP_ACT_NOTIFY cannot be the default action"))
	}
	if s.ListenerMetadata != "" && s.ListenerPath == "" {
		return nil, nil, fieldErr("linux.seccomp.listenerMetadata", errors.New("set without linux.seccomp.listenerPath"))
	}

	c := &Compiled{}
	for i, f := range s.Flags {
		v, ok := flags[f]
		if !ok {
			return nil, nil, fieldErr(fmt.Sprintf("linux.seccomp.flags[%d]", i), fmt.Errorf("unknown flag %q", string(f)))
		}
		c.Flags |= v
	}
	if s.Flags == nil && kernelHasSpecAllow() {
		// No flags field: keep speculative-store-bypass mitigation off for
		// the container, as runc does (a kernel booted with
		// spec_store_bypass_disable=seccomp would turn it on).
		c.Flags |= unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
	}

	// Validate every rule before touching libseccomp so bad configs fail
	// fast and the loop below only deals with libseccomp errors.
	type rule struct {
		idx   int
		act   libseccomp.ScmpAction
		conds [][]libseccomp.ScmpCondition // OR of ANDs; nil: unconditional
	}
	rules := make([]rule, 0, len(s.Syscalls))
	for i, sc := range s.Syscalls {
		p := fmt.Sprintf("linux.seccomp.syscalls[%d]", i)
		act, err := action(p+".action", p+".errnoRet", string(sc.Action), sc.ErrnoRet)
		if err != nil {
			return nil, nil, err
		}
		if len(sc.Names) == 0 {
			return nil, nil, fieldErr(p+".names", errors.New("must contain at least one entry"))
		}
		if act == libseccomp.ActNotify {
			c.Notify = true
			// berth writes its errors after the filter is in place; a write
			// waiting on an agent would hang the container's start.
			for j, name := range sc.Names {
				if name == "write" {
					return nil, nil, fieldErr(fmt.Sprintf("%s.names[%d]", p, j), errors.New("SCMP_ACT_NOTIFY cannot be used for the write syscall"))
				}
			}
		}
		conds, err := conditions(p, sc.Args)
		if err != nil {
			return nil, nil, err
		}
		// libseccomp refuses rules whose action is the default one, and
		// they change nothing.
		if act == defAct {
			continue
		}
		rules = append(rules, rule{idx: i, act: act, conds: conds})
	}
	if c.Notify {
		if s.ListenerPath == "" {
			return nil, nil, fieldErr("linux.seccomp.listenerPath", errors.New("required when SCMP_ACT_NOTIFY is used"))
		}
		c.Flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	} else if c.Flags&unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV != 0 {
		// The kernel refuses it without a listener; say so here, not in init.
		return nil, nil, fieldErr("linux.seccomp.flags", errors.New("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV requires SCMP_ACT_NOTIFY"))
	}

	filter, err := libseccomp.NewFilter(defAct)
	if err != nil {
		return nil, nil, fmt.Errorf("linux.seccomp: creating filter: %w", oneLine(err))
	}
	defer filter.Release()

	native, err := libseccomp.GetNativeArch()
	if err != nil {
		return nil, nil, fmt.Errorf("linux.seccomp: native architecture: %w", oneLine(err))
	}
	filterArches := []libseccomp.ScmpArch{native}
	for i, a := range s.Architectures {
		arch, ok := arches[string(a)]
		if ok {
			err = filter.AddArch(arch)
			if arch != native {
				filterArches = append(filterArches, arch)
			}
		}
		if !ok || err != nil {
			p := fmt.Sprintf("linux.seccomp.architectures[%d]", i)
			if !ok {
				return nil, nil, fieldErr(p, fmt.Errorf("unknown architecture %q", string(a)))
			}
			if errors.Is(err, unix.EDOM) {
				// libseccomp cannot mix byte orders in one filter.
				err = fmt.Errorf("byte order differs from the native architecture: %w", err)
			}
			return nil, nil, fieldErr(p, fmt.Errorf("unsupported architecture %q: %w", string(a), oneLine(err)))
		}
	}

	var skipped []string
	seen := make(map[string]bool)
	for _, r := range rules {
		for j, name := range s.Syscalls[r.idx].Names {
			nr, err := libseccomp.GetSyscallFromName(name)
			if err != nil {
				if !seen[name] {
					seen[name] = true
					skipped = append(skipped, name)
				}
				continue
			}
			if err := addRule(filter, nr, r.act, r.conds); err != nil {
				return nil, nil, fieldErr(fmt.Sprintf("linux.seccomp.syscalls[%d].names[%d]", r.idx, j), fmt.Errorf("adding rule for %q: %w", name, oneLine(err)))
			}
		}
	}

	bpf, err := export(filter)
	if err != nil {
		return nil, nil, fmt.Errorf("linux.seccomp: exporting BPF: %w", oneLine(err))
	}
	if needsENOSYS(defAct) {
		bpf = append(enosysPrefix(highestNamed(filterArches, allNames(s))), bpf...)
	}
	if n := len(bpf) / sockFilterSize; len(bpf)%sockFilterSize != 0 || n == 0 || n > maxInsns {
		return nil, nil, fmt.Errorf("linux.seccomp: compiled filter has %d bytes (%d instructions); the kernel accepts 1 to %d instructions", len(bpf), n, maxInsns)
	}
	c.BPF = bpf
	return c, skipped, nil
}

// conditions turns args into an OR of ANDed condition sets: libseccomp
// cannot AND two conditions on one argument, so args sharing an index each
// become their own rule, otherwise all args form one rule.
func conditions(p string, args []specs.LinuxSeccompArg) ([][]libseccomp.ScmpCondition, error) {
	if len(args) == 0 {
		return nil, nil
	}
	conds := make([]libseccomp.ScmpCondition, len(args))
	var used [6]bool
	split := false
	for k, a := range args {
		ap := fmt.Sprintf("%s.args[%d]", p, k)
		op, ok := operators[a.Op]
		if !ok {
			return nil, fieldErr(ap+".op", fmt.Errorf("unknown operator %q", string(a.Op)))
		}
		if a.Index > 5 {
			return nil, fieldErr(ap+".index", fmt.Errorf("%d out of range (syscalls have 6 arguments, 0 to 5)", a.Index))
		}
		// For SCMP_CMP_MASKED_EQ value is the mask and valueTwo the datum.
		cond, err := libseccomp.MakeCondition(a.Index, op, a.Value, a.ValueTwo)
		if err != nil {
			return nil, fieldErr(ap, oneLine(err))
		}
		conds[k] = cond
		if used[a.Index] {
			split = true
		}
		used[a.Index] = true
	}
	if !split {
		return [][]libseccomp.ScmpCondition{conds}, nil
	}
	out := make([][]libseccomp.ScmpCondition, len(conds))
	for k := range conds {
		out[k] = conds[k : k+1 : k+1]
	}
	return out, nil
}

func addRule(f *libseccomp.ScmpFilter, nr libseccomp.ScmpSyscall, act libseccomp.ScmpAction, conds [][]libseccomp.ScmpCondition) error {
	if conds == nil {
		return f.AddRule(nr, act)
	}
	for _, c := range conds {
		if err := f.AddRuleConditional(nr, act, c); err != nil {
			return err
		}
	}
	return nil
}

// export returns the BPF program. libseccomp < 2.6 has no in-memory export,
// so fall back to writing it into a memfd.
func export(f *libseccomp.ScmpFilter) ([]byte, error) {
	if b, err := f.ExportBPFMem(); err == nil {
		return b, nil
	}
	fd, err := unix.MemfdCreate("berth-seccomp", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	file := os.NewFile(uintptr(fd), "berth-seccomp")
	defer file.Close()
	if err := f.ExportBPF(file); err != nil {
		return nil, err
	}
	n, err := file.Seek(0, 1)
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := file.ReadAt(b, 0); err != nil {
		return nil, err
	}
	return b, nil
}

// allNames is every syscall name the profile lists, whatever its action.
func allNames(s *specs.LinuxSeccomp) []string {
	var names []string
	for _, sc := range s.Syscalls {
		names = append(names, sc.Names...)
	}
	return names
}
