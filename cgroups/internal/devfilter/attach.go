package devfilter

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// ProgName names every program berth attaches, so that a later berth
// process (update, or one after a crash) recognises its own among those
// others attached to the same cgroup. The kernel keeps 15 bytes of it.
const ProgName = "berth_devices"

// ErrUnsupported is wrapped when this kernel (or this caller's privilege)
// cannot load cgroup device programs.
var ErrUnsupported = errors.New("cgroup device eBPF programs are not available")

// probe loads the smallest cgroup device program, once per process. It
// runs only after a real load failed, to tell a kernel (or a missing
// CAP_BPF) that cannot from a program the verifier rejected.
var probe = sync.OnceValue(func() error {
	prog, err := encode([]insn{movImm(0, 1), exit()})
	if err != nil {
		return err
	}
	fd, err := loadProgram("", prog)
	if err != nil {
		return err
	}
	return unix.Close(fd)
})

// Apply makes prog (from Compile) the device filter of the cgroup
// directory dir. The new program is attached (BPF_F_ALLOW_MULTI, so
// programs others attached stay) before berth's earlier ones are
// detached: while both are attached a device needs both to allow it, so
// the container never has more access than either list gives. A nil
// prog only detaches berth's programs.
func Apply(dir string, prog []byte) error {
	cg, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(cg)
	var keep uint32
	if prog != nil {
		fd, err := loadProgram(ProgName, prog)
		if err != nil {
			if perr := probe(); perr != nil {
				return fmt.Errorf("%w: %w", ErrUnsupported, perr)
			}
			return fmt.Errorf("load device filter: %w", err)
		}
		defer unix.Close(fd)
		if keep, _, err = progInfo(fd); err != nil {
			return fmt.Errorf("device filter: %w", err)
		}
		if err := attach(cg, fd); err != nil {
			return fmt.Errorf("attach device filter to %s: %w", dir, err)
		}
	}
	ids, err := queryIDs(cg)
	if err != nil {
		// Only detaching: when no program can be attached here (dir is
		// not a cgroup2 directory: EBADF; or no eBPF), none of berth's is.
		if prog == nil && (errors.Is(err, unix.EBADF) || probe() != nil) {
			return nil
		}
		return fmt.Errorf("device filters of %s: %w", dir, err)
	}
	for _, id := range ids {
		if id == keep {
			continue
		}
		if err := detachOurs(cg, id); err != nil {
			return fmt.Errorf("detach the previous device filter from %s: %w", dir, err)
		}
	}
	return nil
}

// detachOurs detaches program id from the cgroup if it is berth's.
func detachOurs(cg int, id uint32) error {
	fd, err := progFdByID(id)
	if errors.Is(err, unix.ENOENT) {
		return nil // detached and freed since the query
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	_, name, err := progInfo(fd)
	if err != nil || name != ProgName {
		return err
	}
	// ENOENT: another berth process detached it first.
	if err := detach(cg, fd); err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	return nil
}
