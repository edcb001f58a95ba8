package cgroups

import (
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
