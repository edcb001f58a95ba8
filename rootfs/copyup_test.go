package rootfs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-runtime/berth/configs"
	"golang.org/x/sys/unix"
)

func TestInheritMode(t *testing.T) {
	for _, tc := range []struct {
		perm       uint32
		data, want string
	}{
		{0o755, "", "mode=0755"},
		{0o1777, "size=64k", "mode=01777,size=64k"},
		{0o7710, "mode=700", "mode=07710,mode=700"},
		{0, "", "mode=00"},
	} {
		if got := inheritMode(tc.perm, tc.data); got != tc.want {
			t.Errorf("inheritMode(%o, %q) = %q, want %q", tc.perm, tc.data, got, tc.want)
		}
	}
}

// statOf returns the lstat of p, failing the test when it is missing.
func statOf(t *testing.T, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatalf("lstat %s: %v", p, err)
	}
	return st
}

// A tmpfs with CopyUp holds a copy of what the rootfs had there: each
// type, contents, owner and mode; the rootfs directory is left alone.
func TestTmpfsCopyUp(t *testing.T) {
	for _, ro := range []bool{false, true} {
		name := "rw"
		if ro {
			name = "ro"
		}
		t.Run(name, func(t *testing.T) {
			root := tmpfsDir(t)
			d := filepath.Join(root, "d")
			writeFile(t, filepath.Join(d, "sub", "f"), "content")
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(unix.Chmod(d, 0o1750))
			must(os.Chown(filepath.Join(d, "sub", "f"), 1000, 1001))
			must(unix.Chmod(filepath.Join(d, "sub", "f"), 0o4751))
			must(unix.Chmod(filepath.Join(d, "sub"), 0o2555))
			must(os.Symlink("sub/f", filepath.Join(d, "link")))
			must(os.Lchown(filepath.Join(d, "link"), 7, 8))
			must(unix.Mkfifo(filepath.Join(d, "fifo"), 0o640))
			must(unix.Mknod(filepath.Join(d, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
			must(os.Chmod(filepath.Join(d, "null"), 0o666))
			want := map[string]unix.Stat_t{}
			for _, p := range []string{"sub", "sub/f", "link", "fifo", "null"} {
				want[p] = statOf(t, filepath.Join(d, p))
			}

			cfg := baseConfig(root)
			m := configs.Mount{Source: "tmpfs", Destination: "/d", Type: "tmpfs", CopyUp: true}
			if ro {
				m.Flags = unix.MS_RDONLY
			}
			cfg.Mounts = []configs.Mount{m}
			if err := Prepare(cfg); err != nil {
				t.Fatal(err)
			}
			if !isMountRoot(t, d) || fsType(t, d) != unix.TMPFS_MAGIC {
				t.Fatal("no tmpfs on /d")
			}
			if got := statOf(t, d).Mode & 0o7777; got != 0o1750 {
				t.Errorf("tmpfs root mode %o, want the directory's 1750", got)
			}
			for p, w := range want {
				g := statOf(t, filepath.Join(d, p))
				if g.Mode != w.Mode || g.Uid != w.Uid || g.Gid != w.Gid || g.Rdev != w.Rdev {
					t.Errorf("%s: mode %o uid %d gid %d rdev %d, want %o %d %d %d", p, g.Mode, g.Uid, g.Gid, g.Rdev, w.Mode, w.Uid, w.Gid, w.Rdev)
				}
			}
			if b, err := os.ReadFile(filepath.Join(d, "sub", "f")); err != nil || string(b) != "content" {
				t.Errorf("sub/f: %q, %v", b, err)
			}
			if l, err := os.Readlink(filepath.Join(d, "link")); err != nil || l != "sub/f" {
				t.Errorf("link: %q, %v", l, err)
			}
			err := os.WriteFile(filepath.Join(d, "new"), nil, 0o644)
			if ro != (err != nil) {
				t.Errorf("write on the copy: %v (ro %v)", err, ro)
			}
			// The copy is on the tmpfs: the rootfs directory did not change.
			unmountAll(d)
			if _, err := os.Lstat(filepath.Join(d, "new")); err == nil {
				t.Error("a write reached the rootfs")
			}
		})
	}
}

// Without tmpcopyup, a tmpfs on an existing directory only takes its mode;
// on one berth creates, it keeps the tmpfs default (1777).
func TestTmpfsModeFromDestination(t *testing.T) {
	root := tmpfsDir(t)
	d := filepath.Join(root, "d")
	writeFile(t, filepath.Join(d, "hidden"), "x")
	if err := os.Chmod(d, 0o710); err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig(root)
	cfg.Mounts = []configs.Mount{
		{Source: "tmpfs", Destination: "/d", Type: "tmpfs"},
		{Source: "tmpfs", Destination: "/new/x", Type: "tmpfs"},
		{Source: "tmpfs", Destination: "/e", Type: "tmpfs", Data: "mode=500"},
	}
	if err := os.Mkdir(filepath.Join(root, "e"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Prepare(cfg); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]uint32{"d": 0o710, "new/x": 0o1777, "e": 0o500} {
		if got := statOf(t, filepath.Join(root, p)).Mode & 0o7777; got != want {
			t.Errorf("/%s: mode %o, want %o", p, got, want)
		}
	}
	if _, err := os.Lstat(filepath.Join(d, "hidden")); err == nil {
		t.Error("a tmpfs without tmpcopyup shows the directory's contents")
	}
}
