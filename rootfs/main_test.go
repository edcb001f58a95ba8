package rootfs

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/berth-runtime/berth/configs"
	"golang.org/x/sys/unix"
)

// Tests that mount run in a private mount namespace: TestMain re-execs the
// test binary with CLONE_NEWNS (Go makes "/" rprivate in the child), so
// nothing reaches the host and every mount dies with the namespace.
// Tests that change the process root run in helper processes of their own.
const (
	envInNS   = "BERTH_ROOTFS_TEST_NS"
	envHelper = "BERTH_ROOTFS_HELPER"
	envDir    = "BERTH_ROOTFS_DIR"
)

func TestMain(m *testing.M) {
	if name := os.Getenv(envHelper); name != "" {
		if err := helpers[name](os.Getenv(envDir)); err != nil {
			fmt.Fprintf(os.Stderr, "helper %s: %v\n", name, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getuid() != 0 || os.Getenv(envInNS) != "" {
		if os.Getuid() == 0 {
			if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
				fmt.Fprintln(os.Stderr, "make / rprivate:", err)
				os.Exit(1)
			}
		}
		os.Exit(m.Run())
	}
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), envInNS+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		os.Exit(ee.ExitCode())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "re-exec in a mount namespace:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
}

// runHelper runs helpers[name] in a fresh process with its own mount
// namespace, for tests that pivot_root or chroot.
func runHelper(t *testing.T, name string) {
	t.Helper()
	runHelperFlags(t, name, 0)
}

func runHelperFlags(t *testing.T, name string, unshare uintptr) {
	t.Helper()
	needRoot(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envHelper+"="+name, envDir+"="+t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS | unshare}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper %s: %v\n%s", name, err, out)
	}
}

// tmpfsDir returns a fresh directory with a tmpfs on it; the cleanup
// detaches everything mounted there before the directory is removed.
func tmpfsDir(t *testing.T) string {
	t.Helper()
	needRoot(t)
	dir := t.TempDir()
	if err := mountTmpfs(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmountAll(dir) })
	return dir
}

func mountTmpfs(dir string) error {
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "mode=755"); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
	}
	return nil
}

func unmountAll(dir string) {
	for unix.Unmount(dir, unix.MNT_DETACH) == nil {
	}
}

func baseConfig(rootfs string) *configs.Config {
	return &configs.Config{
		Rootfs:     rootfs,
		Bundle:     filepath.Dir(rootfs),
		Namespaces: []configs.Namespace{{Type: configs.NEWNS}},
	}
}

// isMountRoot reports whether p is the root of a mount.
func isMountRoot(t *testing.T, p string) bool {
	t.Helper()
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, p, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS, &stx); err != nil {
		t.Fatalf("statx %s: %v", p, err)
	}
	return stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
}

func fsType(t *testing.T, p string) int64 {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		t.Fatalf("statfs %s: %v", p, err)
	}
	return st.Type
}

func statfsFlags(p string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		return 0, err
	}
	return st.Flags, nil
}

// mountinfoOptional returns the optional fields ("shared:N", ...) of the
// topmost mount at point, and whether one was found.
func mountinfoOptional(point string) (string, bool) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", false
	}
	defer f.Close()
	var opt string
	found := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, _, _ := strings.Cut(sc.Text(), " - ")
		fs := strings.Fields(pre)
		if len(fs) >= 6 && fs[4] == point {
			opt, found = strings.Join(fs[6:], " "), true
		}
	}
	return opt, found
}

func writeFile(t *testing.T, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
