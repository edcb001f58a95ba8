package seccomp

import (
	"encoding/json"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// FuzzCompile feeds linux.seccomp JSON to Compile: it must not panic, errors
// must be one line naming linux.seccomp, and a result must be loadable.
func FuzzCompile(f *testing.F) {
	f.Add([]byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s specs.LinuxSeccomp
		if err := json.Unmarshal(data, &s); err != nil {
			return
		}
		c, skipped, err := Compile(&s)
		if err != nil {
			msg := err.Error()
			if strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("error is not one line: %q", msg)
			}
			if !strings.HasPrefix(msg, "linux.seccomp") {
				t.Fatalf("error does not name the field: %q", msg)
			}
			if c != nil {
				t.Fatal("Compiled returned with an error")
			}
			return
		}
		if n := len(c.BPF); n == 0 || n%sockFilterSize != 0 || n/sockFilterSize > maxInsns {
			t.Fatalf("BPF of %d bytes", n)
		}
		names := make(map[string]bool)
		for _, sc := range s.Syscalls {
			for _, n := range sc.Names {
				names[n] = true
			}
		}
		for _, n := range skipped {
			if !names[n] {
				t.Fatalf("skipped %q which is not in the input", n)
			}
		}
	})
}
