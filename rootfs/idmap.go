package rootfs

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/configs"
)

// usernsCache holds the user namespaces that id-mapped mounts take their
// mapping from: one per distinct mapping of a mount's own (each costs a
// helper process), and the container's own for the mounts that use it.
type usernsCache struct {
	// proc is the /proc directory of a process in the container's user
	// namespace (init's).
	proc      string
	byMapping map[string]int
}

// containerUserns is byMapping's key of the container's own namespace.
const containerUserns = "container"

// get returns an fd (owned by the cache) of the user namespace whose
// mapping m asks for.
func (c *usernsCache) get(m *configs.Mount) (int, error) {
	key := containerUserns
	if !m.IDMapUserns {
		key = mappingKey(m.UIDMappings, m.GIDMappings)
	}
	if fd, ok := c.byMapping[key]; ok {
		return fd, nil
	}
	var fd int
	var err error
	if m.IDMapUserns {
		p := c.proc + "/ns/user"
		if fd, err = unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
			return -1, fmt.Errorf("open the container's user namespace %s: %w", p, err)
		}
	} else if fd, err = mappedUserns(m.UIDMappings, m.GIDMappings); err != nil {
		return -1, err
	}
	if c.byMapping == nil {
		c.byMapping = make(map[string]int)
	}
	c.byMapping[key] = fd
	return fd, nil
}

func (c *usernsCache) close() {
	for _, fd := range c.byMapping {
		unix.Close(fd)
	}
	c.byMapping = nil
}

func mappingKey(uids, gids []specs.LinuxIDMapping) string {
	var b strings.Builder
	for _, ms := range [][]specs.LinuxIDMapping{uids, gids} {
		for _, m := range ms {
			fmt.Fprintf(&b, "%d:%d:%d,", m.ContainerID, m.HostID, m.Size)
		}
		b.WriteByte('/')
	}
	return b.String()
}

// idmapTree applies m's id mapping to a detached tree with
// mount_setattr(MOUNT_ATTR_IDMAP): to every mount of it for "ridmap".
func idmapTree(tree int, m *configs.Mount, ns *usernsCache) error {
	nsFd, err := ns.get(m)
	if err != nil {
		return fmt.Errorf("idmap: %w", err)
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(nsFd)}
	return setattr(tree, m.IDMapRecursive, &attr, "idmap")
}

// mappedUserns returns an fd of a new user namespace with the given maps.
// A user namespace lives only while a process is in it, so a child is
// started in one, held stopped by ptrace at its execve (it never runs a
// single instruction of the program), and killed once the fd is open.
// The maps are written through a private procfs instance because /proc
// before pivot_root may belong to another pid namespace.
func mappedUserns(uids, gids []specs.LinuxIDMapping) (int, error) {
	procFd, err := privateProcfs()
	if err != nil {
		return -1, err
	}
	defer unix.Close(procFd)

	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{"berth-userns"}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER,
		Ptrace:     true,
		Pdeathsig:  syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("start user namespace holder: %w", err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	pid := strconv.Itoa(cmd.Process.Pid)
	if err := writeMap(procFd, pid+"/uid_map", uids); err != nil {
		return -1, err
	}
	if err := writeMap(procFd, pid+"/gid_map", gids); err != nil {
		return -1, err
	}
	nsFd, err := unix.Openat(procFd, pid+"/ns/user", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s/ns/user: %w", pid, err)
	}
	return nsFd, nil
}

// privateProcfs returns a detached procfs of the current pid namespace.
func privateProcfs() (int, error) {
	fsFd, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen proc: %w", err)
	}
	defer unix.Close(fsFd)
	if err := unix.FsconfigCreate(fsFd); err != nil {
		return -1, fmt.Errorf("fsconfig create proc: %w", err)
	}
	mfd, err := unix.Fsmount(fsFd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsmount proc: %w", err)
	}
	return mfd, nil
}

func writeMap(procFd int, name string, ms []specs.LinuxIDMapping) error {
	if len(ms) == 0 {
		return nil // unmapped ids show as the overflow id
	}
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "%d %d %d\n", m.ContainerID, m.HostID, m.Size)
	}
	fd, err := unix.Openat(procFd, name, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	// The kernel wants the whole map in a single write.
	if _, err := f.Write([]byte(b.String())); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
