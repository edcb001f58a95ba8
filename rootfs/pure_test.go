package rootfs

import (
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCleanRel(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/", ""},
		{"", ""},
		{"/proc", "proc"},
		{"proc/", "proc"},
		{"/a/../../../etc", "etc"},
		{"../../x/./y//z", "x/y/z"},
	} {
		if got := cleanRel(tc.in); got != tc.want {
			t.Errorf("cleanRel(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBindAttrs(t *testing.T) {
	const (
		ro, nosuid, nodev, noexec = unix.MOUNT_ATTR_RDONLY, unix.MOUNT_ATTR_NOSUID, unix.MOUNT_ATTR_NODEV, unix.MOUNT_ATTR_NOEXEC
		nosym, nodir, atime       = unix.MOUNT_ATTR_NOSYMFOLLOW, unix.MOUNT_ATTR_NODIRATIME, unix.MOUNT_ATTR__ATIME
		five                      = ro | nosuid | nodev | noexec | nosym
		lockable                  = ro | nosuid | nodev | noexec
	)
	for _, tc := range []struct {
		name     string
		set, clr uintptr
		want     bindFlags
	}{
		{"none", 0, 0, bindFlags{}},
		{"bind only keeps the source's flags", unix.MS_BIND | unix.MS_REC, 0, bindFlags{}},
		{"ro nosuid: the rest cleared, implied", unix.MS_BIND | unix.MS_RDONLY | unix.MS_NOSUID, 0,
			bindFlags{set: ro | nosuid, clr: nodev | noexec | nosym, implied: nodev | noexec}},
		{"rw suid cleared by name", unix.MS_BIND, unix.MS_RDONLY | unix.MS_NOSUID,
			bindFlags{clr: five, implied: nodev | noexec}},
		{"dev alone clears everything", unix.MS_BIND, unix.MS_NODEV,
			bindFlags{clr: five, implied: ro | nosuid | noexec}},
		{"atime cleared keeps the atime mode", unix.MS_BIND, unix.MS_NOATIME,
			bindFlags{clr: five, implied: lockable}},
		{"noatime", unix.MS_NOATIME, 0, bindFlags{set: unix.MOUNT_ATTR_NOATIME, clr: five | atime | nodir, implied: lockable}},
		{"strictatime wins over noatime", unix.MS_STRICTATIME | unix.MS_NOATIME, 0,
			bindFlags{set: unix.MOUNT_ATTR_STRICTATIME, clr: five | atime | nodir, implied: lockable}},
		{"noatime wins over relatime", unix.MS_RELATIME | unix.MS_NOATIME, 0,
			bindFlags{set: unix.MOUNT_ATTR_NOATIME, clr: five | atime | nodir, implied: lockable}},
		{"nodiratime means relatime", unix.MS_NODIRATIME, unix.MS_RELATIME,
			bindFlags{set: nodir, clr: five | atime | nodir, implied: lockable}},
		{"nodev noexec nosymfollow", unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOSYMFOLLOW, 0,
			bindFlags{set: nodev | noexec | nosym, clr: ro | nosuid, implied: ro | nosuid}},
		{"symfollow is never implied", unix.MS_RDONLY, unix.MS_NOSYMFOLLOW,
			bindFlags{set: ro, clr: nosuid | nodev | noexec | nosym, implied: nosuid | nodev | noexec}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := bindAttrs(tc.set, tc.clr); got != tc.want {
				t.Errorf("bindAttrs = %+v; want %+v", got, tc.want)
			}
		})
	}
}

func TestFlagsFromAttrs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		set, clr uint64
		in, want uintptr
	}{
		{"none", 0, 0, unix.MS_NOSUID, unix.MS_NOSUID},
		{"rro", unix.MOUNT_ATTR_RDONLY, 0, 0, unix.MS_RDONLY},
		{"rrw clears ro", 0, unix.MOUNT_ATTR_RDONLY, unix.MS_RDONLY | unix.MS_NODEV, unix.MS_NODEV},
		{"rnoatime", unix.MOUNT_ATTR_NOATIME, unix.MOUNT_ATTR__ATIME, unix.MS_STRICTATIME, unix.MS_NOATIME},
		{"rrelatime", unix.MOUNT_ATTR_RELATIME, unix.MOUNT_ATTR__ATIME, unix.MS_NOATIME, unix.MS_RELATIME},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := flagsFromAttrs(tc.set, tc.clr, tc.in); got != tc.want {
				t.Errorf("flagsFromAttrs = %#x, want %#x", got, tc.want)
			}
		})
	}
}

func TestV1Hierarchies(t *testing.T) {
	mountinfo := `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
35 30 0:32 /nested /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`
	for _, tc := range []struct {
		name, self string
		want       []hierarchy
	}{
		{
			name: "hybrid",
			self: "9:name=systemd:/c1\n4:memory:/c1\n1:cpu,cpuacct:/c1\n0::/c1\n",
			want: []hierarchy{
				{name: "systemd", controllers: []string{"name=systemd"}, source: "/sys/fs/cgroup/systemd/c1"},
				{name: "memory", controllers: []string{"memory"}, source: "/sys/fs/cgroup/memory/c1"},
				{name: "cpu,cpuacct", controllers: []string{"cpu", "cpuacct"}, source: "/sys/fs/cgroup/cpu,cpuacct/c1"},
				{name: "unified", source: "/sys/fs/cgroup/unified/c1"},
			},
		},
		{
			name: "mount root strips prefix",
			self: "5:pids:/nested/c2\n",
			want: []hierarchy{{name: "pids", controllers: []string{"pids"}, source: "/sys/fs/cgroup/pids/c2"}},
		},
		{
			name: "unmounted controller mounted by name",
			self: "6:freezer:/c3\n",
			want: []hierarchy{{name: "freezer", controllers: []string{"freezer"}}},
		},
		{
			name: "cpu alone does not match cpu,cpuacct",
			self: "2:cpu:/\n",
			want: []hierarchy{{name: "cpu", controllers: []string{"cpu"}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := v1Hierarchies([]byte(tc.self), []byte(mountinfo))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("v1Hierarchies =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestHierarchyOptions(t *testing.T) {
	for _, tc := range []struct {
		h            hierarchy
		fstype, opts string
	}{
		{hierarchy{controllers: []string{"cpu", "cpuacct"}}, "cgroup", "cpu,cpuacct"},
		{hierarchy{controllers: []string{"name=systemd"}}, "cgroup", "none,name=systemd"},
		{hierarchy{}, "cgroup2", ""},
	} {
		if f, o := tc.h.fsType(), tc.h.options(); f != tc.fstype || o != tc.opts {
			t.Errorf("%v: got %s %q, want %s %q", tc.h.controllers, f, o, tc.fstype, tc.opts)
		}
	}
}
