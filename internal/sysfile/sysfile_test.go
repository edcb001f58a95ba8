package sysfile

import (
	"errors"
	"os"
	"strings"
	"testing"
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
