package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/cgroups"
	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/internal/fastcmd"
	"github.com/berth-runtime/berth/internal/fault"
	"github.com/berth-runtime/berth/internal/logs"
	"github.com/berth-runtime/berth/rootfs"
)

// Start releases a created container's init to exec the process, then
// runs the poststart hooks.
func (c *Container) Start() error {
	switch st := c.Status(); st {
	case Created:
	case Stopped:
		return fmt.Errorf("cannot start container %s: it has stopped", c.state.ID)
	default:
		return fmt.Errorf("cannot start container %s: it is %s, not created", c.state.ID, st)
	}
	t0 := time.Now()
	fifoPath := filepath.Join(c.dir, fifoName)
	pidfd, err := unix.PidfdOpen(c.state.InitPid, 0)
	if err != nil {
		return fmt.Errorf("start container %s: pidfd_open %d: %w", c.state.ID, c.state.InitPid, err)
	}
	defer unix.Close(pidfd)
	// Non-blocking open so a dead init cannot hang us; poll the fifo
	// together with init's pidfd instead of sleeping.
	fifo, err := unix.Open(fifoPath, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("start container %s: open %s: %w", c.state.ID, fifoPath, err)
	}
	defer unix.Close(fifo)
	fds := []unix.PollFd{{Fd: int32(fifo), Events: unix.POLLIN}, {Fd: int32(pidfd), Events: unix.POLLIN}}
	// execd: an earlier start released init and was killed while init
	// ran startContainer hooks; init has exec'd the process since (only
	// its execve closes the fifo while it lives).
	execd := false
	for !execd {
		_, err := unix.Poll(fds, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("start container %s: poll: %w", c.state.ID, err)
		}
		if fds[0].Revents&unix.POLLIN != 0 {
			break
		}
		execd = fds[1].Revents == 0 && fds[0].Revents&unix.POLLHUP != 0 && !c.initIsBerth()
		if !execd {
			return fmt.Errorf("start container %s: its init process exited before start", c.state.ID)
		}
	}
	var msg string
	if !execd {
		fault.Point("start:before-release")
		var b [1]byte
		if n, err := unix.Read(fifo, b[:]); n != 1 {
			return fmt.Errorf("start container %s: read %s: %v", c.state.ID, fifoPath, err)
		}
		fault.Point("start:released")
		// Init holds the fifo open until its execve closes it; anything
		// it writes before that is why the exec failed.
		if msg, err = readToEOF(fifo); err != nil {
			os.Remove(fifoPath)
			return fmt.Errorf("start container %s: read %s: %w", c.state.ID, fifoPath, err)
		}
		if b[0] != 0 {
			// Not the release byte (a killed start took that): the
			// first byte of init's error.
			msg = string(b[:]) + msg
		}
	}
	os.Remove(fifoPath)
	if msg != "" {
		return &ProcessStartError{ID: c.state.ID, Msg: msg}
	}
	logs.Debugf("start %s: init released in %s", c.state.ID, time.Since(t0))
	fault.Point("start:before-poststart")
	if h := c.state.Config.Hooks; h != nil {
		// runtime-spec 1.3: a failing poststart hook is an error, and the
		// container is stopped (runc kills it too); delete removes it.
		if err := runHooks("poststart", h.Poststart, c.OCIState(Running), hostEnv()); err != nil {
			// init through its pidfd, then the cgroup if there is one
			// (--cgroup-manager=disabled and rootless have none).
			c.killUnlocked()
			return fmt.Errorf("start container %s: %w", c.state.ID, err)
		}
	}
	return nil
}

// Signal sends sig to init, or with all to every process of the cgroup.
func (c *Container) Signal(sig unix.Signal, all bool) error {
	if all {
		// runc allows kill --all of a stopped container too: its
		// leftover processes may still run.
		return c.killCgroup(sig)
	}
	if sig == unix.SIGKILL && !c.state.Config.OwnsNamespace(configs.NEWPID) {
		return c.killAllProcesses()
	}
	// The pidfd first: the status check below (init's start time) then
	// covers the process it names, and no reused pid gets the signal.
	fd, err := c.openInitPidfd()
	if err != nil {
		return fmt.Errorf("signal container %s: %w", c.state.ID, err)
	}
	if fd >= 0 {
		defer unix.Close(fd)
	}
	if fd < 0 || c.Status() == Stopped {
		return fmt.Errorf("cannot signal container %s: container not running", c.state.ID)
	}
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil {
		return fmt.Errorf("signal container %s: pidfd_send_signal %d: %w", c.state.ID, c.state.InitPid, err)
	}
	return nil
}

// openInitPidfd opens a pidfd of init's pid, -1 when no such process is
// left. Callers check the status (the start time) after it.
func (c *Container) openInitPidfd() (int, error) {
	if c.state.InitPid <= 0 {
		return -1, nil
	}
	fd, err := unix.PidfdOpen(c.state.InitPid, 0)
	if pidGone(err) {
		return -1, nil
	}
	if err != nil {
		return -1, fmt.Errorf("pidfd_open %d: %w", c.state.InitPid, err)
	}
	return fd, nil
}

// pidGone: pidfd_open's answer for a pid that names no process. EINVAL
// comes when the number is still in use, but not by a process: a dead
// session leader's id held by the session it left (an init without a pid
// namespace whose children outlived it), or a thread's.
func pidGone(err error) bool {
	return err == unix.ESRCH || err == unix.EINVAL
}

// killAllProcesses is SIGKILL for a container without a pid namespace of
// its own: init's death does not take the others with it (in
// pid_namespaces(7) only a namespace's init does that), so every process
// of the cgroup is killed, as runc does, init gone or not.
func (c *Container) killAllProcesses() error {
	mgr, err := cgroups.Load(c.state.Cgroup)
	if err != nil {
		return fmt.Errorf("signal container %s: %w", c.state.ID, err)
	}
	pids, err := mgr.Pids()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("signal all processes of container %s: %w", c.state.ID, err)
	}
	if len(pids) == 0 && c.Status() == Stopped {
		return fmt.Errorf("cannot signal container %s: container not running", c.state.ID)
	}
	if err := mgr.Kill(int(unix.SIGKILL)); err != nil {
		return fmt.Errorf("signal all processes of container %s: %w", c.state.ID, err)
	}
	return nil
}

func (c *Container) killCgroup(sig unix.Signal) error {
	mgr, err := cgroups.Load(c.state.Cgroup)
	if err != nil {
		return fmt.Errorf("signal container %s: %w", c.state.ID, err)
	}
	if err := mgr.Kill(int(sig)); err != nil {
		return fmt.Errorf("signal all processes of container %s: %w", c.state.ID, err)
	}
	return nil
}

// Delete removes a stopped container (or with force, any container):
// processes, cgroup and state, then runs the poststop hooks.
func (c *Container) Delete(force bool) error {
	// The pidfd before the status, as in Signal.
	pidfd, err := c.openInitPidfd()
	if err != nil {
		return fmt.Errorf("delete container %s: %w", c.state.ID, err)
	}
	if pidfd >= 0 {
		defer unix.Close(pidfd)
	}
	st := c.Status()
	switch st {
	case Stopped:
	case Created:
		// A created container never ran its process; deleting it is how
		// a caller aborts a create, so it needs no --force.
	default:
		if !force {
			return fmt.Errorf("cannot delete container %s: it is %s, not stopped (use --force)", c.state.ID, st)
		}
	}
	if st != Stopped {
		if mgr, err := cgroups.Load(c.state.Cgroup); err == nil && st == Paused {
			mgr.Thaw()
		}
		if pidfd >= 0 {
			killPidfd(pidfd, c.state.InitPid)
		}
	}
	fault.Point("delete:killed")
	return c.destroy()
}

// killUnlocked SIGKILLs init (once its pidfd is open and its start time
// matches the state's) and every process of the cgroup, without waiting:
// delete --force does it when a stuck command holds the lock, since what
// holds it up is one of these processes; start does it when a poststart
// hook fails.
func (c *Container) killUnlocked() {
	if pid := c.state.InitPid; pid > 0 {
		if fd, err := unix.PidfdOpen(pid, 0); err == nil {
			if _, start, err := procStat(pid); err == nil && start == c.state.InitStartTime {
				unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
			}
			unix.Close(fd)
		}
	}
	if mgr, err := cgroups.Load(c.state.Cgroup); err == nil {
		mgr.Kill(int(unix.SIGKILL)) // thaws a frozen cgroup after the signal
	}
}

// destroy removes what the container owns and runs poststop hooks.
func (c *Container) destroy() error {
	var errs []error
	if mgr, err := cgroups.Load(c.state.Cgroup); err == nil {
		if err := mgr.Destroy(); err != nil {
			errs = append(errs, err)
		}
	} else {
		errs = append(errs, err)
	}
	if rdt := c.state.IntelRdt; rdt != nil {
		if err := rdt.Destroy(); err != nil {
			errs = append(errs, fmt.Errorf("linux.intelRdt: %w", err))
		}
	}
	if cfg := c.state.Config; cfg != nil && !cfg.Has(configs.NEWNS) {
		if err := rootfs.UnmountBelow(cfg.Rootfs); err != nil {
			errs = append(errs, err)
		}
	}
	if err := removeStateDir(c.dir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", c.dir, err))
	}
	fault.Point("delete:poststop")
	if h := c.state.Config.Hooks; h != nil {
		for _, err := range runHooksWarn("poststop", h.Poststop, c.OCIState(Stopped), hostEnv()) {
			logs.Warnf("%v", err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("delete container %s: %w", c.state.ID, errors.Join(errs...))
	}
	return nil
}

// removeStateDir removes the files berth keeps in a state directory by
// name, state.json first (the container is gone for readers from then on),
// then the directory; os.RemoveAll takes three more syscalls to find out
// it is a directory, and is the fallback for anything else left there.
func removeStateDir(dir string) error {
	for _, name := range []string{stateFile, fastcmd.RecordName, configFile, fifoName} {
		unix.Unlink(dir + "/" + name)
	}
	if err := unix.Rmdir(dir); err == nil || err == unix.ENOENT {
		return nil
	}
	return os.RemoveAll(dir)
}

// RemoveBroken removes a state directory whose state.json was never
// written, or cannot be decoded (berth was killed mid-create, or the disk
// was full); used by delete --force.
func RemoveBroken(root, id string) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	dir := filepath.Join(root, id)
	if _, err := Load(root, id); err == nil || !(errors.Is(err, ErrNotExist) || errors.Is(err, ErrBroken)) {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}

// readToEOF reads a non-blocking fifo until every writer has closed it.
func readToEOF(fd int) (string, error) {
	var out []byte
	buf := make([]byte, 4096)
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Read(fd, buf)
		switch {
		case n > 0:
			if len(out) < 64<<10 {
				out = append(out, buf[:n]...)
			}
			continue
		case n == 0 && err == nil:
			return string(out), nil
		case err == unix.EAGAIN || err == unix.EINTR:
		default:
			return string(out), err
		}
		if _, err := unix.Poll(pfd, -1); err != nil && err != unix.EINTR {
			return string(out), err
		}
	}
}
