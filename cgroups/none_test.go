package cgroups

import (
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestNoneSet(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	u64 := func(v uint64) *uint64 { return &v }
	u16 := func(v uint16) *uint16 { return &v }
	tests := []struct {
		name  string
		r     *specs.LinuxResources
		field string // "" = accepted
	}{
		{"nil", nil, ""},
		{"devices only (ignored, as runc)", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}, ""},
		{"zero cpu shares means unset", &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64(0)}}, ""},
		{"zero blkio weight means unset", &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(0)}}, ""},
		{"memory limit", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(1 << 20)}}, "memory"},
		{"cpu quota", &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(1000)}}, "cpu"},
		{"cpuset", &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0"}}, "cpu"},
		{"pids", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(10)}}, "pids"},
		{"blkio weight", &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(100)}}, "blockIO"},
		{"hugepages", &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1}}}, "hugepageLimits"},
		{"unified", &specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}}, "unified"},
	}
	for _, tc := range tests {
		err := noneManager{}.Set(tc.r)
		if tc.field == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), "linux.resources."+tc.field+": ") || !errors.Is(err, ErrNotSupported) {
			t.Errorf("%s: err = %v, want linux.resources.%s: ... not supported", tc.name, err, tc.field)
		}
	}
}

func TestDelegated(t *testing.T) {
	// A fake tree: /g/user is the caller's, /g/root is not, nothing else
	// exists under /g.
	access := func(p string, _ uint32) error {
		switch p {
		case "/g/user":
			return nil
		case "/g/root", "/g", "/":
			return unix.EACCES
		}
		return unix.ENOENT
	}
	tests := []struct {
		dirs []string
		want bool
	}{
		{[]string{"/g/user"}, true},
		{[]string{"/g/user/a/b"}, true}, // made under a writable ancestor
		{[]string{"/g/root"}, false},
		{[]string{"/g/root/x"}, false},
		{[]string{"/g/new"}, false},
		{[]string{"/g/root/x", "/g/user/c"}, true},
		{nil, false},
	}
	for _, tc := range tests {
		if got := delegated(tc.dirs, access); got != tc.want {
			t.Errorf("delegated(%v) = %v, want %v", tc.dirs, got, tc.want)
		}
	}
}

func TestLoadNone(t *testing.T) {
	for _, st := range []State{
		{Driver: DriverNone, Config: Config{Path: "/x", Rootless: true}},
		{Driver: DriverV1, Config: Config{Path: "/x", Rootless: true}}, // every hierarchy dropped
	} {
		m, err := Load(st)
		if err != nil {
			t.Fatalf("Load(%+v): %v", st, err)
		}
		if _, ok := m.(noneManager); !ok {
			t.Errorf("Load(%+v) = %T, want noneManager", st, m)
		}
		if got := m.State().Driver; got != DriverNone {
			t.Errorf("State().Driver = %q", got)
		}
		if err := m.Destroy(); err != nil {
			t.Errorf("Destroy: %v", err)
		}
		if _, err := m.Pids(); err == nil || !strings.Contains(err.Error(), "no cgroup") {
			t.Errorf("Pids: %v", err)
		}
	}
	if _, err := Load(State{Driver: DriverV1, Config: Config{Path: "/x"}}); err == nil {
		t.Error("Load of a v1 state without paths and not rootless: no error")
	}
}
