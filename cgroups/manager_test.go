package cgroups

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestPlain(t *testing.T) {
	for _, tc := range []struct {
		name           string
		st             State
		dirs           []string
		freeze, thawed string
		ok             bool
	}{
		{"v1, shared hierarchies once, sorted", State{Driver: DriverV1, Paths: map[string]string{
			"pids": "/sys/fs/cgroup/pids/c", "cpu": "/sys/fs/cgroup/cpu,cpuacct/c", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct/c",
			"freezer": "/sys/fs/cgroup/freezer/c", "": "/sys/fs/cgroup/unified/c"}},
			[]string{"/sys/fs/cgroup/cpu,cpuacct/c", "/sys/fs/cgroup/freezer/c", "/sys/fs/cgroup/pids/c", "/sys/fs/cgroup/unified/c"},
			"/sys/fs/cgroup/freezer/c/freezer.state", "THAWED", true},
		{"v1 without a freezer", State{Driver: DriverV1, Paths: map[string]string{"pids": "/p/c"}},
			[]string{"/p/c"}, "", "", true},
		{"v1 rootless, no hierarchy", State{Driver: DriverV1}, nil, "", "", true},
		{"v2", State{Driver: DriverV2, Paths: map[string]string{"": "/sys/fs/cgroup/c"}},
			[]string{"/sys/fs/cgroup/c"}, "/sys/fs/cgroup/c/cgroup.freeze", "0", true},
		{"v2 without a path", State{Driver: DriverV2}, nil, "", "", false},
		{"systemd", State{Driver: DriverSystemd, Paths: map[string]string{"": "/sys/fs/cgroup/c"}}, nil, "", "", false},
	} {
		dirs, freeze, thawed, ok := Plain(tc.st)
		if ok != tc.ok {
			t.Errorf("%s: ok = %v, want %v", tc.name, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		if !slices.Equal(dirs, tc.dirs) || freeze != tc.freeze || thawed != tc.thawed {
			t.Errorf("%s: Plain = %q, %q, %q; want %q, %q, %q", tc.name, dirs, freeze, thawed, tc.dirs, tc.freeze, tc.thawed)
		}
	}
}

// FrozenJSON answers as Load(st).Frozen() does, for each driver, except
// that a v1 cgroup whose task runs or sleeps is thawed unread on a kernel
// that shows frozen tasks as 'D'.
func TestFrozenJSON(t *testing.T) {
	defer func(f func() bool) { frozenShowsD = f }(frozenShowsD)
	dir := t.TempDir()
	write := func(name, content string) string {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"freezer.state", "cgroup.freeze"} {
			if err := os.WriteFile(filepath.Join(d, f), []byte(content+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	frozen1, thawed1, freezing1 := write("f1", "FROZEN"), write("t1", "THAWED"), write("g1", "FREEZING")
	frozen2, thawed2 := write("f2", "1"), write("t2", "0")
	v1 := func(freezer string) State {
		return State{Driver: DriverV1, Paths: map[string]string{"freezer": freezer, "pids": "/p/c"}}
	}
	for _, tc := range []struct {
		name    string
		raw     string // empty: json of st
		st      State
		task    byte // init's state letter; 0: unknown
		noRef   bool // the task's state answers before freezer.state is read
		want    bool
		wantErr bool
	}{
		{name: "v1 frozen", st: v1(frozen1), want: true},
		{name: "v1 thawed", st: v1(thawed1)},
		{name: "v1 freezing", st: v1(freezing1), want: true},
		{name: "v1 frozen, its task parked", st: v1(frozen1), task: 'D', want: true},
		{name: "v1 frozen, its task stopped", st: v1(frozen1), task: 'T', want: true},
		{name: "v1 freezing, its task still sleeping", st: v1(freezing1), task: 'S', noRef: true},
		{name: "v1 freezer gone, its task running", st: v1(filepath.Join(dir, "gone")), task: 'R', noRef: true},
		{name: "v2 frozen, its task sleeping", st: State{Driver: DriverV2, Paths: map[string]string{"": frozen2}}, task: 'S', want: true},
		{name: "v1 without a freezer", st: State{Driver: DriverV1, Paths: map[string]string{"pids": "/p/c"}}, wantErr: true},
		{name: "v1 freezer gone", st: v1(filepath.Join(dir, "gone")), wantErr: true},
		{name: "v2 frozen", st: State{Driver: DriverV2, Paths: map[string]string{"": frozen2}}, want: true},
		{name: "v2 thawed", st: State{Driver: DriverV2, Paths: map[string]string{"": thawed2}}},
		{name: "none", st: State{Driver: DriverNone}},
		{name: "not json", raw: `{"driver":`, wantErr: true},
		{name: "escaped keys decode as in a full State", raw: `{"driver":"v1","paths":{"fr\u0065ezer":"` + frozen1 + `"}}`, want: true},
	} {
		raw := []byte(tc.raw)
		if tc.raw == "" {
			var err error
			if raw, err = json.Marshal(tc.st); err != nil {
				t.Fatal(err)
			}
		}
		// Kernels that show frozen tasks as 'D', and those that do not.
		for _, showsD := range []bool{true, false} {
			frozenShowsD = func() bool { return showsD }
			got, err := FrozenJSON(raw, tc.task)
			if showsD || !tc.noRef {
				if (err != nil) != tc.wantErr || (err == nil && got != tc.want) {
					t.Errorf("%s (frozen shows D: %v): FrozenJSON = %v, %v; want %v, error %v", tc.name, showsD, got, err, tc.want, tc.wantErr)
				}
			}
			if tc.raw != "" || (showsD && tc.noRef) {
				continue
			}
			// the reference: the full decode
			m, lerr := Load(tc.st)
			if lerr == nil {
				ref, rerr := m.Frozen()
				if (rerr != nil) != (err != nil) || ref != got {
					t.Errorf("%s (frozen shows D: %v): Load(st).Frozen() = %v, %v; FrozenJSON %v, %v", tc.name, showsD, ref, rerr, got, err)
				}
			}
		}
	}
}

func TestKernelAtLeast(t *testing.T) {
	for _, tc := range []struct {
		release string
		want    bool
	}{
		{"6.18.44-fc-v769", true},
		{"6.13", true},
		{"6.13.0-rc5", true},
		{"7.0.1", true},
		{"6.12.9-amd64", false},
		{"6.1.0-56-amd64", false},
		{"5.15.0-91-generic", false},
		{"6", false},
		{"x.y", false},
		{"", false},
	} {
		if got := kernelAtLeast(tc.release, 6, 13); got != tc.want {
			t.Errorf("kernelAtLeast(%q, 6, 13) = %v, want %v", tc.release, got, tc.want)
		}
	}
}
