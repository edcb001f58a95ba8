package libcontainer

import (
	"bytes"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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

func TestAddNotifySocket(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     []string
		wantEnv []string
	}{
		{"appended", []string{"PATH=/bin"}, []string{"PATH=/bin", "NOTIFY_SOCKET=" + NotifySocketInContainer}},
		{"bundle's value replaced", []string{"NOTIFY_SOCKET=/host/sock", "PATH=/bin", "NOTIFY_SOCKET=/other"},
			[]string{"PATH=/bin", "NOTIFY_SOCKET=" + NotifySocketInContainer}},
		{"similar names kept", []string{"NOTIFY_SOCKET_X=1"}, []string{"NOTIFY_SOCKET_X=1", "NOTIFY_SOCKET=" + NotifySocketInContainer}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := &specs.Spec{Process: &specs.Process{Env: tc.env}}
			if err := AddNotifySocket(spec, "/run/berth", "c1"); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(spec.Process.Env, tc.wantEnv) {
				t.Errorf("env = %q, want %q", spec.Process.Env, tc.wantEnv)
			}
			want := specs.Mount{Destination: "/run/notify", Source: "/run/berth/c1/notify",
				Options: []string{"bind", "nosuid", "noexec", "nodev", "ro"}}
			if len(spec.Mounts) != 1 || spec.Mounts[0].Destination != want.Destination ||
				spec.Mounts[0].Source != want.Source || !slices.Equal(spec.Mounts[0].Options, want.Options) {
				t.Errorf("mounts = %+v, want [%+v]", spec.Mounts, want)
			}
		})
	}
}
