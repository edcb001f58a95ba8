package fault

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// The helper process: reaches the point "p" once, then exits 0.
func TestMain(m *testing.M) {
	if os.Getenv("FAULT_TEST_CHILD") == "1" {
		Point("p")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestPoint(t *testing.T) {
	tests := []struct {
		name      string
		fault     string
		wait      bool          // BERTH_FAULT_WAIT names a file
		createIn  time.Duration // the file appears after this (-1: never made here)
		killed    bool
		minLasted time.Duration
	}{
		{name: "unset", fault: "", killed: false},
		{name: "other point", fault: "q", killed: false},
		{name: "prefix is not a match", fault: "p:", killed: false},
		{name: "this point", fault: "p", killed: true},
		{name: "waits for the file", fault: "p", wait: true, createIn: 300 * time.Millisecond, killed: true, minLasted: 300 * time.Millisecond},
		{name: "file already there", fault: "p", wait: true, createIn: 0, killed: true},
		{name: "wait file ignored at other points", fault: "q", wait: true, createIn: -1, killed: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "go")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "FAULT_TEST_CHILD=1", "BERTH_FAULT="+tt.fault)
			if tt.wait {
				cmd.Env = append(cmd.Env, "BERTH_FAULT_WAIT="+file)
				if tt.createIn == 0 {
					if err := os.WriteFile(file, nil, 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			t0 := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if tt.wait && tt.createIn > 0 {
				time.Sleep(tt.createIn)
				if err := os.WriteFile(file, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := cmd.Wait()
			lasted := time.Since(t0)
			var ee *exec.ExitError
			gotKilled := errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL
			if gotKilled != tt.killed {
				t.Fatalf("killed = %v (%v), want %v", gotKilled, err, tt.killed)
			}
			if !tt.killed && err != nil {
				t.Fatalf("child failed: %v", err)
			}
			if lasted < tt.minLasted {
				t.Fatalf("killed after %v, before its wait file appeared (%v)", lasted, tt.minLasted)
			}
		})
	}
}
