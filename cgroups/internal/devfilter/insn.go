package devfilter

import (
	"encoding/binary"
	"fmt"
)

// The few eBPF instructions the filter needs (linux/bpf.h,
// linux/bpf_common.h), encoded here rather than with cilium/ebpf/asm:
// that package pulls some 30 packages (debug/elf, crypto, go/parser)
// into every berth process's start-up. The tests check these encodings
// against asm's.
const (
	opLdxW   = 0x61 // BPF_LDX | BPF_MEM | BPF_W
	opMovImm = 0xb7 // BPF_ALU64 | BPF_MOV | BPF_K
	opMovReg = 0xbf // BPF_ALU64 | BPF_MOV | BPF_X
	opAndImm = 0x57 // BPF_ALU64 | BPF_AND | BPF_K
	opRshImm = 0x77 // BPF_ALU64 | BPF_RSH | BPF_K
	opJeqImm = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
	opJneImm = 0x55 // BPF_JMP | BPF_JNE | BPF_K
	opExit   = 0x95 // BPF_JMP | BPF_EXIT

	insnSize = 8
)

// insn is one instruction; a jump names its target by label (target)
// and encode turns that into the offset. sym labels the instruction.
type insn struct {
	op       uint8
	dst, src uint8
	off      int16
	imm      int32
	target   string
	sym      string
}

func loadWord(dst, src uint8, off int16) insn { return insn{op: opLdxW, dst: dst, src: src, off: off} }
func movImm(dst uint8, imm int32) insn        { return insn{op: opMovImm, dst: dst, imm: imm} }
func movReg(dst, src uint8) insn              { return insn{op: opMovReg, dst: dst, src: src} }
func andImm(dst uint8, imm int32) insn        { return insn{op: opAndImm, dst: dst, imm: imm} }
func rshImm(dst uint8, imm int32) insn        { return insn{op: opRshImm, dst: dst, imm: imm} }
func exit() insn                              { return insn{op: opExit} }

func jeqImm(dst uint8, imm int32, target string) insn {
	return insn{op: opJeqImm, dst: dst, imm: imm, target: target}
}

func jneImm(dst uint8, imm int32, target string) insn {
	return insn{op: opJneImm, dst: dst, imm: imm, target: target}
}

// encode resolves the jumps and returns the program as the kernel takes
// it: 8 bytes an instruction, in host byte order.
func encode(insns []insn) ([]byte, error) {
	at := make(map[string]int)
	for i, in := range insns {
		if in.sym != "" {
			if _, dup := at[in.sym]; dup {
				return nil, fmt.Errorf("label %q defined twice", in.sym)
			}
			at[in.sym] = i
		}
	}
	out := make([]byte, 0, len(insns)*insnSize)
	for i, in := range insns {
		if in.target != "" {
			t, ok := at[in.target]
			off := t - i - 1
			if !ok || off < 0 || off > 1<<15-1 {
				return nil, fmt.Errorf("instruction %d: jump to %q out of reach", i, in.target)
			}
			in.off = int16(off)
		}
		regs := in.dst&0xf | in.src<<4
		if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
			regs = in.dst<<4 | in.src&0xf // big-endian hosts swap the nibbles
		}
		out = append(out, in.op, regs)
		out = binary.NativeEndian.AppendUint16(out, uint16(in.off))
		out = binary.NativeEndian.AppendUint32(out, uint32(in.imm))
	}
	return out, nil
}
