package callerfds

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMissing(t *testing.T) {
	tests := []struct {
		n, passed, want int
	}{
		{0, 0, -1},
		{0, 4, -1},
		{-1, 0, -1},
		{1, 1, -1},
		{2, 5, -1},
		{1, 0, 3},
		{2, 1, 4},
		{7, 3, 6},
	}
	for _, tt := range tests {
		if got := Missing(tt.n, tt.passed); got != tt.want {
			t.Errorf("Missing(%d, %d) = %d, want %d", tt.n, tt.passed, got, tt.want)
		}
	}
}

// The test binary links the constructor too: run it again with fds 3 and
// 4 passed (and 6, after a gap) and ask it what it recorded and whether
// fd 3 is close-on-exec now.
func TestConstructor(t *testing.T) {
	if os.Getenv("CALLERFDS_CHILD") != "" {
		flags, err := unix.FcntlInt(3, unix.F_GETFD, 0)
		if err != nil {
			t.Fatalf("fd 3: %v", err)
		}
		os.Stdout.WriteString("passed=" + strconv.Itoa(Passed()) + " cloexec=" + strconv.FormatBool(flags&unix.FD_CLOEXEC != 0) + "\n")
		return
	}
	var files []*os.File
	for i := 0; i < 4; i++ {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files = append(files, f)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestConstructor$")
	cmd.Env = append(os.Environ(), "CALLERFDS_CHILD=1")
	cmd.ExtraFiles = []*os.File{files[0], files[1], nil, files[3]} // 3, 4, (5 closed), 6
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "passed=2 cloexec=true") {
		t.Errorf("child reported %q, want passed=2 cloexec=true", out)
	}
}
