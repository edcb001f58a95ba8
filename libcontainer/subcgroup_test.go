package libcontainer

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berth-runtime/berth/cgroups"
)

func TestSubCgroupDirs(t *testing.T) {
	tmp := t.TempDir()
	p := func(s string) string { return filepath.Join(tmp, s) }
	for _, d := range []string{"cpu/c/sub", "mem/c/sub/deeper", "unified/c/sub", "unified2/c"} {
		if err := os.MkdirAll(p(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(p("mem/c/file"), nil, 0o644)
	v1 := cgroups.State{Driver: cgroups.DriverV1, Paths: map[string]string{
		"cpu": p("cpu/c"), "cpuacct": p("cpu/c"), "memory": p("mem/c"), "": p("unified2/c"),
	}}
	v2 := cgroups.State{Driver: cgroups.DriverV2, Paths: map[string]string{"": p("unified/c")}}
	for _, tc := range []struct {
		name string
		st   cgroups.State
		args []string
		want []string // relative to tmp
		err  string
	}{
		{"none", v1, nil, nil, ""},
		{"v1 every hierarchy, companion without it stays", v1, []string{"sub"}, []string{"cpu/c/sub", "mem/c/sub"}, ""},
		{"v1 leading slash", v1, []string{"/sub"}, []string{"cpu/c/sub", "mem/c/sub"}, ""},
		{"v1 root is the container's cgroup", v1, []string{"/"}, []string{"cpu/c", "mem/c", "unified2/c"}, ""},
		{"v1 one controller", v1, []string{"memory:sub/deeper"}, []string{"mem/c/sub/deeper"}, ""},
		{"v1 comounted controllers share a dir", v1, []string{"cpu,cpuacct:sub"}, []string{"cpu/c/sub"}, ""},
		{"v1 repeated flag", v1, []string{"cpu:sub", "memory:sub"}, []string{"cpu/c/sub", "mem/c/sub"}, ""},
		{"dotdot refused", v1, []string{"memory:../x"}, nil, `bad sub cgroup path: ".." is not allowed`},
		{"dotdot inside refused", v1, []string{"sub/../../x"}, nil, `bad sub cgroup path: ".." is not allowed`},
		{"missing sub-cgroup", v1, []string{"memory:nosuch"}, nil, "not adding pid to cgroup " + p("mem/c/nosuch") + ": no such file or directory"},
		{"missing in one v1 hierarchy", v1, []string{"sub/deeper"}, nil, "not adding pid to cgroup " + p("cpu/c/sub/deeper") + ": no such file or directory"},
		{"not a directory", v1, []string{"memory:file"}, nil, "not a directory"},
		{"unknown controller", v1, []string{"blkio:sub"}, nil, "unknown controller blkio"},
		{"empty controller", v1, []string{"cpu,:sub"}, nil, "empty controller name"},
		{"controller twice", v1, []string{"memory:sub", "memory:sub"}, nil, "controller memory is given twice"},
		{"bare path with others", v1, []string{"sub", "memory:sub"}, nil, "must be the only --cgroup"},
		{"two colons", v1, []string{"memory:a:b"}, nil, "expected [controller"},
		{"v2 path", v2, []string{"sub"}, []string{"unified/c/sub"}, ""},
		{"v2 controller prefix refused", v2, []string{"memory:sub"}, nil, "for cgroup v1 only"},
		{"v2 missing", v2, []string{"nosuch"}, nil, "no such file"},
		{"systemd driver", cgroups.State{Driver: cgroups.DriverSystemd}, []string{"sub"}, nil, "systemd cgroup driver"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := subCgroupDirs(tc.st, tc.args)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.err)
				}
				if !strings.HasPrefix(err.Error(), "--cgroup") {
					t.Fatalf("err = %v: does not name --cgroup", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, w := range tc.want {
				want = append(want, p(w))
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}
