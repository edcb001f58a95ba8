package libcontainer

import (
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/configs"
)

// Which init a create takes decides who sets the rootfs up: a berth
// thread in init's namespaces (C init) or init's own Go runtime.
func TestUseCInit(t *testing.T) {
	base := func() *configs.Config {
		return &configs.Config{
			Process:    &configs.Process{Args: []string{"true"}},
			Namespaces: []configs.Namespace{{Type: configs.NEWNS}, {Type: configs.NEWPID}},
		}
	}
	procs := func(n int) []string { return make([]string, n) }
	for _, tc := range []struct {
		name   string
		change func(*configs.Config)
		procs  int
		want   bool
	}{
		{"plain config", func(*configs.Config) {}, 1, true},
		{"no mount namespace", func(c *configs.Config) { c.Namespaces = c.Namespaces[1:] }, 1, false},
		{"joined mount namespace", func(c *configs.Config) { c.Namespaces[0].Path = "/proc/1/ns/mnt" }, 1, false},
		{"user namespace", func(c *configs.Config) {
			c.Namespaces = append(c.Namespaces, configs.Namespace{Type: configs.NEWUSER})
		}, 1, false},
		{"--no-pivot", func(c *configs.Config) { c.NoPivot = true }, 1, false},
		{"rootless cgroup", func(c *configs.Config) { c.Cgroup.Rootless = true }, 1, false},
		{"createContainer hook", func(c *configs.Config) {
			c.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/h"}}}
		}, 1, false},
		{"startContainer hook", func(c *configs.Config) {
			c.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/h"}}}
		}, 1, false},
		{"prestart hook stays in C", func(c *configs.Config) {
			c.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/h"}}}
		}, 1, true},
		{"8 proc mounts", func(*configs.Config) {}, 8, true},
		{"9 proc mounts", func(*configs.Config) {}, 9, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.change(c)
			want := tc.want && os.Geteuid() == 0 // only root takes the C path
			if got := useCInit(c, procs(tc.procs)); got != want {
				t.Errorf("useCInit = %v, want %v", got, want)
			}
		})
	}
}

func TestProcMounts(t *testing.T) {
	c := &configs.Config{Mounts: []configs.Mount{
		{Type: "proc", Data: "hidepid=2"},
		{Type: "tmpfs", Data: "size=1m"},
		{Type: "proc", Flags: unix.MS_BIND, Source: "/proc"},
		{Type: "proc"},
	}}
	got := procMounts(c)
	if len(got) != 2 || got[0] != "hidepid=2" || got[1] != "" {
		t.Errorf("procMounts = %q, want the data of the two non-bind proc mounts", got)
	}
}

// bootstrapFor splits namespaces into ones init creates and ones it joins,
// and sends id maps and time offsets only with the namespace they belong to.
func TestBootstrapFor(t *testing.T) {
	c := &configs.Config{
		Namespaces: []configs.Namespace{
			{Type: configs.NEWNS}, {Type: configs.NEWNET, Path: "/run/netns/x"}, {Type: configs.NEWUSER}, {Type: configs.NEWTIME},
		},
		UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}},
		TimeOffsets: map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 5}},
	}
	b, err := bootstrapFor(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint32(unix.CLONE_NEWNS | unix.CLONE_NEWUSER | unix.CLONE_NEWTIME); uint32(b.CloneFlags) != want {
		t.Errorf("CloneFlags = %#x, want %#x", b.CloneFlags, want)
	}
	if len(b.Join) != 1 || b.Join[0].Path != "/run/netns/x" || b.Join[0].Flag != unix.CLONE_NEWNET {
		t.Errorf("Join = %+v, want the net namespace by path", b.Join)
	}
	if !b.IDMap || b.TimeOffsets != "monotonic 5 0\n" {
		t.Errorf("IDMap = %v, TimeOffsets = %q", b.IDMap, b.TimeOffsets)
	}

	// Joined user and time namespaces: nothing to map, nothing to offset.
	c.Namespaces[2].Path, c.Namespaces[3].Path = "/proc/9/ns/user", "/proc/9/ns/time"
	if b, err = bootstrapFor(c); err != nil {
		t.Fatal(err)
	}
	if b.IDMap || b.TimeOffsets != "" {
		t.Errorf("joined namespaces: IDMap = %v, TimeOffsets = %q", b.IDMap, b.TimeOffsets)
	}

	c.Namespaces = append(c.Namespaces, configs.Namespace{Type: "bogus"})
	if _, err := bootstrapFor(c); err == nil {
		t.Error("unknown namespace type accepted")
	}
}
