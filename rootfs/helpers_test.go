package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/berth-runtime/berth/configs"
	"golang.org/x/sys/unix"
)

// helpers run in their own process and mount namespace (see runHelper):
// they pivot or chroot, which would break every later test in-process.
var helpers = map[string]func(dir string) error{
	"pivot":       helperPivotFinalize,
	"nopivot":     helperNoPivot,
	"nons":        helperNoMountNS,
	"shared":      helperSharedRoot,
	"fakenull":    helperFakeNull,
	"console":     helperConsole,
	"unbindable":  helperUnbindableRoot,
	"maskmissing": helperMaskMissing,
	"cgroupns":    helperCgroupNS,
}

func TestCgroupMountInCgroupNamespace(t *testing.T) {
	runHelperFlags(t, "cgroupns", unix.CLONE_NEWCGROUP)
}

// helperCgroupNS runs in a new cgroup namespace: the hierarchies are
// mounted (not bound), each showing the namespace's root cgroup.
func helperCgroupNS(dir string) error {
	root, err := helperRootfs(dir)
	if err != nil {
		return err
	}
	cfg := baseConfig(root)
	cfg.Namespaces = append(cfg.Namespaces, configs.Namespace{Type: configs.NEWCGROUP})
	cfg.Mounts = []configs.Mount{{Source: "cgroup", Type: "cgroup", Destination: "/sys/fs/cgroup",
		Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY}}
	if err := Prepare(cfg); err != nil {
		return err
	}
	dest := filepath.Join(root, "sys/fs/cgroup")
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return err
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	hs := v1Hierarchies(self, mi)
	var sfs unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &sfs); err == nil && sfs.Type == unix.CGROUP2_SUPER_MAGIC {
		hs = []hierarchy{{}}
		dest = filepath.Dir(dest)
	}
	for _, h := range hs {
		p := filepath.Join(dest, h.name)
		var got unix.Statfs_t
		if err := unix.Statfs(p, &got); err != nil {
			return err
		}
		want := int64(cgroupMagic)
		if len(h.controllers) == 0 {
			want = unix.CGROUP2_SUPER_MAGIC
		}
		if got.Type != want || got.Flags&unix.ST_RDONLY == 0 {
			return fmt.Errorf("%s: magic %#x flags %#x, want %#x and ro", p, got.Type, got.Flags, want)
		}
		if opt, ok := mountinfoRoot(p); !ok || opt != "/" {
			return fmt.Errorf("%s: mount root %q (found %v), want /", p, opt, ok)
		}
	}
	return nil
}

// mountinfoRoot returns the root field of the topmost mount at point.
func mountinfoRoot(point string) (string, bool) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", false
	}
	root, found := "", false
	for _, line := range strings.Split(string(data), "\n") {
		if fs := strings.Fields(line); len(fs) > 4 && fs[4] == point {
			root, found = fs[3], true
		}
	}
	return root, found
}

func TestPivotAndFinalize(t *testing.T)      { runHelper(t, "pivot") }
func TestNoPivotChroot(t *testing.T)         { runHelper(t, "nopivot") }
func TestChrootWithoutMountNS(t *testing.T)  { runHelper(t, "nons") }
func TestRootPropagationShared(t *testing.T) { runHelper(t, "shared") }
func TestRootPropagationUnbindable(t *testing.T) {
	runHelper(t, "unbindable")
}
func TestMaskRefusesFakeDevNull(t *testing.T) { runHelper(t, "fakenull") }
func TestMountConsole(t *testing.T)           { runHelper(t, "console") }
func TestMaskAndReadonlySkipMissing(t *testing.T) {
	runHelper(t, "maskmissing")
}

// helperRootfs mounts a tmpfs on dir (private to the helper's namespace)
// and returns dir/rootfs with a marker file in it.
func helperRootfs(dir string) (string, error) {
	if err := mountTmpfs(dir); err != nil {
		return "", err
	}
	root := filepath.Join(dir, "rootfs")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	return root, os.WriteFile(filepath.Join(root, "marker"), []byte("inside"), 0o644)
}

func checkMarker() error {
	got, err := os.ReadFile("/marker")
	if err != nil || string(got) != "inside" {
		return fmt.Errorf("/marker: %q %v: not in the rootfs", got, err)
	}
	wd, err := os.Getwd()
	if err != nil || wd != "/" {
		return fmt.Errorf("cwd %q %v, want /", wd, err)
	}
	return nil
}

// expectErr returns an error unless err is one of want.
func expectErr(what string, err error, want ...error) error {
	for _, w := range want {
		if errors.Is(err, w) {
			return nil
		}
	}
	return fmt.Errorf("%s: %v, want %v", what, err, want)
}

func helperPivotFinalize(dir string) error {
	root, err := helperRootfs(dir)
	if err != nil {
		return err
	}
	for _, d := range []string{"masked-dir", "rodir", "proc", "dev", "sys"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	os.WriteFile(filepath.Join(root, "masked-dir", "secret"), []byte("s"), 0o644)
	os.WriteFile(filepath.Join(root, "masked-file"), []byte("secret"), 0o644)
	os.WriteFile(filepath.Join(root, "rodir", "f"), []byte("f"), 0o644)
	os.Symlink("/masked-file", filepath.Join(root, "masked-link"))
	cfg := baseConfig(root)
	cfg.Readonly = true
	cfg.Mounts = []configs.Mount{
		{Source: "proc", Type: "proc", Destination: "/proc", Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
		{Source: "tmpfs", Type: "tmpfs", Destination: "/dev", Flags: unix.MS_NOSUID, Data: "mode=755"},
		{Source: "sysfs", Type: "sysfs", Destination: "/sys", Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY},
	}
	cfg.MaskedPaths = []string{"/masked-dir", "/masked-file", "/proc/sys/kernel/hostname", "/does/not/exist"}
	cfg.ReadonlyPaths = []string{"/rodir", "/proc/sys"}
	exe, _ := os.Executable()
	if err := Prepare(cfg); err != nil {
		return err
	}
	if err := Pivot(cfg); err != nil {
		return err
	}
	if err := Finalize(cfg); err != nil {
		return err
	}
	if err := checkMarker(); err != nil {
		return err
	}
	// The old root is gone: the test binary's host path is unreachable
	// and the only mount at "/" is the rootfs.
	if _, err := os.Stat(exe); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("host path %s still reachable: %v", exe, err)
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(mi)), "\n") {
		fs := strings.Fields(line)
		if len(fs) < 5 || !strings.HasPrefix(fs[4], "/") {
			return fmt.Errorf("mountinfo line outside the root: %q", line)
		}
	}
	// masked dir: empty read-only tmpfs
	if ents, err := os.ReadDir("/masked-dir"); err != nil || len(ents) != 0 {
		return fmt.Errorf("/masked-dir: %v %v, want empty", ents, err)
	}
	if err := expectErr("write /masked-dir/x", os.WriteFile("/masked-dir/x", nil, 0o644), unix.EROFS); err != nil {
		return err
	}
	// masked files read as /dev/null, also through a symlink
	for _, p := range []string{"/masked-file", "/masked-link", "/proc/sys/kernel/hostname"} {
		if got, err := os.ReadFile(p); err != nil || len(got) != 0 {
			return fmt.Errorf("%s: %q %v, want empty", p, got, err)
		}
	}
	// readonly paths: ro,nosuid,nodev,noexec
	for _, p := range []string{"/rodir", "/proc/sys"} {
		fl, err := statfsFlags(p)
		want := int64(unix.ST_RDONLY | unix.ST_NOSUID | unix.ST_NODEV | unix.ST_NOEXEC)
		if err != nil || fl&want != want {
			return fmt.Errorf("%s: statfs flags %#x %v, want %#x", p, fl, err, want)
		}
	}
	if err := expectErr("write /rodir/f", os.WriteFile("/rodir/f", []byte("x"), 0o644), unix.EROFS); err != nil {
		return err
	}
	// readonly root, but /dev (its own tmpfs) stays writable
	if err := expectErr("create /newfile", os.WriteFile("/newfile", nil, 0o644), unix.EROFS); err != nil {
		return err
	}
	if err := os.WriteFile("/dev/w", nil, 0o644); err != nil {
		return fmt.Errorf("/dev not writable: %w", err)
	}
	return nil
}

func helperNoPivot(dir string) error {
	root, err := helperRootfs(dir)
	if err != nil {
		return err
	}
	cfg := baseConfig(root)
	cfg.NoPivot = true
	if err := Prepare(cfg); err != nil {
		return err
	}
	if err := Pivot(cfg); err != nil {
		return err
	}
	if err := checkMarker(); err != nil {
		return err
	}
	// ".." at the new root stays there.
	if err := os.Chdir(".."); err != nil {
		return err
	}
	if _, err := os.Stat("marker"); err != nil {
		return fmt.Errorf("escaped with ..: %w", err)
	}
	return nil
}

func helperNoMountNS(dir string) error {
	root, err := helperRootfs(dir)
	if err != nil {
		return err
	}
	cfg := baseConfig(root)
	cfg.Namespaces = nil
	if err := Prepare(cfg); err != nil {
		return err
	}
	if err := Pivot(cfg); err != nil {
		return err
	}
	if err := checkMarker(); err != nil {
		return err
	}
	// Devices are still created (plain files in the rootfs, no mounts).
	var st unix.Stat_t
	if err := unix.Stat("/dev/null", &st); err != nil || st.Rdev != unix.Mkdev(1, 3) {
		return fmt.Errorf("/dev/null: %v", err)
	}
	cfg.Readonly = true
	if err := Finalize(cfg); err == nil {
		return errors.New("Finalize made / read-only without a mount namespace")
	}
	return nil
}

// rootOptional returns the mountinfo optional fields of "/".
func rootOptional() (string, error) {
	opt, ok := mountinfoOptional("/")
	if !ok {
		return "", errors.New("/ not in mountinfo")
	}
	return opt, nil
}

func helperPropagation(dir string, prop uintptr, want string) error {
	// Make the helper's whole tree shared, like a systemd host, so the
	// pivot_root restrictions on shared mounts are exercised.
	if err := unix.Mount("", "/", "", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
		return err
	}
	root, err := helperRootfs(dir)
	if err != nil {
		return err
	}
	cfg := baseConfig(root)
	cfg.RootPropagation = prop
	cfg.Mounts = []configs.Mount{{Source: "proc", Type: "proc", Destination: "/proc"}}
	if err := Prepare(cfg); err != nil {
		return err
	}
	if err := Pivot(cfg); err != nil {
		return err
	}
	if err := Finalize(cfg); err != nil {
		return err
	}
	if err := checkMarker(); err != nil {
		return err
	}
	opt, err := rootOptional()
	if err != nil {
		return err
	}
	if !strings.Contains(opt, want) {
		return fmt.Errorf("/ optional fields %q, want %q", opt, want)
	}
	return nil
}

func helperSharedRoot(dir string) error {
	return helperPropagation(dir, unix.MS_SHARED|unix.MS_REC, "shared:")
}

func helperUnbindableRoot(dir string) error {
	return helperPropagation(dir, unix.MS_UNBINDABLE|unix.MS_REC, "unbindable")
}

func helperFakeNull(dir string) error {
	root, err := helperRootfs(dir)
	if err != nil {
		return err
	}
	fakeDev := filepath.Join(dir, "fakedev")
	if err := os.MkdirAll(fakeDev, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(fakeDev, "null"), []byte("not a device"), 0o644); err != nil {
		return err
	}
	os.WriteFile(filepath.Join(root, "secret"), []byte("secret"), 0o644)
	cfg := baseConfig(root)
	cfg.Mounts = []configs.Mount{{Source: fakeDev, Destination: "/dev", Flags: unix.MS_BIND}}
	cfg.MaskedPaths = []string{"/secret"}
	if err := Prepare(cfg); err != nil {
		return err
	}
	if err := Pivot(cfg); err != nil {
		return err
	}
	err = Finalize(cfg)
	if err == nil || !strings.Contains(err.Error(), "1:3") {
		return fmt.Errorf("Finalize with a fake /dev/null: %v, want an error", err)
	}
	return nil
}

func helperConsole(dir string) error {
	root, err := helperRootfs(dir)
	if err != nil {
		return err
	}
	cfg := baseConfig(root)
	cfg.Process = &configs.Process{Terminal: true}
	cfg.Mounts = []configs.Mount{
		{Source: "tmpfs", Type: "tmpfs", Destination: "/dev", Data: "mode=755"},
		{Source: "devpts", Type: "devpts", Destination: "/dev/pts", Data: "newinstance,ptmxmode=0666,mode=0620"},
	}
	if err := Prepare(cfg); err != nil {
		return err
	}
	if err := Pivot(cfg); err != nil {
		return err
	}
	if err := Finalize(cfg); err != nil {
		return err
	}
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return err
	}
	defer ptmx.Close()
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		return err
	}
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		return err
	}
	slave := "/dev/pts/" + strconv.Itoa(n)
	if err := MountConsole("/marker"); err == nil {
		return errors.New("MountConsole accepted a regular file")
	}
	if err := MountConsole(slave); err != nil {
		return err
	}
	var a, b unix.Stat_t
	if err := unix.Stat("/dev/console", &a); err != nil {
		return err
	}
	if err := unix.Stat(slave, &b); err != nil {
		return err
	}
	if a.Rdev != b.Rdev || a.Mode&unix.S_IFMT != unix.S_IFCHR {
		return fmt.Errorf("/dev/console rdev %#x, want %#x", a.Rdev, b.Rdev)
	}
	return nil
}

func helperMaskMissing(dir string) error {
	root, err := helperRootfs(dir)
	if err != nil {
		return err
	}
	cfg := baseConfig(root)
	cfg.MaskedPaths = []string{"/nope", "/nope/deeper"}
	cfg.ReadonlyPaths = []string{"/nope", "/marker/under-a-file"}
	if err := Prepare(cfg); err != nil {
		return err
	}
	if err := Pivot(cfg); err != nil {
		return err
	}
	err = Finalize(cfg)
	// A path under a regular file is ENOTDIR, which is a config error.
	if err == nil || !strings.Contains(err.Error(), "/marker/under-a-file") {
		return fmt.Errorf("Finalize: %v, want an error naming /marker/under-a-file", err)
	}
	cfg.ReadonlyPaths = cfg.ReadonlyPaths[:1]
	return Finalize(cfg)
}
