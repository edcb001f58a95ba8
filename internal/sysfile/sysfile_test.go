package sysfile

import (
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("x", 10000) // several buffer growths
	for _, content := range []string{"", "a", strings.Repeat("y", 1024), big} {
		p := dir + "/f"
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := Read(p)
		if err != nil || string(got) != content {
			t.Errorf("Read of %d bytes = %d bytes, %v", len(content), len(got), err)
		}
	}
	// procfs: seq_files, read whole (lines end with a newline).
	for _, p := range []string{"/proc/self/mountinfo", "/proc/self/stat"} {
		if got, err := Read(p); err != nil || len(got) == 0 || got[len(got)-1] != '\n' {
			t.Errorf("Read %s = %q, %v", p, got, err)
		}
	}
	if _, err := Read(dir + "/missing"); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Read of a missing file: %v, want ErrNotExist naming it", err)
	}
}

func TestUnder(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/f", []byte("under"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		base, path string
		rel        bool // relative to a descriptor of base
	}{
		{dir, dir + "/f", true},
		{dir, dir + "f", false}, // a sibling sharing the prefix
		{dir, dir, false},       // base itself
		{dir, dir + "/", false}, // nothing below it
		{dir + "/missing", dir + "/missing/f", false},
		{"", "/proc/self/stat", false},
		{"/proc", "/proc/self/stat", true},
	} {
		fd, rel := Under(tc.base, tc.path)
		if got := fd != unix.AT_FDCWD; got != tc.rel {
			t.Errorf("Under(%q, %q) = %d, %q; relative %v, want %v", tc.base, tc.path, fd, rel, got, tc.rel)
		}
		if !tc.rel && rel != tc.path {
			t.Errorf("Under(%q, %q) changed the path to %q", tc.base, tc.path, rel)
		}
	}
	if b, err := ReadUnder(dir, dir+"/f", nil); err != nil || string(b) != "under" {
		t.Errorf("ReadUnder = %q, %v", b, err)
	}
	if _, err := ReadUnder(dir, dir+"/gone", nil); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), dir+"/gone") {
		t.Errorf("ReadUnder of a missing file: %v, want ErrNotExist naming its full path", err)
	}
}
