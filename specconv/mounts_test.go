package specconv

import (
	"reflect"
	"strings"
	"testing"

	"github.com/berth-runtime/berth/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestParseMountOptionsEachOption(t *testing.T) {
	const atime = unix.MOUNT_ATTR__ATIME
	tests := []struct {
		opt  string
		want configs.Mount
	}{
		{"defaults", configs.Mount{}},
		{"ro", configs.Mount{Flags: unix.MS_RDONLY}},
		{"rw", configs.Mount{ClearedFlags: unix.MS_RDONLY}},
		{"nosuid", configs.Mount{Flags: unix.MS_NOSUID}},
		{"suid", configs.Mount{ClearedFlags: unix.MS_NOSUID}},
		{"nodev", configs.Mount{Flags: unix.MS_NODEV}},
		{"dev", configs.Mount{ClearedFlags: unix.MS_NODEV}},
		{"noexec", configs.Mount{Flags: unix.MS_NOEXEC}},
		{"exec", configs.Mount{ClearedFlags: unix.MS_NOEXEC}},
		{"sync", configs.Mount{Flags: unix.MS_SYNCHRONOUS}},
		{"async", configs.Mount{ClearedFlags: unix.MS_SYNCHRONOUS}},
		{"dirsync", configs.Mount{Flags: unix.MS_DIRSYNC}},
		{"remount", configs.Mount{Flags: unix.MS_REMOUNT}},
		{"mand", configs.Mount{Flags: unix.MS_MANDLOCK}},
		{"nomand", configs.Mount{ClearedFlags: unix.MS_MANDLOCK}},
		{"noatime", configs.Mount{Flags: unix.MS_NOATIME}},
		{"atime", configs.Mount{ClearedFlags: unix.MS_NOATIME}},
		{"nodiratime", configs.Mount{Flags: unix.MS_NODIRATIME}},
		{"diratime", configs.Mount{ClearedFlags: unix.MS_NODIRATIME}},
		{"relatime", configs.Mount{Flags: unix.MS_RELATIME}},
		{"norelatime", configs.Mount{ClearedFlags: unix.MS_RELATIME}},
		{"strictatime", configs.Mount{Flags: unix.MS_STRICTATIME}},
		{"nostrictatime", configs.Mount{ClearedFlags: unix.MS_STRICTATIME}},
		{"lazytime", configs.Mount{Flags: unix.MS_LAZYTIME}},
		{"nolazytime", configs.Mount{ClearedFlags: unix.MS_LAZYTIME}},
		{"silent", configs.Mount{Flags: unix.MS_SILENT}},
		{"loud", configs.Mount{ClearedFlags: unix.MS_SILENT}},
		{"iversion", configs.Mount{Flags: unix.MS_I_VERSION}},
		{"noiversion", configs.Mount{ClearedFlags: unix.MS_I_VERSION}},
		{"nosymfollow", configs.Mount{Flags: unix.MS_NOSYMFOLLOW}},
		{"symfollow", configs.Mount{ClearedFlags: unix.MS_NOSYMFOLLOW}},
		{"bind", configs.Mount{Flags: unix.MS_BIND}},
		{"rbind", configs.Mount{Flags: unix.MS_BIND | unix.MS_REC}},
		{"shared", configs.Mount{PropagationFlags: []uintptr{unix.MS_SHARED}}},
		{"rshared", configs.Mount{PropagationFlags: []uintptr{unix.MS_SHARED | unix.MS_REC}}},
		{"private", configs.Mount{PropagationFlags: []uintptr{unix.MS_PRIVATE}}},
		{"rprivate", configs.Mount{PropagationFlags: []uintptr{unix.MS_PRIVATE | unix.MS_REC}}},
		{"slave", configs.Mount{PropagationFlags: []uintptr{unix.MS_SLAVE}}},
		{"rslave", configs.Mount{PropagationFlags: []uintptr{unix.MS_SLAVE | unix.MS_REC}}},
		{"unbindable", configs.Mount{PropagationFlags: []uintptr{unix.MS_UNBINDABLE}}},
		{"runbindable", configs.Mount{PropagationFlags: []uintptr{unix.MS_UNBINDABLE | unix.MS_REC}}},
		{"rro", configs.Mount{RecAttrSet: unix.MOUNT_ATTR_RDONLY}},
		{"rrw", configs.Mount{RecAttrClr: unix.MOUNT_ATTR_RDONLY}},
		{"rnosuid", configs.Mount{RecAttrSet: unix.MOUNT_ATTR_NOSUID}},
		{"rsuid", configs.Mount{RecAttrClr: unix.MOUNT_ATTR_NOSUID}},
		{"rnodev", configs.Mount{RecAttrSet: unix.MOUNT_ATTR_NODEV}},
		{"rdev", configs.Mount{RecAttrClr: unix.MOUNT_ATTR_NODEV}},
		{"rnoexec", configs.Mount{RecAttrSet: unix.MOUNT_ATTR_NOEXEC}},
		{"rexec", configs.Mount{RecAttrClr: unix.MOUNT_ATTR_NOEXEC}},
		{"rnodiratime", configs.Mount{RecAttrSet: unix.MOUNT_ATTR_NODIRATIME}},
		{"rdiratime", configs.Mount{RecAttrClr: unix.MOUNT_ATTR_NODIRATIME}},
		{"rnosymfollow", configs.Mount{RecAttrSet: unix.MOUNT_ATTR_NOSYMFOLLOW}},
		{"rsymfollow", configs.Mount{RecAttrClr: unix.MOUNT_ATTR_NOSYMFOLLOW}},
		{"rrelatime", configs.Mount{RecAttrClr: atime, RecAttrSet: unix.MOUNT_ATTR_RELATIME}},
		{"ratime", configs.Mount{RecAttrClr: atime, RecAttrSet: unix.MOUNT_ATTR_RELATIME}},
		{"rnostrictatime", configs.Mount{RecAttrClr: atime, RecAttrSet: unix.MOUNT_ATTR_RELATIME}},
		{"rnoatime", configs.Mount{RecAttrClr: atime, RecAttrSet: unix.MOUNT_ATTR_NOATIME}},
		{"rstrictatime", configs.Mount{RecAttrClr: atime, RecAttrSet: unix.MOUNT_ATTR_STRICTATIME}},
		{"rnorelatime", configs.Mount{RecAttrClr: atime, RecAttrSet: unix.MOUNT_ATTR_RELATIME}},
		{"idmap", configs.Mount{}},
		{"ridmap", configs.Mount{IDMapRecursive: true}},
		{"tmpcopyup", configs.Mount{CopyUp: true}},
		{"mode=755", configs.Mount{Data: "mode=755"}},
		{"newinstance", configs.Mount{Data: "newinstance"}},
		{"bogus", configs.Mount{Data: "bogus"}},
	}
	for _, tc := range tests {
		t.Run(tc.opt, func(t *testing.T) {
			got, err := ParseMountOptions([]string{tc.opt})
			if err != nil {
				t.Fatalf("ParseMountOptions(%q): %v", tc.opt, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseMountOptions(%q) = %+v, want %+v", tc.opt, got, tc.want)
			}
		})
	}
}

// Every option in the table above must be one the parser knows, so that
// Features (derived from the same table) stays truthful.
func TestParseMountOptionsTableCoversEveryKnownOption(t *testing.T) {
	for name := range mountOpts {
		m, err := ParseMountOptions([]string{name})
		if err != nil || m.Data != "" {
			t.Errorf("%q: known option treated as data or error: %+v, %v", name, m, err)
		}
	}
}

func TestParseMountOptionsCombinations(t *testing.T) {
	tests := []struct {
		name string
		opts []string
		want configs.Mount
	}{
		{"later rw undoes ro", []string{"ro", "rw"},
			configs.Mount{ClearedFlags: unix.MS_RDONLY}},
		{"later ro undoes rw", []string{"rw", "ro"},
			configs.Mount{Flags: unix.MS_RDONLY}},
		{"later rrw undoes rro", []string{"rro", "rrw"},
			configs.Mount{RecAttrClr: unix.MOUNT_ATTR_RDONLY}},
		{"last recursive atime mode wins", []string{"rnoatime", "rstrictatime"},
			configs.Mount{RecAttrClr: unix.MOUNT_ATTR__ATIME, RecAttrSet: unix.MOUNT_ATTR_STRICTATIME}},
		{"recursive atime keeps other recursive bits", []string{"rro", "rnoatime"},
			configs.Mount{RecAttrClr: unix.MOUNT_ATTR__ATIME, RecAttrSet: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOATIME}},
		{"data keeps order and joins with commas", []string{"nosuid", "mode=755", "strictatime", "size=65536k", "uid=5"},
			configs.Mount{Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=755,size=65536k,uid=5"}},
		{"propagation flags keep order", []string{"rprivate", "shared"},
			configs.Mount{PropagationFlags: []uintptr{unix.MS_PRIVATE | unix.MS_REC, unix.MS_SHARED}}},
		{"rbind ro bind mount", []string{"rbind", "ro", "nosuid", "nodev", "noexec"},
			configs.Mount{Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC}},
		{"nil options", nil, configs.Mount{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMountOptions(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseMountOptionsErrors(t *testing.T) {
	tests := []struct {
		name  string
		opts  []string
		field string
	}{
		{"empty option", []string{"ro", ""}, "options[1]"},
		{"NUL byte", []string{"mode=7\x0055"}, "options[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseMountOptions(tc.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tc.field+": ") {
				t.Errorf("error %q does not start with %q", err, tc.field)
			}
		})
	}
}

func TestKnownMountOptions(t *testing.T) {
	tests := []struct {
		name      string
		idmap     bool
		wantIDMap bool
	}{
		{"with idmap", true, true},
		{"without idmap", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := knownMountOptions(tc.idmap)
			has := map[string]bool{}
			for _, o := range got {
				has[o] = true
			}
			if has["idmap"] != tc.wantIDMap || has["ridmap"] != tc.wantIDMap {
				t.Errorf("idmap listed = %v/%v, want %v", has["idmap"], has["ridmap"], tc.wantIDMap)
			}
			for _, must := range []string{"tmpcopyup", "ro", "rbind", "rro", "rnoatime", "runbindable", "defaults", "nosymfollow"} {
				if !has[must] {
					t.Errorf("%q missing", must)
				}
			}
		})
	}
}

func TestConvertMountsProcRule(t *testing.T) {
	dir := t.TempDir() // not a procfs
	tests := []struct {
		name  string
		mount specs.Mount
		field string // "" when the mount is accepted
	}{
		{"fresh procfs on /proc", specs.Mount{Destination: "/proc", Type: "proc", Source: "proc"}, ""},
		{"bind of a procfs on /proc", specs.Mount{Destination: "/proc", Type: "bind", Source: "/proc", Options: []string{"rbind"}}, ""},
		{"bind of a directory on /proc", specs.Mount{Destination: "/proc", Type: "bind", Source: dir, Options: []string{"bind"}}, "mounts[0].destination"},
		{"bind option without type on /proc", specs.Mount{Destination: "/proc", Source: dir, Options: []string{"rbind"}}, "mounts[0].destination"},
		{"uncleaned /proc", specs.Mount{Destination: "/x/../proc/", Type: "bind", Source: dir, Options: []string{"bind"}}, "mounts[0].destination"},
		{"relative proc", specs.Mount{Destination: "proc", Type: "tmpfs", Source: "tmpfs"}, "mounts[0].destination"},
		{"tmpfs on /proc", specs.Mount{Destination: "/proc", Type: "tmpfs", Source: "tmpfs"}, "mounts[0].destination"},
		{"sysfs on /proc", specs.Mount{Destination: "/proc", Type: "sysfs", Source: "sysfs"}, "mounts[0].destination"},
		{"remount of /proc", specs.Mount{Destination: "/proc", Options: []string{"remount", "ro"}}, "mounts[0].destination"},
		{"missing bind source on /proc", specs.Mount{Destination: "/proc", Type: "bind", Source: dir + "/none", Options: []string{"bind"}}, "mounts[0].source"},
		{"bind on /proc/sys", specs.Mount{Destination: "/proc/sys", Type: "bind", Source: dir, Options: []string{"bind"}}, "mounts[0].destination"},
		{"bind on /proc/self", specs.Mount{Destination: "/proc/self", Type: "bind", Source: dir, Options: []string{"bind"}}, "mounts[0].destination"},
		{"procfs below /proc", specs.Mount{Destination: "/proc/x", Type: "proc", Source: "proc"}, "mounts[0].destination"},
		{"bind on /proc/cpuinfo", specs.Mount{Destination: "/proc/cpuinfo", Type: "bind", Source: dir, Options: []string{"bind"}}, ""},
		{"bind on /proc/net/dev", specs.Mount{Destination: "/proc/net/dev", Type: "bind", Source: dir, Options: []string{"bind"}}, ""},
		{"bind on /procx", specs.Mount{Destination: "/procx", Type: "bind", Source: dir, Options: []string{"bind"}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := convertMounts([]specs.Mount{tc.mount}, "/bundle", nil, false)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.HasPrefix(err.Error(), tc.field+": ") || strings.ContainsAny(err.Error(), "\n") {
				t.Errorf("error %q does not start with %q", err, tc.field)
			}
			if tc.field == "mounts[0].destination" && !strings.Contains(err.Error(), "/proc") {
				t.Errorf("error %q does not name the destination", err)
			}
		})
	}
}

func TestConvertMountsOptionsMustApply(t *testing.T) {
	tests := []struct {
		name  string
		mount specs.Mount
		want  string // "" when the mount is accepted
	}{
		{"tmpcopyup on a tmpfs", specs.Mount{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup"}}, ""},
		{"tmpcopyup on a bind", specs.Mount{Destination: "/run", Type: "bind", Source: "/srv", Options: []string{"rbind", "tmpcopyup"}},
			`mounts[0].options: tmpcopyup: only a tmpfs mount can be filled from the rootfs (type "bind")`},
		{"tmpcopyup on a tmpfs typed bind", specs.Mount{Destination: "/run", Type: "tmpfs", Source: "/srv", Options: []string{"bind", "tmpcopyup"}},
			`mounts[0].options: tmpcopyup: only a tmpfs mount can be filled from the rootfs (type "tmpfs")`},
		{"tmpcopyup on a proc", specs.Mount{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"tmpcopyup"}},
			`mounts[0].options: tmpcopyup: only a tmpfs mount can be filled from the rootfs (type "proc")`},
		{"sync on a tmpfs", specs.Mount{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"sync", "lazytime"}}, ""},
		{"sync on a bind", specs.Mount{Destination: "/run", Type: "bind", Source: "/srv", Options: []string{"rbind", "ro", "sync", "nomand"}},
			"mounts[0].options: sync,nomand: a bind mount cannot change the source filesystem's own flags (set them where the source is mounted)"},
		{"data on a bind", specs.Mount{Destination: "/run", Type: "bind", Source: "/srv", Options: []string{"rbind", "mode=755", "bogus"}},
			"mounts[0].options: mode=755,bogus: not a mount option berth knows, and a bind mount takes no filesystem options"},
		{"usual bind flags", specs.Mount{Destination: "/run", Type: "bind", Source: "/srv", Options: []string{"rbind", "ro", "nosuid", "nodev", "noexec", "relatime", "rprivate"}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := convertMounts([]specs.Mount{tc.mount}, "/bundle", nil, false)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("error %q, want %q", got, tc.want)
			}
		})
	}
}

func TestContainerDest(t *testing.T) {
	roots := []string{"/b/rootfs", "/real/rootfs"}
	tests := []struct{ dest, want string }{
		{"/etc/hosts", "/etc/hosts"},
		{"etc/hosts", "/etc/hosts"},
		{"/b/rootfs/mnt/x", "/mnt/x"},
		{"/real/rootfs/mnt/", "/mnt"},
		{"/b/rootfs", "/"},
		{"/b/rootfsx/mnt", "/b/rootfsx/mnt"},
		{"/b/rootfs/../rootfs/a", "/a"},
		{"/b/x/../rootfs/a", "/a"},
		{"/b", "/b"},
	}
	for _, tc := range tests {
		if got := containerDest(tc.dest, roots); got != tc.want {
			t.Errorf("containerDest(%q) = %q, want %q", tc.dest, got, tc.want)
		}
	}
	if got := containerDest("/mnt", []string{"/"}); got != "/mnt" {
		t.Errorf("rootfs / strips everything: %q", got)
	}
}
