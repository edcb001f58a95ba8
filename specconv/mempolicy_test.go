package specconv

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func words(w ...uint64) []byte {
	var b []byte
	for _, x := range w {
		b = binary.NativeEndian.AppendUint64(b, x)
	}
	return b
}

func TestConvertMemoryPolicy(t *testing.T) {
	tests := []struct {
		name  string
		in    specs.LinuxMemoryPolicy
		mode  uint32
		nodes []byte
		err   string
	}{
		{"interleave", specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave, Nodes: "0"}, 3, words(1), ""},
		{"bind static", specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0-2,7", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes}}, 2 | 1<<15, words(0x87), ""},
		{"node 64 takes a second word", specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "64"}, 2, words(0, 1), ""},
		{"default without nodes", specs.LinuxMemoryPolicy{Mode: specs.MpolDefault}, 0, nil, ""},
		{"preferred without nodes", specs.LinuxMemoryPolicy{Mode: specs.MpolPreferred}, 1, nil, ""},
		{"empty", specs.LinuxMemoryPolicy{}, 0, nil, "linux.memoryPolicy.mode: invalid memory policy mode: missing"},
		{"unknown mode", specs.LinuxMemoryPolicy{Mode: "INTERLEAVE", Nodes: "0"}, 0, nil, `invalid memory policy mode "INTERLEAVE"`},
		{"unknown flag", specs.LinuxMemoryPolicy{Mode: specs.MpolPreferred, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{specs.MpolFRelativeNodes, "badflag"}}, 0, nil, `linux.memoryPolicy.flags[1]: invalid memory policy flag "badflag"`},
		{"default with nodes", specs.LinuxMemoryPolicy{Mode: specs.MpolDefault, Nodes: "0-7"}, 0, nil, "MPOL_DEFAULT mode requires 0 nodes but got 8"},
		{"bind without nodes", specs.LinuxMemoryPolicy{Mode: specs.MpolBind}, 0, nil, "requires at least one node but got 0"},
		{"node too large", specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0-9876543210"}, 0, nil, "invalid memory policy node 9876543210"},
		{"node beyond uint64", specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "99999999999999999999999"}, 0, nil, "invalid memory policy node 99999999999999999999999"},
		{"not a number", specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "a"}, 0, nil, `"a" is not a node number`},
		{"backwards range", specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "3-1"}, 0, nil, "ends before it starts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := convertMemoryPolicy(&tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Mode != tt.mode || !bytes.Equal(got.Nodes, tt.nodes) {
				t.Fatalf("got mode %#x nodes %x, want %#x %x", got.Mode, got.Nodes, tt.mode, tt.nodes)
			}
		})
	}
}

// FuzzParseNodeList: any list either fails with a field error or gives a
// mask of whole words, at most 1024 nodes, holding as many bits as counted.
func FuzzParseNodeList(f *testing.F) {
	for _, s := range []string{"0", "0-3,7", "1023", "1024", "0-9876543210", "", ",", "-", " 1 - 2 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		mask, n, err := parseNodeList(s)
		if err != nil {
			if _, ok := err.(*FieldError); !ok {
				t.Fatalf("%q: %T error %v", s, err, err)
			}
			return
		}
		if len(mask)%8 != 0 || len(mask) > 128 {
			t.Fatalf("%q: mask of %d bytes", s, len(mask))
		}
		c := 0
		for _, b := range mask {
			for ; b != 0; b &= b - 1 {
				c++
			}
		}
		if c != n {
			t.Fatalf("%q: %d bits, counted %d", s, c, n)
		}
	})
}
