package rootfs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func init() { helpers["sysctl"] = helperSysctl }

// TestWriteSysctlsNotRedirected runs in new mount and UTS namespaces, so
// kernel.domainname is the helper's own.
func TestWriteSysctlsNotRedirected(t *testing.T) {
	runHelperFlags(t, "sysctl", unix.CLONE_NEWUTS)
}

func TestSysctlPath(t *testing.T) {
	for key, want := range map[string]string{
		"net.ipv4.ip_forward": "sys/net/ipv4/ip_forward",
		"kernel/domainname":   "sys/kernel/domainname",
	} {
		if got, err := sysctlPath(key); err != nil || got != want {
			t.Errorf("sysctlPath(%q) = %q, %v; want %q", key, got, err, want)
		}
	}
	for _, key := range []string{"", "..", "net..x", "../../etc/passwd", "kernel.", "/kernel/x"} {
		if got, err := sysctlPath(key); err == nil {
			t.Errorf("sysctlPath(%q) = %q, want an error", key, got)
		}
	}
}

func domainname() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "?"
	}
	return string(bytes.TrimRight(u.Domainname[:], "\x00"))
}

func helperSysctl(dir string) error {
	const file = "/proc/sys/kernel/domainname"
	set := func(v string) error {
		if err := WriteSysctls(map[string]string{"kernel.domainname": v}); err != nil {
			return err
		}
		if got := domainname(); got != v {
			return fmt.Errorf("domainname %q after writing %q", got, v)
		}
		return nil
	}
	if err := set("berth-plain"); err != nil {
		return fmt.Errorf("plain: %w", err)
	}

	// A file bound over the sysctl: the path now leads to it...
	decoy := filepath.Join(dir, "decoy")
	if err := os.WriteFile(decoy, []byte("decoy\n"), 0o644); err != nil {
		return err
	}
	if err := unix.Mount(decoy, file, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind decoy: %w", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "decoy\n" {
		return fmt.Errorf("mechanics: %s reads %q through the bind", file, b)
	}
	// ...but the write reaches the real sysctl, not the file.
	if err := set("berth-bind"); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	if b, _ := os.ReadFile(decoy); string(b) != "decoy\n" {
		return fmt.Errorf("bind: the decoy was written: %q", b)
	}
	if err := unix.Unmount(file, 0); err != nil {
		return err
	}

	// A tmpfs over /proc/sys hides nothing from the write either.
	if err := unix.Mount("tmpfs", "/proc/sys", "tmpfs", 0, ""); err != nil {
		return fmt.Errorf("tmpfs on /proc/sys: %w", err)
	}
	if err := set("berth-tmpfs"); err != nil {
		return fmt.Errorf("tmpfs over /proc/sys: %w", err)
	}
	if err := unix.Unmount("/proc/sys", 0); err != nil {
		return err
	}

	// A fake procfs at /proc is refused.
	if err := unix.Mount("tmpfs", "/proc", "tmpfs", 0, ""); err != nil {
		return fmt.Errorf("tmpfs on /proc: %w", err)
	}
	os.MkdirAll("/proc/sys/kernel", 0o755)
	err := WriteSysctls(map[string]string{"kernel.domainname": "berth-fake"})
	if err2 := unix.Unmount("/proc", unix.MNT_DETACH); err2 != nil {
		return err2
	}
	if err == nil {
		return fmt.Errorf("fake /proc: write accepted")
	}
	if got := domainname(); got != "berth-tmpfs" {
		return fmt.Errorf("fake /proc: domainname changed to %q", got)
	}

	// A procfs subdirectory bound at /proc is not a procfs root.
	if err := unix.Mount("/proc/sys", "/proc", "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind /proc/sys on /proc: %w", err)
	}
	err = WriteSysctls(map[string]string{"kernel.domainname": "berth-sub"})
	if err2 := unix.Unmount("/proc", unix.MNT_DETACH); err2 != nil {
		return err2
	}
	if err == nil {
		return fmt.Errorf("procfs subdirectory on /proc: write accepted")
	}
	return nil
}
