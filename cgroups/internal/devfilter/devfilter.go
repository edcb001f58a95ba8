// Package devfilter enforces OCI device rules on cgroup v2, where the
// kernel has no devices.allow/deny files: a BPF_PROG_TYPE_CGROUP_DEVICE
// program, attached to the container's cgroup, decides every open and
// mknod of a device node.
package devfilter

import (
	"fmt"
	"math"
)

// Access bits, as the kernel packs them in bpf_cgroup_dev_ctx.access_type
// (upper 16 bits); the lower 16 bits hold the device type.
const (
	AccMknod = 1 // BPF_DEVCG_ACC_MKNOD
	AccRead  = 2 // BPF_DEVCG_ACC_READ
	AccWrite = 4 // BPF_DEVCG_ACC_WRITE
	accAll   = AccMknod | AccRead | AccWrite

	devBlock = 1 // BPF_DEVCG_DEV_BLOCK
	devChar  = 2 // BPF_DEVCG_DEV_CHAR
)

// Rule is one OCI device rule with its defaults filled in.
type Rule struct {
	Allow bool
	Type  byte  // 'a' (all), 'b' or 'c'
	Major int64 // -1: any
	Minor int64 // -1: any
	// Access is a non-empty set of Acc* bits.
	Access uint8
}

func (r Rule) matchesAll() bool {
	return r.Type == 'a' && r.Major < 0 && r.Minor < 0 && r.Access == accAll
}

// valid rejects what the caller's validation should already have.
func (r Rule) valid() error {
	switch {
	case r.Type != 'a' && r.Type != 'b' && r.Type != 'c':
		return fmt.Errorf("device type %q is not a, b or c", r.Type)
	case r.Access == 0 || r.Access&^accAll != 0:
		return fmt.Errorf("access bits %#x are not a non-empty subset of rwm", r.Access)
	}
	return nil
}

// Semantics (the spec's "entries in the listed order", as v1's
// devices.allow/deny): for each access an open or mknod asks for, the
// last rule that matches the device and names that access decides; with
// none, it is denied. The base is deny-all, as runc's: a list of allow
// rules alone is an allowlist, and only an allow-all rule makes the
// default allow.
//
// Compile emits that as one pass over the rules from the last to the
// first, with R3 holding the accesses not yet granted: a matching deny
// that names one of them refuses, a matching allow grants what it names,
// and the scan stops at the last rule covering everything, whose verdict
// is the default. needed is false when the rules allow everything, so
// no program is needed at all.
func Compile(rules []Rule) (prog []byte, needed bool, err error) {
	for i, r := range rules {
		if err := r.valid(); err != nil {
			return nil, false, fmt.Errorf("rule %d: %w", i, err)
		}
	}
	start, def := 0, false
	for i, r := range rules {
		if r.matchesAll() {
			start, def = i+1, r.Allow
		}
	}
	tail := rules[start:]
	if def && !anyDeny(tail) {
		return nil, false, nil
	}
	const (
		r0     = 0
		ctx    = 1
		typ    = 2
		access = 3
		major  = 4
		minor  = 5
		tmp    = 1 // ctx is dead after the loads
	)
	insns := []insn{
		loadWord(typ, ctx, 0),
		movReg(access, typ),
		rshImm(access, 16),
		andImm(typ, 0xffff),
		loadWord(major, ctx, 4),
		loadWord(minor, ctx, 8),
	}
	// Each rule's block jumps to the next block's first instruction when
	// it does not match; blocks are labelled in emission order.
	label := func(n int) string { return fmt.Sprintf("rule%d", n) }
	const labelDefault, labelAllow = "default", "allow"
	n := 0
	for i := len(tail) - 1; i >= 0; i-- {
		r := tail[i]
		// Device numbers are far below 2^31 (12-bit majors, 20-bit
		// minors): a rule naming a larger one matches nothing. This also
		// keeps the 64-bit compares (no jmp32, so kernels from 4.15 on)
		// free of the immediate's sign extension.
		if r.Major > math.MaxInt32 || r.Minor > math.MaxInt32 {
			continue
		}
		next := label(n + 1)
		var block []insn
		switch r.Type {
		case 'b':
			block = append(block, jneImm(typ, devBlock, next))
		case 'c':
			block = append(block, jneImm(typ, devChar, next))
		}
		if r.Major >= 0 {
			block = append(block, jneImm(major, int32(r.Major), next))
		}
		if r.Minor >= 0 {
			block = append(block, jneImm(minor, int32(r.Minor), next))
		}
		if r.Access != accAll {
			// Skip a rule that names none of the accesses still open.
			block = append(block,
				movReg(tmp, access),
				andImm(tmp, int32(r.Access)),
				jeqImm(tmp, 0, next))
		}
		switch {
		case !r.Allow:
			block = append(block, movImm(r0, 0), exit())
		case r.Access == accAll:
			block = append(block, movImm(r0, 1), exit())
		default:
			block = append(block,
				andImm(access, int32(accAll&^r.Access)),
				jeqImm(access, 0, labelAllow))
		}
		block[0].sym = label(n)
		insns = append(insns, block...)
		n++
	}
	verdict := int32(0)
	if def {
		verdict = 1
	}
	last := movImm(r0, verdict)
	last.sym = labelDefault
	insns = append(insns, last, exit())
	// The last block's "next" is the default verdict. The verifier
	// refuses unreachable code: the allow exit only goes in when used.
	allowUsed := false
	for i := range insns {
		switch insns[i].target {
		case label(n):
			insns[i].target = labelDefault
		case labelAllow:
			allowUsed = true
		}
	}
	if allowUsed {
		allow := movImm(r0, 1)
		allow.sym = labelAllow
		insns = append(insns, allow, exit())
	}
	prog, err = encode(insns)
	if err != nil {
		return nil, false, err
	}
	return prog, true, nil
}

func anyDeny(rules []Rule) bool {
	for _, r := range rules {
		if !r.Allow {
			return true
		}
	}
	return false
}
