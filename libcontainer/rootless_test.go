package libcontainer

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/configs"
)

func TestCheckRootless(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no newuidmap/newgidmap
	own := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
	wide := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65536}}
	userns := []configs.Namespace{{Type: configs.NEWUSER}, {Type: configs.NEWNS}}
	tests := []struct {
		name    string
		euid    int
		cfg     configs.Config
		wantErr string
	}{
		{"root needs nothing", 0, configs.Config{}, ""},
		{"no user namespace", 1000, configs.Config{Namespaces: []configs.Namespace{{Type: configs.NEWNS}}}, "linux.namespaces: berth runs as uid 1000"},
		{"joined user namespace", 1000, configs.Config{Namespaces: []configs.Namespace{{Type: configs.NEWUSER, Path: "/proc/1/ns/user"}}}, ""},
		{"no uid mapping", 1000, configs.Config{Namespaces: userns, GIDMappings: own}, "linux.uidMappings: a rootless container needs"},
		{"no gid mapping", 1000, configs.Config{Namespaces: userns, UIDMappings: own}, "linux.gidMappings: a rootless container needs"},
		{"own ids only", 1000, configs.Config{Namespaces: userns, UIDMappings: own, GIDMappings: own}, ""},
		{"wider uid map without newuidmap", 1000, configs.Config{Namespaces: userns, UIDMappings: wide, GIDMappings: own}, "linux.uidMappings: mapping more than uid 1000 (berth's own) needs newuidmap"},
		{"wider gid map without newgidmap", 1000, configs.Config{Namespaces: userns, UIDMappings: own, GIDMappings: wide}, "linux.gidMappings: mapping more than gid 1000 (berth's own) needs newgidmap"},
	}
	for _, tc := range tests {
		err := checkRootless(&tc.cfg, tc.euid, 1000)
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestOwnOnly(t *testing.T) {
	tests := []struct {
		m    []specs.LinuxIDMapping
		want bool
	}{
		{[]specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}, true},
		{[]specs.LinuxIDMapping{{ContainerID: 5, HostID: 1000, Size: 1}}, true},
		{[]specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 2}}, false},
		{[]specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1}}, false},
		{[]specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}, {ContainerID: 1, HostID: 1000, Size: 1}}, false},
		{nil, false},
	}
	for i, tc := range tests {
		if got := ownOnly(tc.m, 1000); got != tc.want {
			t.Errorf("%d: ownOnly(%v) = %v, want %v", i, tc.m, got, tc.want)
		}
	}
}
