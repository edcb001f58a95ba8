package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-runtime/berth/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const (
	defaultFlags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	cgroupMagic  = 0x27e0eb
	sysfsMagic   = 0x62656572
	devptsMagic  = 0x1cd1
	mqueueMagic  = 0x19800202
	overlayMagic = 0x794c7630
)

func TestSymlinkEscapeStaysInRoot(t *testing.T) {
	// outside stands for a host directory such as /etc: the rootfs has a
	// directory of the same name, and a mount through rootfs/evil must
	// land there, never in the real one.
	outside := tmpfsDir(t)
	inside := strings.TrimPrefix(outside, "/")
	for _, tc := range []struct {
		name, link, dest string
		wantRel          string // where the mount must land, relative to rootfs
	}{
		{"absolute symlink", outside, "/evil/x", inside + "/x"},
		{"dotdot symlink", "../../../../../../" + inside, "/evil/x", inside + "/x"},
		{"dotdot in destination", "", "/../../../../x", "x"},
		{"symlink as last component", outside, "/evil", inside},
		{"chain of symlinks", "/evil2", "/evil/x", inside + "/x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := tmpfsDir(t)
			if err := os.MkdirAll(filepath.Join(root, inside), 0o755); err != nil {
				t.Fatal(err)
			}
			if tc.link != "" {
				if err := os.Symlink(tc.link, filepath.Join(root, "evil")); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink(outside, filepath.Join(root, "evil2")); err != nil {
				t.Fatal(err)
			}
			cfg := baseConfig(root)
			cfg.Mounts = []configs.Mount{{Source: "tmpfs", Destination: tc.dest, Type: "tmpfs"}}
			if err := Prepare(cfg); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Lstat(filepath.Join(outside, "x")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("%s/x exists outside the rootfs (err %v)", outside, err)
			}
			if isMountRoot(t, outside) && mountCount(t, outside) > 1 {
				t.Fatalf("something was mounted on %s", outside)
			}
			if p := filepath.Join(root, tc.wantRel); !isMountRoot(t, p) {
				t.Fatalf("%s is not a mount point", p)
			}
		})
	}
}

// A dangling symlink on the way to a destination is followed inside the
// root: its target is created there, never on the host.
func TestDanglingSymlinkCreatesInsideRoot(t *testing.T) {
	outside := tmpfsDir(t)
	inside := strings.TrimPrefix(outside, "/")
	for _, tc := range []struct{ name, link, dest, wantRel string }{
		{"in the middle", outside + "/missing", "/evil/x", inside + "/missing/x"},
		{"at the end", outside + "/missing", "/evil", inside + "/missing"},
		{"relative, through another", "jump/b", "/evil/x", inside + "/c/b/x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := tmpfsDir(t)
			if err := os.Symlink(tc.link, filepath.Join(root, "evil")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside+"/c", filepath.Join(root, "jump")); err != nil {
				t.Fatal(err)
			}
			cfg := baseConfig(root)
			cfg.Mounts = []configs.Mount{{Source: "tmpfs", Destination: tc.dest, Type: "tmpfs"}}
			if err := Prepare(cfg); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{filepath.Join(outside, "missing"), filepath.Join(outside, "c")} {
				if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s was created outside the rootfs", p)
				}
			}
			if p := filepath.Join(root, tc.wantRel); !isMountRoot(t, p) {
				t.Fatalf("%s is not a mount point", p)
			}
		})
	}
}

func TestProcOnSymlinkRefused(t *testing.T) {
	for _, fstype := range []string{"proc", "sysfs"} {
		t.Run(fstype, func(t *testing.T) {
			root := tmpfsDir(t)
			if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("/etc", filepath.Join(root, "proc")); err != nil {
				t.Fatal(err)
			}
			cfg := baseConfig(root)
			cfg.Mounts = []configs.Mount{{Source: fstype, Destination: "/proc", Type: fstype, Flags: defaultFlags}}
			err := Prepare(cfg)
			if err == nil || !strings.Contains(err.Error(), "must be mounted on ordinary directory: /proc is a symlink to /etc") {
				t.Fatalf("Prepare: %v, want the ordinary directory error", err)
			}
			for _, d := range []string{filepath.Join(root, "etc"), "/etc"} {
				if ft := fsType(t, d); ft == unix.PROC_SUPER_MAGIC || ft == unix.SYSFS_MAGIC {
					t.Errorf("%s mounted on %s", fstype, d)
				}
			}
		})
	}
}

func TestMountTypes(t *testing.T) {
	src := tmpfsDir(t)
	writeFile(t, filepath.Join(src, "dir", "f"), "dirfile")
	writeFile(t, filepath.Join(src, "file"), "plainfile")
	writeFile(t, filepath.Join(src, "lower", "l"), "lower")
	for _, d := range []string{"upper", "work", "dir/sub"} {
		if err := os.MkdirAll(filepath.Join(src, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := mountTmpfs(filepath.Join(src, "dir", "sub")); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		m     configs.Mount
		check func(t *testing.T, dest string)
	}{
		{"proc", configs.Mount{Source: "proc", Type: "proc", Destination: "/proc", Flags: defaultFlags},
			magicIs(unix.PROC_SUPER_MAGIC)},
		{"sysfs ro", configs.Mount{Source: "sysfs", Type: "sysfs", Destination: "/sys", Flags: defaultFlags | unix.MS_RDONLY},
			all(magicIs(sysfsMagic), flagsHave(unix.ST_RDONLY|unix.ST_NOSUID))},
		{"tmpfs with data", configs.Mount{Source: "tmpfs", Type: "tmpfs", Destination: "/run/x", Flags: unix.MS_NOSUID, Data: "mode=700,size=64k"},
			all(magicIs(unix.TMPFS_MAGIC), modeIs(0o700), flagsHave(unix.ST_NOSUID))},
		{"devpts", configs.Mount{Source: "devpts", Type: "devpts", Destination: "/dev/pts", Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,ptmxmode=0666,mode=0620"},
			magicIs(devptsMagic)},
		{"mqueue", configs.Mount{Source: "mqueue", Type: "mqueue", Destination: "/dev/mqueue", Flags: defaultFlags},
			magicIs(mqueueMagic)},
		{"overlay", configs.Mount{Source: "overlay", Type: "overlay", Destination: "/ov",
			Data: "lowerdir=" + src + "/lower,upperdir=" + src + "/upper,workdir=" + src + "/work"},
			all(magicIs(overlayMagic), contentIs("l", "lower"))},
		{"rro on fresh tmpfs", configs.Mount{Source: "tmpfs", Type: "tmpfs", Destination: "/rro", RecAttrSet: unix.MOUNT_ATTR_RDONLY},
			flagsHave(unix.ST_RDONLY)},
		{"bind dir", configs.Mount{Source: src + "/dir", Destination: "/bind/dir", Flags: unix.MS_BIND},
			all(contentIs("f", "dirfile"), notMountAt("sub"))},
		{"rbind dir keeps submounts", configs.Mount{Source: src + "/dir", Destination: "/rbind", Flags: unix.MS_BIND | unix.MS_REC},
			all(contentIs("f", "dirfile"), mountAt("sub"))},
		{"bind file creates a file", configs.Mount{Source: src + "/file", Destination: "/etc/hosts", Flags: unix.MS_BIND},
			contentIs("", "plainfile")},
		{"relative source is relative to the bundle", configs.Mount{Source: filepath.Base(src) + "/file", Destination: "/rel", Flags: unix.MS_BIND},
			contentIs("", "plainfile")},
		{"bind ro", configs.Mount{Source: src + "/dir", Destination: "/ro", Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY},
			all(flagsHave(unix.ST_RDONLY), writeFails("f"), writeWorks("sub/w"))},
		{"rbind rro makes submounts ro", configs.Mount{Source: src + "/dir", Destination: "/rro-bind", Flags: unix.MS_BIND | unix.MS_REC, RecAttrSet: unix.MOUNT_ATTR_RDONLY},
			all(writeFails("f"), writeFails("sub/w2"))},
		{"cgroup", configs.Mount{Source: "cgroup", Type: "cgroup", Destination: "/sys/fs/cgroup", Flags: defaultFlags | unix.MS_RDONLY},
			checkCgroup},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := tmpfsDir(t)
			cfg := baseConfig(root)
			cfg.Bundle = filepath.Dir(src)
			cfg.Mounts = []configs.Mount{tc.m}
			if err := Prepare(cfg); err != nil {
				t.Fatal(err)
			}
			dest := filepath.Join(root, tc.m.Destination)
			if !isMountRoot(t, dest) {
				t.Fatalf("%s is not a mount point", dest)
			}
			tc.check(t, dest)
		})
	}
}

// checkCgroup checks the mount against what the host has: cgroup2 on a
// v2 host, else a read-only tmpfs with one hierarchy per controller.
func checkCgroup(t *testing.T, dest string) {
	if fsType(t, "/sys/fs/cgroup") == unix.CGROUP2_SUPER_MAGIC {
		magicIs(unix.CGROUP2_SUPER_MAGIC)(t, dest)
		return
	}
	magicIs(unix.TMPFS_MAGIC)(t, dest)
	flagsHave(unix.ST_RDONLY)(t, dest)
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	hs := v1Hierarchies(self, mi)
	if len(hs) == 0 {
		t.Fatal("no hierarchies on a v1 host")
	}
	for _, h := range hs {
		p := filepath.Join(dest, h.name)
		if !isMountRoot(t, p) {
			t.Errorf("%s is not a mount point", p)
			continue
		}
		want := int64(cgroupMagic)
		if len(h.controllers) == 0 {
			want = unix.CGROUP2_SUPER_MAGIC
		}
		magicIs(want)(t, p)
		flagsHave(unix.ST_RDONLY)(t, p)
		// Without a cgroup namespace the container sees its own cgroup
		// directory: same inode as the host's.
		var a, b unix.Stat_t
		if err := unix.Stat(p, &a); err != nil {
			t.Fatal(err)
		}
		if err := unix.Stat(h.source, &b); err != nil {
			t.Fatal(err)
		}
		if a.Ino != b.Ino || a.Dev != b.Dev {
			t.Errorf("%s is not a bind of %s", p, h.source)
		}
		for _, c := range h.controllers {
			if c != h.name && !strings.HasPrefix(c, "name=") {
				if target, err := os.Readlink(filepath.Join(dest, c)); err != nil || target != h.name {
					t.Errorf("symlink %s -> %q (%v), want %s", c, target, err, h.name)
				}
			}
		}
	}
}

func all(checks ...func(*testing.T, string)) func(*testing.T, string) {
	return func(t *testing.T, dest string) {
		t.Helper()
		for _, c := range checks {
			c(t, dest)
		}
	}
}

func magicIs(magic int64) func(*testing.T, string) {
	return func(t *testing.T, dest string) {
		t.Helper()
		if got := fsType(t, dest); got != magic {
			t.Errorf("%s: fs magic %#x, want %#x", dest, got, magic)
		}
	}
}

func flagsHave(flags int64) func(*testing.T, string) {
	return func(t *testing.T, dest string) {
		t.Helper()
		got, err := statfsFlags(dest)
		if err != nil {
			t.Fatal(err)
		}
		if got&flags != flags {
			t.Errorf("%s: statfs flags %#x lack %#x", dest, got, flags)
		}
	}
}

func modeIs(mode os.FileMode) func(*testing.T, string) {
	return func(t *testing.T, dest string) {
		t.Helper()
		fi, err := os.Stat(dest)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %o, want %o", dest, fi.Mode().Perm(), mode)
		}
	}
}

func contentIs(name, want string) func(*testing.T, string) {
	return func(t *testing.T, dest string) {
		t.Helper()
		got, err := os.ReadFile(filepath.Join(dest, name))
		if err != nil || string(got) != want {
			t.Errorf("%s/%s: %q (%v), want %q", dest, name, got, err, want)
		}
	}
}

func mountAt(name string) func(*testing.T, string) {
	return func(t *testing.T, dest string) {
		t.Helper()
		if !isMountRoot(t, filepath.Join(dest, name)) {
			t.Errorf("%s/%s is not a mount point", dest, name)
		}
	}
}

func notMountAt(name string) func(*testing.T, string) {
	return func(t *testing.T, dest string) {
		t.Helper()
		if isMountRoot(t, filepath.Join(dest, name)) {
			t.Errorf("%s/%s is a mount point", dest, name)
		}
	}
}

func writeFails(name string) func(*testing.T, string) {
	return func(t *testing.T, dest string) {
		t.Helper()
		err := os.WriteFile(filepath.Join(dest, name), []byte("x"), 0o644)
		if !errors.Is(err, unix.EROFS) {
			t.Errorf("write %s/%s: %v, want EROFS", dest, name, err)
		}
	}
}

func writeWorks(name string) func(*testing.T, string) {
	return func(t *testing.T, dest string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dest, name), []byte("x"), 0o644); err != nil {
			t.Errorf("write %s/%s: %v", dest, name, err)
		}
	}
}

func TestBindFlagsKeepOrReplace(t *testing.T) {
	src := tmpfsDir(t)
	// The source mount is nosuid,nodev: a bind naming no flag keeps that,
	// one naming any replaces it (mount(2)'s MS_BIND|MS_REMOUNT).
	if err := unix.Mount("", src, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		flags, clr    uintptr
		want, notWant int64
	}{
		{"bind alone keeps nosuid nodev", unix.MS_BIND, 0, unix.ST_NOSUID | unix.ST_NODEV, unix.ST_RDONLY},
		{"ro replaces nosuid nodev", unix.MS_BIND | unix.MS_RDONLY, 0, unix.ST_RDONLY, unix.ST_NOSUID | unix.ST_NODEV},
		{"suid cleared, noexec set", unix.MS_BIND | unix.MS_NOEXEC, unix.MS_NOSUID, unix.ST_NOEXEC, unix.ST_NOSUID | unix.ST_NODEV | unix.ST_RDONLY},
		{"noatime", unix.MS_BIND | unix.MS_NOATIME, 0, unix.ST_NOATIME, unix.ST_RELATIME | unix.ST_NOSUID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := tmpfsDir(t)
			cfg := baseConfig(root)
			cfg.Mounts = []configs.Mount{{Source: src, Destination: "/b", Flags: tc.flags, ClearedFlags: tc.clr}}
			if err := Prepare(cfg); err != nil {
				t.Fatal(err)
			}
			got, err := statfsFlags(filepath.Join(root, "b"))
			if err != nil {
				t.Fatal(err)
			}
			if got&tc.want != tc.want || got&tc.notWant != 0 {
				t.Errorf("flags %#x: want %#x set and %#x clear", got, tc.want, tc.notWant)
			}
		})
	}
}

func TestMountPropagation(t *testing.T) {
	src := tmpfsDir(t)
	for _, tc := range []struct {
		name string
		m    configs.Mount
		want string // substring of the mountinfo optional fields; "" = none
	}{
		{"bind shared", configs.Mount{Source: src, Destination: "/p", Flags: unix.MS_BIND, PropagationFlags: []uintptr{unix.MS_SHARED}}, "shared:"},
		{"tmpfs shared", configs.Mount{Source: "tmpfs", Type: "tmpfs", Destination: "/p", PropagationFlags: []uintptr{unix.MS_SHARED}}, "shared:"},
		{"tmpfs private", configs.Mount{Source: "tmpfs", Type: "tmpfs", Destination: "/p", PropagationFlags: []uintptr{unix.MS_PRIVATE}}, ""},
		{"bind rshared then unbindable", configs.Mount{Source: src, Destination: "/p", Flags: unix.MS_BIND | unix.MS_REC,
			PropagationFlags: []uintptr{unix.MS_SHARED | unix.MS_REC, unix.MS_UNBINDABLE}}, "unbindable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := tmpfsDir(t)
			cfg := baseConfig(root)
			cfg.Mounts = []configs.Mount{tc.m}
			if err := Prepare(cfg); err != nil {
				t.Fatal(err)
			}
			opt, ok := mountinfoOptional(filepath.Join(root, "p"))
			if !ok {
				t.Fatal("mount not in mountinfo")
			}
			if tc.want == "" && opt != "" || tc.want != "" && !strings.Contains(opt, tc.want) {
				t.Errorf("optional fields %q, want %q", opt, tc.want)
			}
		})
	}
}

func TestRootfsSelfBindAndDefaultPropagation(t *testing.T) {
	root := tmpfsDir(t)
	// Make the rootfs shared first: Prepare's default rslave must turn it
	// into a slave (or private), never leave it shared.
	if err := unix.Mount("", root, "", unix.MS_SHARED, ""); err != nil {
		t.Fatal(err)
	}
	if err := Prepare(baseConfig(root)); err != nil {
		t.Fatal(err)
	}
	opt, ok := mountinfoOptional(root)
	if !ok {
		t.Fatal("rootfs not in mountinfo")
	}
	if strings.Contains(opt, "shared:") {
		t.Errorf("rootfs still shared: %q", opt)
	}
}

func TestIDMappedBind(t *testing.T) {
	src := tmpfsDir(t)
	writeFile(t, filepath.Join(src, "owned-by-root"), "x")
	root := tmpfsDir(t)
	cfg := baseConfig(root)
	cfg.Mounts = []configs.Mount{{
		Source: src, Destination: "/idmapped", Flags: unix.MS_BIND,
		UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 10}},
		GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 2000, Size: 10}},
	}}
	if err := Prepare(cfg); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(root, "idmapped", "owned-by-root"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 1000 || st.Gid != 2000 {
		t.Errorf("owner %d:%d through the id-mapped mount, want 1000:2000", st.Uid, st.Gid)
	}
}

func TestIDMapOnNonBindFails(t *testing.T) {
	root := tmpfsDir(t)
	cfg := baseConfig(root)
	cfg.Mounts = []configs.Mount{{Source: "tmpfs", Type: "tmpfs", Destination: "/t",
		UIDMappings: []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}}}
	if err := Prepare(cfg); !errors.Is(err, unix.EOPNOTSUPP) {
		t.Fatalf("Prepare: %v, want EOPNOTSUPP", err)
	}
}

// Without a mount namespace the config's mounts still land below the
// rootfs (the caller chose the host's namespace), and nowhere else.
func TestMountsWithoutMountNamespaceLandInRootfs(t *testing.T) {
	root := tmpfsDir(t)
	cfg := baseConfig(root)
	cfg.Namespaces = nil
	cfg.Mounts = []configs.Mount{{Source: "tmpfs", Type: "tmpfs", Destination: "/t"}}
	if err := Prepare(cfg); err != nil {
		t.Fatal(err)
	}
	if got := fsType(t, filepath.Join(root, "t")); got != unix.TMPFS_MAGIC {
		t.Fatalf("%s/t is not a tmpfs (type %#x)", root, got)
	}
	unix.Unmount(filepath.Join(root, "t"), unix.MNT_DETACH)
}

func mountCount(t *testing.T, point string) int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if fs := strings.Fields(line); len(fs) > 4 && fs[4] == point {
			n++
		}
	}
	return n
}

// On a berth thread outside the container's pid namespace, proc mounts
// come only from the detached procfs fds init made: attached with the
// mount's flags, and never made by the caller (that procfs would show the
// host's processes).
func TestProcFromInitOutsidePidNS(t *testing.T) {
	tests := []struct {
		name    string
		withFd  bool
		wantErr string
	}{
		{"attached with the mount's flags", true, ""},
		{"none left is an error", false, "no procfs made by init left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tmpfsDir(t)
			cfg := baseConfig(root)
			cfg.Mounts = []configs.Mount{{Source: "proc", Destination: "/proc", Type: "proc", Flags: defaultFlags}}
			env := Env{OutsidePidNS: true}
			if tt.withFd {
				fs, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
				if err != nil {
					t.Fatal(err)
				}
				defer unix.Close(fs)
				if err := unix.FsconfigCreate(fs); err != nil {
					t.Fatal(err)
				}
				m, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer unix.Close(m)
				env.ProcMounts = []int{m}
			}
			err := PrepareIn(cfg, env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("PrepareIn = %v, want %q", err, tt.wantErr)
				}
				var st unix.Statfs_t
				if unix.Statfs(filepath.Join(root, "proc"), &st) == nil && st.Type == unix.PROC_SUPER_MAGIC {
					t.Fatal("a procfs was mounted anyway")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var st unix.Statfs_t
			if err := unix.Statfs(filepath.Join(root, "proc"), &st); err != nil {
				t.Fatal(err)
			}
			if st.Type != unix.PROC_SUPER_MAGIC || st.Flags&unix.ST_NOSUID == 0 || st.Flags&unix.ST_NOEXEC == 0 {
				t.Fatalf("/proc: type %#x flags %#x, want a nosuid, noexec procfs", st.Type, st.Flags)
			}
		})
	}
}
