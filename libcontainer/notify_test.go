package libcontainer

import (
	"bytes"
	"testing"
)

func TestFilterNotify(t *testing.T) {
	for _, tc := range []struct {
		name, in, out string
		ready         bool
	}{
		{"ready alone", "READY=1", "READY=1\n", true},
		{"ready with newline", "READY=1\n", "READY=1\n", true},
		{"status only", "STATUS=starting", "STATUS=starting\n", false},
		{"container mainpid dropped", "MAINPID=1\nREADY=1", "READY=1\n", true},
		{"barrier dropped", "BARRIER=1", "", false},
		{"ready not first", "STATUS=up\nREADY=1\n", "STATUS=up\nREADY=1\n", true},
		{"prefix only counts at line start", "STATUS=READY=1", "STATUS=READY=1\n", false},
		{"empty", "", "", false},
		{"blank lines", "\n\n", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, ready := filterNotify([]byte(tc.in))
			if string(out) != tc.out || ready != tc.ready {
				t.Fatalf("filterNotify(%q) = %q, %v; want %q, %v", tc.in, out, ready, tc.out, tc.ready)
			}
		})
	}
}

func TestNotifyAddr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/run/systemd/notify", "/run/systemd/notify"},
		{"@abstract", "\x00abstract"},
		{"@", "@"},
	} {
		if got := notifyAddr(tc.in).Name; got != tc.want {
			t.Errorf("notifyAddr(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzFilterNotify: what the container sends never reaches the host as a
// MAINPID= or BARRIER= line, and READY is reported only for a READY= line.
func FuzzFilterNotify(f *testing.F) {
	f.Add([]byte("MAINPID=1\nREADY=1\n"))
	f.Add([]byte("STATUS=x\nBARRIER=1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, ready := filterNotify(b)
		sawReady := false
		for _, l := range bytes.Split(out, []byte{'\n'}) {
			if bytes.HasPrefix(l, []byte("MAINPID=")) || bytes.HasPrefix(l, []byte("BARRIER=")) {
				t.Fatalf("%q passed through in %q", l, out)
			}
			sawReady = sawReady || bytes.HasPrefix(l, []byte("READY="))
		}
		if ready != sawReady {
			t.Fatalf("ready = %v for output %q", ready, out)
		}
	})
}
