package devfilter

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"testing"

	"github.com/cilium/ebpf/asm"

	"golang.org/x/sys/unix"
)

// reference is the rule semantics written the plain way: for each access
// asked for, the rules are read first to last and the last one that
// matches the device and names that access decides; unmatched is denied.
func reference(rules []Rule, typ byte, major, minor int64, acc uint8) bool {
	for bit := uint8(1); bit <= AccWrite; bit <<= 1 {
		if acc&bit == 0 {
			continue
		}
		ok := false
		for _, r := range rules {
			if (r.Type == 'a' || r.Type == typ) && (r.Major < 0 || r.Major == major) &&
				(r.Minor < 0 || r.Minor == minor) && r.Access&bit != 0 {
				ok = r.Allow
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// run interprets the program as the kernel gets it (marshalled, jumps
// resolved) for one bpf_cgroup_dev_ctx. It knows the instructions
// Compile emits and fails on any other.
func run(t testing.TB, prog []byte, typ byte, major, minor uint32, acc uint8) bool {
	t.Helper()
	devType := uint32(devChar)
	if typ == 'b' {
		devType = devBlock
	}
	ctx := [3]uint32{uint32(acc)<<16 | devType, major, minor}
	var reg [11]uint64
	for pc, steps := 0, 0; ; pc, steps = pc+1, steps+1 {
		if pc < 0 || pc*8 >= len(prog) || steps > 10000 {
			t.Fatalf("pc %d out of the program (%d instructions) or looping", pc, len(prog)/8)
		}
		in := prog[pc*8 : pc*8+8]
		op, dst, src := in[0], in[1]&0xf, in[1]>>4
		off := int16(binary.LittleEndian.Uint16(in[2:]))
		imm := uint64(int64(int32(binary.LittleEndian.Uint32(in[4:]))))
		val := imm
		if op&0x08 != 0 { // BPF_X
			val = reg[src]
		}
		switch op {
		case 0x61: // ldxw dst, [src+off]: only the context, only its three words
			if src != 1 || reg[1] != 0xc0ffee || off%4 != 0 || off < 0 || off > 8 {
				t.Fatalf("pc %d: load from r%d+%d is not a context field", pc, src, off)
			}
			reg[dst] = uint64(ctx[off/4])
		case 0xb7, 0xbf: // mov
			reg[dst] = val
		case 0x57, 0x5f: // and
			reg[dst] &= val
		case 0x77, 0x7f: // rsh
			reg[dst] >>= val & 63
		case 0x15: // jeq imm
			if reg[dst] == val {
				pc += int(off)
			}
		case 0x55: // jne imm
			if reg[dst] != val {
				pc += int(off)
			}
		case 0x05: // ja
			pc += int(off)
		case 0x95: // exit
			switch reg[0] {
			case 0:
				return false
			case 1:
				return true
			}
			t.Fatalf("pc %d: exit with r0 = %d", pc, reg[0])
		default:
			t.Fatalf("pc %d: opcode %#x not expected from Compile", pc, op)
		}
	}
}

// compile returns the program, or nil when none is needed.
func compile(t testing.TB, rules []Rule) []byte {
	t.Helper()
	prog, needed, err := Compile(rules)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if !needed {
		return nil
	}
	checkReachable(t, prog)
	return prog
}

// checkReachable fails on instructions no path reaches (the verifier
// refuses them) and on jumps out of the program.
func checkReachable(t testing.TB, prog []byte) {
	t.Helper()
	n := len(prog) / 8
	seen := make([]bool, n)
	todo := []int{0}
	for len(todo) > 0 {
		pc := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if pc < 0 || pc >= n {
			t.Fatalf("a path leaves the program at %d", pc)
		}
		if seen[pc] {
			continue
		}
		seen[pc] = true
		op := prog[pc*8]
		off := int(int16(binary.LittleEndian.Uint16(prog[pc*8+2:])))
		switch {
		case op == 0x95: // exit
		case op == 0x05: // ja
			todo = append(todo, pc+1+off)
		case op&0x07 == 0x05: // conditional jump
			todo = append(todo, pc+1, pc+1+off)
		default:
			todo = append(todo, pc+1)
		}
	}
	for pc, ok := range seen {
		if !ok {
			t.Fatalf("instruction %d is unreachable", pc)
		}
	}
}

// verdict runs prog (nil: no program, everything allowed) with r1 set to
// a marker standing for the context pointer.
func verdict(t testing.TB, prog []byte, typ byte, major, minor uint32, acc uint8) bool {
	t.Helper()
	if prog == nil {
		return true
	}
	// r1 holds the context pointer on entry: prepend "mov r1, marker".
	entry := []byte{0xb7, 0x01, 0, 0, 0xee, 0xff, 0xc0, 0x00}
	return run(t, append(entry, prog...), typ, major, minor, acc)
}

var (
	denyAll  = Rule{Allow: false, Type: 'a', Major: -1, Minor: -1, Access: accAll}
	allowAll = Rule{Allow: true, Type: 'a', Major: -1, Minor: -1, Access: accAll}
	rw       = uint8(AccRead | AccWrite)
)

func dev(allow bool, typ byte, major, minor int64, acc uint8) Rule {
	return Rule{Allow: allow, Type: typ, Major: major, Minor: minor, Access: acc}
}

type probeCase struct {
	typ          byte
	major, minor uint32
	acc          uint8
	want         bool
}

func TestCompileMatchesRuleSemantics(t *testing.T) {
	tests := []struct {
		name   string
		rules  []Rule
		none   bool // no program needed
		probes []probeCase
	}{
		{"empty list denies everything", nil, false, []probeCase{{'c', 1, 1, accAll, false}, {'b', 7, 0, AccRead, false}}},
		{"allow-all alone needs no program", []Rule{allowAll}, true, nil},
		{"deny-all then allow-all needs no program", []Rule{denyAll, allowAll}, true, nil},
		{"allow rules alone start from deny-all", []Rule{dev(true, 'c', 10, 200, accAll)}, false, []probeCase{
			{'c', 10, 200, rw, true},
			{'b', 7, 0, AccRead, false}, // a loop device node from the image
			{'b', 7, 0, AccMknod, false},
			{'c', 1, 3, AccRead, false},
		}},
		{"deny-all denies everything", []Rule{denyAll}, false, []probeCase{
			{'c', 1, 3, AccRead, false}, {'b', 8, 0, AccMknod, false},
		}},
		{"allowlist after deny-all", []Rule{denyAll, dev(true, 'c', 1, 3, accAll), dev(true, 'c', 1, 5, AccRead)}, false, []probeCase{
			{'c', 1, 3, rw, true},
			{'c', 1, 3, AccMknod, true},
			{'c', 1, 5, AccRead, true},
			{'c', 1, 5, rw, false}, // write not granted
			{'c', 1, 5, AccWrite, false},
			{'b', 1, 3, AccRead, false}, // wrong type
			{'c', 1, 1, AccRead, false},
			{'c', 2, 3, AccRead, false},
		}},
		{"wildcard major and minor", []Rule{denyAll, dev(true, 'c', -1, -1, AccMknod), dev(true, 'b', 8, -1, rw), dev(true, 'a', -1, 7, AccRead)}, false, []probeCase{
			{'c', 99, 99, AccMknod, true},
			{'c', 99, 99, AccRead, false},
			{'b', 8, 17, rw, true},
			{'b', 9, 17, AccRead, false},
			{'b', 123, 7, AccRead, true},
			{'c', 4, 7, AccRead, true},
			{'c', 4, 7, AccWrite, false},
		}},
		{"last match wins: a later deny takes back one access", []Rule{denyAll, dev(true, 'c', 1, 3, accAll), dev(false, 'c', 1, 3, AccWrite)}, false, []probeCase{
			{'c', 1, 3, AccRead, true},
			{'c', 1, 3, rw, false},
			{'c', 1, 3, AccMknod, true},
		}},
		{"last match wins: a later allow undoes a deny", []Rule{denyAll, dev(false, 'c', 1, 3, accAll), dev(true, 'c', 1, 3, AccRead)}, false, []probeCase{
			{'c', 1, 3, AccRead, true},
			{'c', 1, 3, AccWrite, false},
		}},
		{"accesses granted by different rules add up", []Rule{denyAll, dev(true, 'c', 1, -1, AccRead), dev(true, 'c', 1, 1, AccWrite)}, false, []probeCase{
			{'c', 1, 1, rw, true},
			{'c', 1, 2, rw, false},
		}},
		{"allow-all with a narrow deny", []Rule{allowAll, dev(false, 'c', 1, 1, accAll)}, false, []probeCase{
			{'c', 1, 1, AccRead, false},
			{'c', 1, 2, AccRead, true},
			{'b', 1, 1, AccRead, true},
		}},
		{"rules before the last deny-all do not count", []Rule{dev(true, 'c', 1, 3, accAll), denyAll, dev(true, 'c', 1, 5, accAll)}, false, []probeCase{
			{'c', 1, 3, AccRead, false},
			{'c', 1, 5, AccRead, true},
		}},
		{"allow-all at the end reopens everything", []Rule{denyAll, dev(false, 'c', 1, 3, accAll), allowAll, dev(false, 'b', -1, -1, AccMknod)}, false, []probeCase{
			{'c', 1, 3, AccRead, true},
			{'b', 8, 0, AccMknod, false},
			{'b', 8, 0, AccRead, true},
		}},
		{"type a with a narrow access is an ordinary rule", []Rule{denyAll, dev(true, 'a', -1, -1, AccMknod)}, false, []probeCase{
			{'c', 5, 5, AccMknod, true},
			{'b', 5, 5, AccMknod, true},
			{'b', 5, 5, AccRead, false},
		}},
		{"a device number above 2^31 matches nothing", []Rule{denyAll, dev(true, 'c', 1<<40, -1, accAll)}, false, []probeCase{
			{'c', 0, 0, AccRead, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog := compile(t, tt.rules)
			if prog != nil {
				loadsInKernel(t, tt.rules)
			}
			if (prog == nil) != tt.none {
				t.Fatalf("program needed = %v, want %v", prog != nil, !tt.none)
			}
			for _, p := range tt.probes {
				if got := verdict(t, prog, p.typ, p.major, p.minor, p.acc); got != p.want {
					t.Errorf("%c %d:%d access %03b: got %v, want %v", p.typ, p.major, p.minor, p.acc, got, p.want)
				}
				if got := reference(tt.rules, p.typ, int64(p.major), int64(p.minor), p.acc); got != p.want && p.major < 1<<31 {
					t.Errorf("reference: %c %d:%d access %03b: got %v, want %v", p.typ, p.major, p.minor, p.acc, got, p.want)
				}
			}
		})
	}
}

// loadsInKernel has the kernel's verifier check the program, when this
// process may load one.
func loadsInKernel(t *testing.T, rules []Rule) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	requireBPF(t)
	prog, _, _ := Compile(rules)
	fd, err := loadProgram(ProgName, prog)
	if err != nil {
		t.Fatalf("the kernel refuses the program: %v", err)
	}
	unix.Close(fd)
}

// The hand-written encoder agrees with cilium/ebpf's asm package.
func TestEncodingMatchesCiliumAsm(t *testing.T) {
	mine, err := encode([]insn{
		loadWord(2, 1, 0), loadWord(5, 1, 8), movReg(3, 2), rshImm(3, 16), andImm(2, 0xffff),
		jneImm(2, devChar, "deny"), jneImm(4, 1<<20, "deny"), jeqImm(3, 0, "allow"),
		{op: opMovImm, dst: 0, imm: 0, sym: "deny"}, exit(),
		{op: opMovImm, dst: 0, imm: 1, sym: "allow"}, exit(),
		movImm(0, -1), exit(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ref := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), asm.LoadMem(asm.R5, asm.R1, 8, asm.Word),
		asm.Mov.Reg(asm.R3, asm.R2), asm.RSh.Imm(asm.R3, 16), asm.And.Imm(asm.R2, 0xffff),
		asm.JNE.Imm(asm.R2, devChar, "deny"), asm.JNE.Imm(asm.R4, 1<<20, "deny"), asm.JEq.Imm(asm.R3, 0, "allow"),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("deny"), asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("allow"), asm.Return(),
		asm.Mov.Imm(asm.R0, -1), asm.Return(),
	}
	var order binary.ByteOrder = binary.LittleEndian // asm takes no NativeEndian
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		order = binary.BigEndian
	}
	var want bytes.Buffer
	if err := ref.Marshal(&want, order); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(mine) || i < want.Len(); i += insnSize {
		if !bytes.Equal(mine[i:min(i+insnSize, len(mine))], want.Bytes()[i:min(i+insnSize, want.Len())]) {
			t.Errorf("instruction %d: encoded % x, asm gives % x", i/insnSize, mine[i:min(i+insnSize, len(mine))], want.Bytes()[i:min(i+insnSize, want.Len())])
		}
	}
	if _, err := encode([]insn{jeqImm(0, 0, "nowhere"), exit()}); err == nil {
		t.Error("encode accepted a jump to a missing label")
	}
	if _, err := encode([]insn{{op: opExit, sym: "a"}, jeqImm(0, 0, "a"), exit()}); err == nil {
		t.Error("encode accepted a backward jump")
	}
}

func TestCompileRejectsInvalidRules(t *testing.T) {
	for _, r := range []Rule{
		{Type: 'x', Major: -1, Minor: -1, Access: accAll},
		{Type: 'c', Major: -1, Minor: -1, Access: 0},
		{Type: 'c', Major: -1, Minor: -1, Access: 8},
	} {
		if _, _, err := Compile([]Rule{denyAll, r}); err == nil {
			t.Errorf("Compile accepted %+v", r)
		}
	}
}

// decodeRules turns fuzz bytes into rules, 4 bytes each, over a small
// device space so that rules and probes meet.
func decodeRules(data []byte) []Rule {
	var rules []Rule
	for ; len(data) >= 4 && len(rules) < 64; data = data[4:] {
		r := Rule{Allow: data[0]&1 != 0, Type: "abca"[data[0]>>1&3], Major: int64(data[1]%4) - 1, Minor: int64(data[2]%4) - 1, Access: data[3]%7 + 1}
		if data[0]&0x80 != 0 {
			r = denyAll
			r.Allow = data[0]&1 != 0
		}
		rules = append(rules, r)
	}
	return rules
}

// FuzzCompile checks the compiled program against the reference on every
// device and access of a small space, for rule lists from fuzz input.
func FuzzCompile(f *testing.F) {
	f.Add([]byte{0x80, 0, 0, 6, 0x05, 2, 4, 6, 0x04, 2, 2, 2})
	f.Add([]byte{0x04, 1, 1, 7, 0x81, 0, 0, 0, 0x00, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		rules := decodeRules(data)
		prog := compile(t, rules)
		for _, typ := range []byte{'b', 'c'} {
			for major := uint32(0); major < 3; major++ {
				for minor := uint32(0); minor < 3; minor++ {
					for acc := uint8(1); acc <= accAll; acc++ {
						want := reference(rules, typ, int64(major), int64(minor), acc)
						if got := verdict(t, prog, typ, major, minor, acc); got != want {
							t.Fatalf("%s: %c %d:%d access %03b: program says %v, reference %v", fmtRules(rules), typ, major, minor, acc, got, want)
						}
					}
				}
			}
		}
	})
}

func fmtRules(rules []Rule) string {
	var b bytes.Buffer
	for _, r := range rules {
		fmt.Fprintf(&b, "[%v %c %d:%d %03b] ", r.Allow, r.Type, r.Major, r.Minor, r.Access)
	}
	return b.String()
}
