package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-runtime/berth/configs"
	"golang.org/x/sys/unix"
)

func TestDevicesCreated(t *testing.T) {
	root := tmpfsDir(t)
	// Planted entries: a symlink at /dev/zero pointing at a rootfs file
	// (must be replaced, the file left alone) and a wrong node at /dev/full.
	writeFile(t, filepath.Join(root, "etc", "passwd"), "root:x:0:0")
	if err := os.MkdirAll(filepath.Join(root, "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(root, "dev", "zero")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(root, "dev", "full"), unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	old := unix.Umask(0o077) // must not leak into the modes
	defer unix.Umask(old)

	cfg := baseConfig(root)
	cfg.Devices = []configs.Device{
		{Path: "/dev/custom", Type: 'c', Major: 10, Minor: 229, FileMode: 0o620, UID: 1000, GID: 5},
		{Path: "/dev/blk/loopx", Type: 'b', Major: 7, Minor: 42, FileMode: 0o660, GID: 6},
		{Path: "/dev/fifo", Type: 'p', FileMode: 0o600},
		{Path: "/dev/tty", Type: 'c', Major: 5, Minor: 0, FileMode: 0o600}, // overrides the default
	}
	if err := Prepare(cfg); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path         string
		typ          uint32
		major, minor uint32
		mode         uint32
		uid, gid     uint32
	}{
		{"/dev/null", unix.S_IFCHR, 1, 3, 0o666, 0, 0},
		{"/dev/zero", unix.S_IFCHR, 1, 5, 0o666, 0, 0},
		{"/dev/full", unix.S_IFCHR, 1, 7, 0o666, 0, 0},
		{"/dev/random", unix.S_IFCHR, 1, 8, 0o666, 0, 0},
		{"/dev/urandom", unix.S_IFCHR, 1, 9, 0o666, 0, 0},
		{"/dev/tty", unix.S_IFCHR, 5, 0, 0o600, 0, 0},
		{"/dev/custom", unix.S_IFCHR, 10, 229, 0o620, 1000, 5},
		{"/dev/blk/loopx", unix.S_IFBLK, 7, 42, 0o660, 0, 6},
		{"/dev/fifo", unix.S_IFIFO, 0, 0, 0o600, 0, 0},
	} {
		t.Run(tc.path, func(t *testing.T) {
			var st unix.Stat_t
			if err := unix.Lstat(filepath.Join(root, tc.path), &st); err != nil {
				t.Fatal(err)
			}
			if st.Mode&unix.S_IFMT != tc.typ {
				t.Errorf("type %#o, want %#o", st.Mode&unix.S_IFMT, tc.typ)
			}
			if tc.typ != unix.S_IFIFO && (unix.Major(st.Rdev) != tc.major || unix.Minor(st.Rdev) != tc.minor) {
				t.Errorf("device %d:%d, want %d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev), tc.major, tc.minor)
			}
			if st.Mode&0o7777 != tc.mode {
				t.Errorf("mode %#o, want %#o", st.Mode&0o7777, tc.mode)
			}
			if st.Uid != tc.uid || st.Gid != tc.gid {
				t.Errorf("owner %d:%d, want %d:%d", st.Uid, st.Gid, tc.uid, tc.gid)
			}
		})
	}
	if got, err := os.ReadFile(filepath.Join(root, "etc", "passwd")); err != nil || string(got) != "root:x:0:0" {
		t.Errorf("/etc/passwd changed through the /dev/zero symlink: %q %v", got, err)
	}
}

func TestDevSymlinks(t *testing.T) {
	root := tmpfsDir(t)
	writeFile(t, filepath.Join(root, "dev", "ptmx"), "not a symlink")
	cfg := baseConfig(root)
	cfg.Process = &configs.Process{Terminal: true}
	if err := Prepare(cfg); err != nil {
		t.Fatal(err)
	}
	_, kcoreErr := os.Stat("/proc/kcore")
	for _, tc := range []struct{ name, target string }{
		{"fd", "/proc/self/fd"},
		{"stdin", "/proc/self/fd/0"},
		{"stdout", "/proc/self/fd/1"},
		{"stderr", "/proc/self/fd/2"},
		{"ptmx", "pts/ptmx"},
		{"core", "/proc/kcore"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := os.Readlink(filepath.Join(root, "dev", tc.name))
			if tc.name == "core" && kcoreErr != nil {
				if !errors.Is(err, os.ErrNotExist) {
					t.Errorf("/dev/core exists (%q, %v) though the host has no /proc/kcore", got, err)
				}
				return
			}
			if err != nil || got != tc.target {
				t.Errorf("readlink: %q, %v; want %q", got, err, tc.target)
			}
		})
	}
	t.Run("console", func(t *testing.T) {
		fi, err := os.Lstat(filepath.Join(root, "dev", "console"))
		if err != nil || !fi.Mode().IsRegular() {
			t.Errorf("/dev/console: %v %v, want a regular file", fi, err)
		}
	})
}

func TestNoConsoleWithoutTerminal(t *testing.T) {
	root := tmpfsDir(t)
	if err := Prepare(baseConfig(root)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(root, "dev", "console")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("/dev/console: %v, want it absent", err)
	}
}

func TestBindMountedDevSkipsDevices(t *testing.T) {
	hostDev := tmpfsDir(t)
	root := tmpfsDir(t)
	cfg := baseConfig(root)
	cfg.Process = &configs.Process{Terminal: true}
	cfg.Mounts = []configs.Mount{{Source: hostDev, Destination: "/dev", Flags: unix.MS_BIND}}
	if err := Prepare(cfg); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(hostDev)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("devices or links created in a bind-mounted /dev: %v", entries)
	}
}

func TestReadonlyDevGetsDevicesFirst(t *testing.T) {
	root := tmpfsDir(t)
	cfg := baseConfig(root)
	cfg.Mounts = []configs.Mount{{Source: "tmpfs", Type: "tmpfs", Destination: "/dev", Flags: unix.MS_NOSUID | unix.MS_RDONLY, Data: "mode=755"}}
	if err := Prepare(cfg); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(root, "dev", "null"), &st); err != nil || st.Rdev != unix.Mkdev(1, 3) {
		t.Errorf("/dev/null: %v rdev %#x", err, st.Rdev)
	}
	writeFails("x")(t, filepath.Join(root, "dev"))
}

func TestDeviceBindFallback(t *testing.T) {
	root := tmpfsDir(t)
	rootFd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rootFd)
	p := &preparer{cfg: baseConfig(root), rootFd: rootFd, devTop: -1}
	for _, tc := range []struct {
		name    string
		dev     configs.Device
		wantErr bool
	}{
		{"host node bound", configs.Device{Path: "/dev/null", Type: 'c', Major: 1, Minor: 3}, false},
		{"wrong numbers refused", configs.Device{Path: "/dev/zero", Type: 'c', Major: 1, Minor: 3}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bind := true
			err := p.createDevice(&tc.dev, &bind)
			if tc.wantErr {
				if err == nil {
					t.Fatal("createDevice succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			dest := filepath.Join(root, tc.dev.Path)
			if !isMountRoot(t, dest) {
				t.Errorf("%s is not a bind mount", dest)
			}
			var st unix.Stat_t
			if err := unix.Stat(dest, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
				t.Errorf("%s: %v mode %#o rdev %#x", dest, err, st.Mode, st.Rdev)
			}
		})
	}
}
