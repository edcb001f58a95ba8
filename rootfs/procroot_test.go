package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func init() { helpers["reopen"] = helperReopen }

func TestOpenProcRoot(t *testing.T) {
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{"/proc", true},
		{"/proc/self", false},    // a procfs, not its root
		{"/proc/sys", false},     // likewise
		{t.TempDir(), false},     // not a procfs
		{"/nonexistent", false},  // nothing
		{"/proc/self/fd", false}, // a procfs directory
	} {
		fd, err := OpenProcRoot(tc.path)
		if (err == nil) != tc.ok {
			t.Errorf("OpenProcRoot(%q) = %d, %v; want ok=%v", tc.path, fd, err, tc.ok)
		}
		if err == nil {
			unix.Close(fd)
		}
	}
}

// TestReopenFDNotRedirected runs in a mount namespace of its own.
func TestReopenFDNotRedirected(t *testing.T) {
	runHelper(t, "reopen")
}

func helperReopen(dir string) error {
	runtime.LockOSThread()
	proc, err := OpenProcRoot("/proc")
	if err != nil {
		return err
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		return err
	}
	fd, err := unix.Open(fifo, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	// O_RDWR never blocks on a fifo: the reopened fd is the fifo itself.
	rw, err := ReopenFD(proc, fd, unix.O_RDWR)
	if err != nil {
		return fmt.Errorf("plain: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(rw, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return fmt.Errorf("plain: reopened fd is not the fifo (mode %o, %v)", st.Mode, err)
	}
	unix.Close(rw)

	// A tmpfs over our fd directory with a regular file named like the fd:
	// the path now opens for writing at once...
	fdDir := "/proc/thread-self/fd"
	if err := unix.Mount("tmpfs", fdDir, "tmpfs", 0, ""); err != nil {
		return fmt.Errorf("tmpfs on %s: %w", fdDir, err)
	}
	name := filepath.Join(fdDir, strconv.Itoa(fd))
	if err := os.WriteFile(name, nil, 0o644); err != nil {
		return fmt.Errorf("mechanics: %w", err)
	}
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("mechanics: %s: %w", name, err)
	}
	f.Close()
	// ...but ReopenFD crosses no mount: it refuses, never opens the file.
	w, err := ReopenFD(proc, fd, unix.O_WRONLY)
	if err == nil {
		unix.Close(w)
		return errors.New("tmpfs: ReopenFD opened the file mounted over the fd directory")
	}
	if !errors.Is(err, unix.EXDEV) {
		return fmt.Errorf("tmpfs: want EXDEV, got %w", err)
	}
	return nil
}
