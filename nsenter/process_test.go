package nsenter

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func u32p(v uint32) *uint32 { return &v }

func schedAttr() []byte {
	b := make([]byte, SchedAttrSize)
	order.PutUint32(b, SchedAttrSize)
	return b
}

// sameProcess compares treating nil and empty lists as equal (the wire
// has no difference).
func sameProcess(a, b *Process) bool {
	x, y := *a, *b
	for _, p := range []*Process{&x, &y} {
		if len(p.Groups) == 0 {
			p.Groups = nil
		}
		if len(p.Env) == 0 {
			p.Env = nil
		}
		if len(p.Rlimits) == 0 {
			p.Rlimits = nil
		}
	}
	return reflect.DeepEqual(x, y)
}

var processSeeds = []Process{
	{Args: []string{"/bin/true"}, Cwd: "/"},
	{Args: []string{"sh", "-c", "", "x y"}, Env: []string{"PATH=/bin", "A="}, Cwd: "/work",
		UID: 1000, GID: 100, Groups: []uint32{1, 2, 3}, Umask: u32p(0o027),
		Caps:    [5]uint64{1<<40 | 1, 1 << 21, 0, 1<<21 | 1, 1},
		Rlimits: []Rlimit{{7, 1024, 4096}, {0, 1, 2}}, NoNewPrivileges: true,
		Apparmor: "docker-default", IOPrio: u32p(2<<13 | 4), Sched: schedAttr(),
		Affinity: []byte{3, 0, 0, 0, 0, 0, 0, 0}, Personality: u32p(8), MemPolicy: &MemPolicy{Mode: 2 | 1<<15, Nodes: []byte{1, 0, 0, 0, 0, 0, 0, 0}}, LastCap: 40, Preserve: 2,
		Seccomp: &Seccomp{Flags: 4, Notify: true, BPF: make([]byte, 16)},
		Agent:   &Agent{FD: 9, State: []byte(`{"ociVersion":"1.2.0"}`)},
		Console: &Console{FD: 7, Rows: 24, Cols: 80}, RootFD: u32p(5)},
	{Args: []string{"/bin/true"}, Cwd: "/", MemPolicy: &MemPolicy{Mode: 4}},
	{Args: []string{"/bin/true"}, Cwd: "/", Path: "/bin/true", FIFO: u32p(6), Setsid: true, TTY: "/dev/pts/3", RootID: &[2]uint64{0x801, 2}},
}

func TestProcessRoundTrip(t *testing.T) {
	for i, p := range processSeeds {
		msg, err := p.Encode()
		if err != nil {
			t.Fatalf("seed %d: Encode: %v", i, err)
		}
		got, err := parseProcess(msg)
		if err != nil {
			t.Fatalf("seed %d: C parser rejects Encode's message: %v", i, err)
		}
		if !sameProcess(got, &p) {
			t.Fatalf("seed %d: round trip\n got %+v\nwant %+v", i, got, p)
		}
	}
}

func TestProcessEncodeRejects(t *testing.T) {
	tests := []struct {
		name string
		p    Process
		want string
	}{
		{"no args", Process{Cwd: "/"}, "process.args: must not be empty"},
		{"relative cwd", Process{Args: []string{"x"}, Cwd: "tmp"}, "not an absolute path"},
		{"NUL in an arg", Process{Args: []string{"a\x00b"}, Cwd: "/"}, "process.args"},
		{"NUL in env", Process{Args: []string{"a"}, Env: []string{"A=\x00"}, Cwd: "/"}, "process.env"},
		{"node mask not whole words", Process{Args: []string{"a"}, Cwd: "/", MemPolicy: &MemPolicy{Nodes: []byte{1}}}, "node mask of 1 bytes"},
		{"umask above 0777", Process{Args: []string{"a"}, Cwd: "/", Umask: u32p(0o1000)}, "process.umask"},
		{"unknown rlimit", Process{Args: []string{"a"}, Cwd: "/", Rlimits: []Rlimit{{16, 0, 0}}}, "unknown resource 16"},
		{"agent without notify", Process{Args: []string{"a"}, Cwd: "/", Seccomp: &Seccomp{BPF: make([]byte, 8)}, Agent: &Agent{State: []byte("{}")}}, "agent"},
		{"filter not whole instructions", Process{Args: []string{"a"}, Cwd: "/", Seccomp: &Seccomp{BPF: make([]byte, 12)}}, "linux.seccomp"},
		{"short sched_attr", Process{Args: []string{"a"}, Cwd: "/", Sched: make([]byte, 48)}, "sched_attr"},
		{"sched_attr size field", Process{Args: []string{"a"}, Cwd: "/", Sched: make([]byte, SchedAttrSize)}, "sched_attr"},
		{"unknown personality", Process{Args: []string{"a"}, Cwd: "/", Personality: u32p(3)}, "linux.personality"},
		{"listener without notify", Process{Args: []string{"a"}, Cwd: "/", Seccomp: &Seccomp{Flags: 8, BPF: make([]byte, 8)}}, "listener without notify"},
		{"args too big", Process{Args: []string{strings.Repeat("x", procMaxBody)}, Cwd: "/"}, "exceed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.Encode()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Encode = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestParseProcessRejects(t *testing.T) {
	good, err := (&Process{Args: []string{"a"}, Cwd: "/"}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(f func([]byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name string
		msg  []byte
		want string
	}{
		{"empty", nil, "shorter than its header"},
		{"bad magic", mutate(func(b []byte) []byte { b[0] ^= 1; return b }), "bad magic"},
		{"length mismatch", mutate(func(b []byte) []byte { return b[:len(b)-1] }), "bytes follow the header"},
		{"unterminated string", mutate(func(b []byte) []byte { b[hdrLen+attrHdrLen+1] = 'x'; return b }), "NUL-terminated"},
		{"unknown attribute", mutate(func(b []byte) []byte { b[hdrLen] = 99; return b }), "unknown attribute type 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseProcess(tt.msg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parseProcess = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []struct {
		name string
		mode os.FileMode
	}{{"tool", 0o755}, {"data", 0o644}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), nil, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, arg string
		env       []string
		want, err string
	}{
		{"found in PATH", "tool", []string{"PATH=/nonexistent:" + dir}, filepath.Join(dir, "tool"), ""},
		{"trailing slash in a PATH entry", "tool", []string{"PATH=" + dir + "/"}, filepath.Join(dir, "tool"), ""},
		{"the last PATH wins", "tool", []string{"PATH=" + dir, "PATH=/nonexistent"}, "", `exec: "tool": executable file not found in $PATH`},
		{"not executable", "data", []string{"PATH=" + dir}, "", "executable file not found"},
		{"a directory", "sub", []string{"PATH=" + dir}, "", "executable file not found"},
		{"a path is taken as is", filepath.Join(dir, "tool"), nil, filepath.Join(dir, "tool"), ""},
		{"a path to a directory", filepath.Join(dir, "sub"), nil, "", "is a directory"},
		{"a missing path", filepath.Join(dir, "nope"), nil, "", "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LookPath(tt.arg, tt.env)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("LookPath = %q, %v; want an error containing %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("LookPath = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// FuzzParseProcess feeds arbitrary bytes to the C parser of the process
// message: it must never crash, and whatever it accepts must re-encode
// into a message that parses to the same Process.
func FuzzParseProcess(f *testing.F) {
	for _, msg := range encodeSeeds(f, processSeeds, (*Process).Encode) {
		f.Add(msg)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		p, err := parseProcess(msg)
		if err != nil {
			return
		}
		again, err := p.Encode()
		if err != nil {
			// The C side is the gate init trusts; Go may be stricter
			// only where the wire cannot express the difference.
			t.Fatalf("C parser accepted %q as %+v, Encode rejects it: %v", msg, p, err)
		}
		p2, err := parseProcess(again)
		if err != nil {
			t.Fatalf("C parser rejects re-encoded %+v: %v", p, err)
		}
		if !sameProcess(p, p2) {
			t.Fatalf("round trip changed %+v into %+v", p, p2)
		}
	})
}

func TestHomeDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := write("passwd", "root:x:0:0:root:/root:/bin/sh\nfirst:x:1000:1000::/home/first:/bin/sh\n"+
		"dup:x:1000:1000::/home/dup:/bin/sh\nnohome:x:7:7::::\nlast:x:42:42::/home/last:/bin/sh")
	long := write("long", "x:x:5:5::/home/long-"+strings.Repeat("a", 10000)+":/bin/sh\nok:x:5:5::/home/ok:/bin/sh\n")
	// Beyond the 4 MiB read: not found, however the file goes on.
	far := write("far", strings.Repeat("filler:x:1:1::/nowhere:/bin/sh\n", 5<<20/31)+"far:x:9:9::/home/far:/bin/sh\n")
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse")
	if err := os.WriteFile(sparse, nil, 0o644); err != nil || os.Truncate(sparse, 1<<30) != nil {
		t.Fatal("make a sparse file")
	}
	tests := []struct {
		name, path string
		uid        uint32
		want       string
	}{
		{"root", plain, 0, "/root"},
		{"the first entry wins", plain, 1000, "/home/first"},
		{"an empty home is no entry", plain, 7, ""},
		{"the last line without a newline", plain, 42, "/home/last"},
		{"no such uid", plain, 4, ""},
		{"a line too long is skipped, the next is read", long, 5, "/home/ok"},
		{"read is bounded", far, 9, ""},
		{"missing", filepath.Join(dir, "nope"), 0, ""},
		{"a fifo (a blocking open waits for a writer)", fifo, 0, ""},
		{"a character device", "/dev/zero", 0, ""},
		{"a directory", dir, 0, ""},
		{"1 GiB of NULs", sparse, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan string, 1)
			go func() { done <- HomeDir(tt.path, tt.uid) }()
			select {
			case got := <-done:
				if got != tt.want {
					t.Fatalf("HomeDir(%s, %d) = %q, want %q", tt.path, tt.uid, got, tt.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("HomeDir(%s, %d) still reading after 5s", tt.path, tt.uid)
			}
		})
	}
}
