package intelrdt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fakeRoot is a plain directory shaped like a resctrl mount: the root
// group's files, and a pre-configured group "gold" with a monitoring dir.
func fakeRoot(t *testing.T) string {
	root := t.TempDir()
	for _, d := range []string{"gold/mon_groups", "mon_groups"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "schemata"), []byte("    L3:0=7ff;1=7ff\n    MB:0=100;1=100\n"), 0o644)
	os.WriteFile(filepath.Join(root, "gold/schemata"), []byte("    L3:0=0f0;1=01f\n    MB:0= 20;1= 70\n"), 0o644)
	return root
}

func read(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSetupWithoutClosIDMakesAndRemovesAGroupNamedAfterTheContainer(t *testing.T) {
	root := fakeRoot(t)
	st, err := Setup(root, &specs.LinuxIntelRdt{L3CacheSchema: "L3:0=f", MemBwSchema: "MB:0=50", Schemata: []string{"L2:0=3"}}, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if st.Clos != filepath.Join(root, "c1") || !st.Created || st.Mon != "" {
		t.Fatalf("state %+v", st)
	}
	if got := read(t, filepath.Join(st.Clos, "schemata")); got != "L3:0=f\nMB:0=50\nL2:0=3\n" {
		t.Errorf("schemata written %q: want l3CacheSchema, memBwSchema, then schemata", got)
	}
	if err := st.Apply(42); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(st.Clos, "tasks")); got != "42\n" {
		t.Errorf("tasks %q", got)
	}
	os.Remove(filepath.Join(st.Clos, "tasks")) // the kernel's files go with the group
	os.Remove(filepath.Join(st.Clos, "schemata"))
	if err := st.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(st.Clos); !os.IsNotExist(err) {
		t.Errorf("group left after Destroy: %v", err)
	}
}

func TestSetupWithAnExistingClosID(t *testing.T) {
	root := fakeRoot(t)
	// Same values as the file holds, written the way users write them.
	st, err := Setup(root, &specs.LinuxIntelRdt{ClosID: "gold", Schemata: []string{"L3:0=f0;1=1F", "MB:0=20"}, EnableMonitoring: true}, "c2")
	if err != nil {
		t.Fatal(err)
	}
	if st.Created || st.Mon != filepath.Join(root, "gold/mon_groups/c2") {
		t.Fatalf("state %+v", st)
	}
	if got := read(t, filepath.Join(root, "gold/schemata")); strings.Count(got, "\n") != 2 {
		t.Errorf("matching schemata were written again: %q", got)
	}
	if err := st.Apply(7); err != nil {
		t.Fatal(err)
	}
	if read(t, filepath.Join(root, "gold/tasks")) != "7\n" || read(t, filepath.Join(st.Mon, "tasks")) != "7\n" {
		t.Error("pid not in both the CLOS and the monitoring group")
	}
	os.Remove(filepath.Join(st.Mon, "tasks"))
	if err := st.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "gold")); err != nil {
		t.Error("a closID group was removed on delete")
	}
	if _, err := os.Stat(st.Mon); !os.IsNotExist(err) {
		t.Error("the monitoring group was left")
	}
}

func TestSetupRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		rdt  specs.LinuxIntelRdt
		id   string
		err  string
	}{
		{"schemata differ from the existing group's", specs.LinuxIntelRdt{ClosID: "gold", L3CacheSchema: "L3:0=ff"}, "c", `do not hold "L3:0=ff"`},
		{"closID missing and nothing to make it with", specs.LinuxIntelRdt{ClosID: "silver"}, "c", "no resctrl group"},
		{"container group already there", specs.LinuxIntelRdt{}, "gold", "create resctrl group"},
		// A new group in this fake tree has no mon_groups: the group berth
		// made for the closID goes again.
		{"monitoring group cannot be made", specs.LinuxIntelRdt{ClosID: "silver", Schemata: []string{"L3:0=1"}, EnableMonitoring: true}, "c", "enableMonitoring"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := fakeRoot(t)
			before, _ := os.ReadDir(root)
			_, err := Setup(root, &tc.rdt, tc.id)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
			after, _ := os.ReadDir(root)
			if len(after) != len(before) {
				t.Errorf("Setup left something behind: %d entries, had %d", len(after), len(before))
			}
		})
	}
}

func TestMismatch(t *testing.T) {
	file := "    L3:0=7f0;1=01f\n    MB:0= 20;1= 70\n"
	for _, tc := range []struct {
		want []string
		bad  string
	}{
		{[]string{"L3:0=7F0;1=1f"}, ""},
		{[]string{"l3:1=1f", "MB:1=70"}, ""},
		{[]string{"MB:0=30"}, "MB:0=30"},
		{[]string{"L2:0=f"}, "L2:0=f"},
		{[]string{"garbage"}, "garbage"},
	} {
		if got := mismatch(file, tc.want); got != tc.bad {
			t.Errorf("mismatch(%q) = %q, want %q", tc.want, got, tc.bad)
		}
	}
}

func FuzzDomains(f *testing.F) {
	f.Add("L3:0=7f0;1=1f")
	f.Add("MB:0= 20;1= 70")
	f.Fuzz(func(t *testing.T, line string) {
		res, vals, ok := domains(line)
		if ok && (strings.Contains(res, ":") || vals == nil) {
			t.Fatalf("%q: res %q vals %v", line, res, vals)
		}
	})
}
