package cgroups

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWriteFieldErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, dir, file, value string
		want                   string
		notSuppd               bool
	}{
		{"missing file in existing cgroup is not supported", dir, "cpu.idle", "1",
			"linux.resources.x: " + filepath.Join(dir, "cpu.idle") + ": no such file on this kernel: not supported", true},
		{"missing cgroup is a plain error", filepath.Join(dir, "gone"), "cpu.idle", "1",
			"linux.resources.x: write 1 to " + filepath.Join(dir, "gone", "cpu.idle") + ": no such file or directory", false},
		{"values with blanks are quoted", filepath.Join(dir, "gone"), "devices.allow", "c 1:3 rwm",
			`linux.resources.x: write "c 1:3 rwm" to ` + filepath.Join(dir, "gone", "devices.allow") + ": no such file or directory", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := writeField("linux.resources.x", tc.dir, tc.file, tc.value)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if errors.Is(err, ErrNotSupported) != tc.notSuppd {
				t.Fatalf("errors.Is(ErrNotSupported) = %v, want %v", !tc.notSuppd, tc.notSuppd)
			}
		})
	}
}

func TestWriteFileReplacesContent(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	writeTestFile(t, p, "a long old value")
	if err := writeFile(p, "new"); err != nil {
		t.Fatal(err)
	}
	if got := readTestFile(t, p); got != "new" {
		t.Fatalf("content = %q, want new", got)
	}
	if err := writeFile(filepath.Join(t.TempDir(), "absent"), "x"); !isNotExist(err) {
		t.Fatalf("writeFile created a file or failed oddly: %v", err)
	}
}

func TestReadFileLargerThanBuffer(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	want := strings.Repeat("0123456789", 200) // crosses the 512-byte buffer
	writeTestFile(t, p, want)
	if got, err := readFile(p); err != nil || got != want {
		t.Fatalf("readFile = %d bytes, %v; want %d bytes", len(got), err, len(want))
	}
	p2 := filepath.Join(t.TempDir(), "exact")
	writeTestFile(t, p2, strings.Repeat("x", 512))
	if got, err := readFile(p2); err != nil || len(got) != 512 {
		t.Fatalf("readFile of exactly 512 bytes = %d, %v", len(got), err)
	}
}

func TestParseUint(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{{"42\n", 42, true}, {"max", ^uint64(0), true}, {"-1", 0, true}, {"x", 0, false}} {
		got, err := parseUint(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseUint(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestReadKV(t *testing.T) {
	p := filepath.Join(t.TempDir(), "memory.stat")
	writeTestFile(t, p, "cache 10\nrss 20\n\nodd\n")
	m, err := readKV(p)
	if err != nil || m["cache"] != 10 || m["rss"] != 20 || len(m) != 2 {
		t.Fatalf("readKV = %v, %v", m, err)
	}
}

func TestParseBlkio(t *testing.T) {
	got := parseBlkio("8:0 Read 10\n8:0 Write 20\n8:0 Total 30\nTotal 30\n")
	want := []BlkioEntry{{8, 0, "Read", 10}, {8, 0, "Write", 20}, {8, 0, "Total", 30}}
	if !slices.Equal(got, want) {
		t.Fatalf("parseBlkio = %v, want %v", got, want)
	}
}

func TestEventValue(t *testing.T) {
	s := "populated 1\nfrozen 0\n"
	for key, want := range map[string]string{"populated": "1", "frozen": "0", "absent": ""} {
		if got := eventValue(s, key); got != want {
			t.Errorf("eventValue(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestReadProcsRecursive(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "cgroup.procs"), "1\n2\n")
	writeTestFile(t, filepath.Join(dir, "a", "cgroup.procs"), "3\n")
	writeTestFile(t, filepath.Join(dir, "a", "b", "cgroup.procs"), "")
	got, err := readProcsRecursive(dir)
	slices.Sort(got)
	if err != nil || !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("readProcsRecursive = %v, %v; want [1 2 3]", got, err)
	}
	writeTestFile(t, filepath.Join(dir, "cgroup.procs"), "x\n")
	if _, err := readProcsRecursive(dir); err == nil {
		t.Fatal("a bad pid was accepted")
	}
}
