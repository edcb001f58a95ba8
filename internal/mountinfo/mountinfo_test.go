package mountinfo

import (
	"os"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := "22 1 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n" +
		"30 22 0:27 /sub /sys/fs/cgroup/my\\040cg rw - cgroup cg\\040x rw,memory\n" +
		"bad line\n" +
		"x 22 0:31 / /nonnumeric rw - tmpfs tmpfs rw\n" +
		"31 22 0:28 / /no/separator rw cgroup cgroup rw\n" +
		"32 22 0:29 / /short rw - tmpfs\n" +
		"33 22 0:30 / /last rw master:1 propagate_from:2 - tmpfs tmpfs rw,mode=755"
	want := []Entry{
		{ID: 22, Parent: 1, Root: "/", Point: "/sys", FSType: "sysfs", Source: "sysfs", Super: "rw"},
		{ID: 30, Parent: 22, Root: "/sub", Point: "/sys/fs/cgroup/my cg", FSType: "cgroup", Source: "cg x", Super: "rw,memory"},
		{ID: 33, Parent: 22, Root: "/", Point: "/last", FSType: "tmpfs", Source: "tmpfs", Super: "rw,mode=755"},
	}
	var got []Entry
	Parse([]byte(in), func(e *Entry) bool { got = append(got, *e); return true })
	if len(got) != len(want) {
		t.Fatalf("got %d entries %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	n := 0
	Parse([]byte(in), func(*Entry) bool { n++; return false })
	if n != 1 {
		t.Errorf("fn returning false: called %d times, want 1", n)
	}
}

func TestUnescape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/sys/fs/cgroup", "/sys/fs/cgroup"},
		{`/a\040b`, "/a b"},
		{`/tab\011x\134`, "/tab\tx\\"},
		{`/nl\012`, "/nl\n"},
		{`/short\04`, `/short\04`},
		{`/not\8ctal`, `/not\8ctal`},
		{`/big\400`, `/big\400`},
		{`\`, `\`},
	} {
		if got := Unescape(tc.in); got != tc.want {
			t.Errorf("Unescape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The host's own table parses line for line.
func TestParseSelf(t *testing.T) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Skipf("no /proc/self/mountinfo: %v", err)
	}
	n := 0
	Parse(b, func(e *Entry) bool {
		if !strings.HasPrefix(e.Point, "/") || e.FSType == "" {
			t.Errorf("bad entry %+v", *e)
		}
		n++
		return true
	})
	if lines := strings.Count(strings.TrimSpace(string(b)), "\n") + 1; n != lines {
		t.Errorf("parsed %d entries of %d lines", n, lines)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("22 1 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n30 22 0:27 /a\\040b /c rw - cgroup cgroup rw,memory"))
	f.Add([]byte(" - - - - - - - - -"))
	f.Fuzz(func(t *testing.T, b []byte) {
		Parse(b, func(e *Entry) bool {
			if strings.ContainsAny(e.FSType+e.Super, " \n") {
				t.Fatalf("field with a separator: %+v", *e)
			}
			return true
		})
	})
}

func BenchmarkParseSelf(b *testing.B) {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		Parse(mi, func(*Entry) bool { return true })
	}
}
