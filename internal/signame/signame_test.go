package signame

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want unix.Signal
		err  bool
	}{
		{"KILL", unix.SIGKILL, false},
		{"SIGKILL", unix.SIGKILL, false},
		{"sigterm", unix.SIGTERM, false},
		{"term", unix.SIGTERM, false},
		{"9", unix.SIGKILL, false},
		{"15", unix.SIGTERM, false},
		{"RTMIN+3", unix.Signal(37), false},
		{"SIGRTMAX-1", unix.Signal(63), false},
		{"0", 0, false},
		{"65", 0, true},
		{"-1", 0, true},
		{"FOO", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if tt.err {
			if err == nil {
				t.Errorf("Parse(%q) = %v, want error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"KILL", "9", "RTMIN+3", "SIGRTMAX-30", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := Parse(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if sig < 0 || sig > 64 {
			t.Fatalf("Parse(%q) = %d, outside 0-64", s, sig)
		}
	})
}
