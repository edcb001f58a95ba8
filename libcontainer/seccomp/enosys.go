package seccomp

import (
	"encoding/binary"
	"fmt"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// The ENOSYS prefix. A deny-by-default profile written before a syscall
// existed gives that syscall its default errno (usually EPERM), and libc
// falls back to an older call only on ENOSYS (clone3 -> clone, statx ->
// fstatat, ...). So, for each architecture in the filter, a syscall number
// above the highest one the profile names gets ENOSYS; the rest goes on to
// libseccomp's program. A profile that allows by default needs no prefix.

// x32Bit marks x32 syscalls, which share AUDIT_ARCH_X86_64 with x86_64.
const x32Bit = 0x40000000

// Offsets in struct seccomp_data.
const (
	dataNr   = 0
	dataArch = 4
)

// auditArches maps libseccomp's arches to the value the kernel puts in
// seccomp_data.arch; x32 shares x86_64's (told apart by x32Bit).
var auditArches = map[libseccomp.ScmpArch]uint32{
	libseccomp.ArchX86:         unix.AUDIT_ARCH_I386,
	libseccomp.ArchAMD64:       unix.AUDIT_ARCH_X86_64,
	libseccomp.ArchX32:         unix.AUDIT_ARCH_X86_64,
	libseccomp.ArchARM:         unix.AUDIT_ARCH_ARM,
	libseccomp.ArchARM64:       unix.AUDIT_ARCH_AARCH64,
	libseccomp.ArchMIPS:        unix.AUDIT_ARCH_MIPS,
	libseccomp.ArchMIPS64:      unix.AUDIT_ARCH_MIPS64,
	libseccomp.ArchMIPS64N32:   unix.AUDIT_ARCH_MIPS64N32,
	libseccomp.ArchMIPSEL:      unix.AUDIT_ARCH_MIPSEL,
	libseccomp.ArchMIPSEL64:    unix.AUDIT_ARCH_MIPSEL64,
	libseccomp.ArchMIPSEL64N32: unix.AUDIT_ARCH_MIPSEL64N32,
	libseccomp.ArchPPC:         unix.AUDIT_ARCH_PPC,
	libseccomp.ArchPPC64:       unix.AUDIT_ARCH_PPC64,
	libseccomp.ArchPPC64LE:     unix.AUDIT_ARCH_PPC64LE,
	libseccomp.ArchS390:        unix.AUDIT_ARCH_S390,
	libseccomp.ArchS390X:       unix.AUDIT_ARCH_S390X,
	libseccomp.ArchPARISC:      unix.AUDIT_ARCH_PARISC,
	libseccomp.ArchPARISC64:    unix.AUDIT_ARCH_PARISC64,
	libseccomp.ArchRISCV64:     unix.AUDIT_ARCH_RISCV64,
	libseccomp.ArchLOONGARCH64: unix.AUDIT_ARCH_LOONGARCH64,
	libseccomp.ArchM68K:        unix.AUDIT_ARCH_M68K,
	libseccomp.ArchSH:          unix.AUDIT_ARCH_SHEL, // libseccomp's "sh" is little-endian
	libseccomp.ArchSHEB:        unix.AUDIT_ARCH_SH,
}

// needsENOSYS reports whether the default action refuses syscalls: only
// then does an unknown one need ENOSYS instead.
func needsENOSYS(def libseccomp.ScmpAction) bool {
	switch def & 0xffff { // the low half is the action, SetReturnCode fills the high one
	case libseccomp.ActErrno, libseccomp.ActKillThread, libseccomp.ActKillProcess, libseccomp.ActTrap:
		return true
	}
	return false
}

// archMax is the highest syscall number the profile names on one arch.
type archMax struct {
	audit uint32
	x32   bool // numbers carry x32Bit
	max   uint32
}

// highestNamed returns, per arch of the filter, the highest syscall number
// among names; arches where no name resolves are left out.
func highestNamed(arches []libseccomp.ScmpArch, names []string) []archMax {
	var out []archMax
	for _, a := range arches {
		audit, ok := auditArches[a]
		if !ok {
			continue
		}
		m := archMax{audit: audit, x32: a == libseccomp.ArchX32}
		found := false
		for _, n := range names {
			nr, err := libseccomp.GetSyscallFromNameByArch(n, a)
			// Negative numbers are libseccomp's pseudo syscalls
			// (multiplexed through socketcall or ipc).
			if err != nil || int32(nr) < 0 {
				continue
			}
			if v := uint32(nr); !found || v > m.max {
				m.max, found = v, true
			}
		}
		if found {
			out = append(out, m)
		}
	}
	return out
}

// bpf assembles classic BPF with forward jumps to the stub's two exits.
type bpf struct {
	insns []unix.SockFilter
}

func (b *bpf) emit(code uint16, jt, jf uint8, k uint32) {
	b.insns = append(b.insns, unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k})
}

const (
	opLdAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	opJeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	opJgt   = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
	opJset  = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	opJa    = unix.BPF_JMP | unix.BPF_JA
	opRet   = unix.BPF_RET | unix.BPF_K
)

// enosysPrefix returns the prefix program, or nil when no arch has a
// highest number. It ends in two instructions: "go on" (jump over the
// next) and "return ENOSYS"; the filter proper follows it, and starts by
// loading the arch again.
func enosysPrefix(maxes []archMax) []byte {
	if len(maxes) == 0 {
		return nil
	}
	// Group by audit value, keeping order: x86_64 and x32 share one.
	type group struct {
		audit  uint32
		native *uint32
		x32    *uint32
	}
	var groups []*group
	byAudit := map[uint32]*group{}
	for i := range maxes {
		m := &maxes[i]
		g := byAudit[m.audit]
		if g == nil {
			g = &group{audit: m.audit}
			byAudit[m.audit] = g
			groups = append(groups, g)
		}
		if m.x32 {
			g.x32 = &m.max
		} else {
			g.native = &m.max
		}
	}
	// Each group is: jeq arch; ld nr; [jset x32Bit]; jgt per part. Jumps
	// are to "next group", "go on" or "enosys", all forward: the offsets
	// are filled in once the exits' positions are known.
	type fix struct {
		at     int
		jt, jf int // targets: >=0 an index, -1 go on, -2 enosys
	}
	var b bpf
	var fixes []fix
	const goOn, enosys = -1, -2
	b.emit(opLdAbs, 0, 0, dataArch)
	for gi, g := range groups {
		jeq := len(b.insns)
		b.emit(opJeq, 0, 0, g.audit)
		b.emit(opLdAbs, 0, 0, dataNr)
		part := func(max *uint32) {
			if max == nil {
				// The profile names nothing here: no prefix check.
				fixes = append(fixes, fix{at: len(b.insns), jt: goOn, jf: goOn})
				b.emit(opJeq, 0, 0, 0)
				return
			}
			fixes = append(fixes, fix{at: len(b.insns), jt: enosys, jf: goOn})
			b.emit(opJgt, 0, 0, *max)
		}
		if g.audit == unix.AUDIT_ARCH_X86_64 {
			jset := len(b.insns)
			b.emit(opJset, 0, 0, x32Bit)
			part(g.native)
			b.insns[jset].Jt = uint8(len(b.insns) - jset - 1)
			part(g.x32)
		} else {
			part(g.native)
		}
		// Another arch goes to the next group's test (A still holds
		// the arch: only a match loaded the number), after the last to
		// the filter proper.
		next := len(b.insns)
		if gi == len(groups)-1 {
			next = goOn
		}
		fixes = append(fixes, fix{at: jeq, jt: jeq + 1, jf: next})
	}
	goOnAt := len(b.insns)
	b.emit(opJa, 0, 0, 1)
	enosysAt := len(b.insns)
	b.emit(opRet, 0, 0, unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS))
	resolve := func(at, target int) uint8 {
		switch target {
		case goOn:
			target = goOnAt
		case enosys:
			target = enosysAt
		}
		off := target - at - 1
		if off < 0 || off > 255 {
			// Conditional jumps reach 255 ahead: a longer prefix is a bug here.
			panic(fmt.Sprintf("seccomp: ENOSYS prefix jump of %d instructions", off))
		}
		return uint8(off)
	}
	for _, f := range fixes {
		b.insns[f.at].Jt = resolve(f.at, f.jt)
		b.insns[f.at].Jf = resolve(f.at, f.jf)
	}
	return encodeInsns(b.insns)
}

// encodeInsns lays insns out as struct sock_filter in host byte order.
func encodeInsns(insns []unix.SockFilter) []byte {
	out := make([]byte, 0, len(insns)*sockFilterSize)
	for _, in := range insns {
		out = binary.NativeEndian.AppendUint16(out, in.Code)
		out = append(out, in.Jt, in.Jf)
		out = binary.NativeEndian.AppendUint32(out, in.K)
	}
	return out
}
