package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCheckUnused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		procs  string // cgroup.procs content; "-" for no directory
		child  string // a sub-cgroup's cgroup.procs, "" for none
		frozen bool
		want   error
	}{
		{name: "absent", procs: "-"},
		{name: "empty", procs: ""},
		{name: "empty with empty child", procs: "", child: "\n"},
		{name: "busy", procs: "42\n", want: ErrNotEmpty},
		{name: "busy child", procs: "", child: "7\n", want: ErrNotEmpty},
		{name: "frozen", procs: "", frozen: true, want: ErrFrozen},
		{name: "absent and frozen parent is Apply's to find", procs: "-", frozen: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ct")
			if tc.procs != "-" {
				writeTestFile(t, filepath.Join(dir, "cgroup.procs"), tc.procs)
				state := "THAWED"
				if tc.frozen {
					state = "FROZEN"
				}
				writeTestFile(t, filepath.Join(dir, "freezer.state"), state)
			}
			if tc.child != "" {
				writeTestFile(t, filepath.Join(dir, "sub", "cgroup.procs"), tc.child)
			}
			frozen := v1Frozen
			if tc.procs == "-" && tc.frozen {
				frozen = func(string) (bool, error) { return false, os.ErrNotExist }
			}
			err := checkUnused(dir, dir, frozen)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("checkUnused = %v, want %v", err, tc.want)
			}
		})
	}
}
