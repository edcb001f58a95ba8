package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/containerd/console"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/internal/fault"
	"github.com/berth-runtime/berth/internal/logs"
	"github.com/berth-runtime/berth/libcontainer/seccomp"
	"github.com/berth-runtime/berth/nsenter"
	"github.com/berth-runtime/berth/rootfs"
)

// useCInit reports whether create can leave init in C: berth then sets
// the rootfs up itself, from a thread that joined init's namespaces, and
// init never starts a Go runtime (nsenter.Bootstrap.CInit). A thread can
// join mount, network, uts, ipc and cgroup namespaces but not a user
// namespace, and only init can chroot itself or be the parent of the
// hooks that run inside the container (createContainer, startContainer).
// procs is procMounts(cfg): init makes at most 8.
func useCInit(cfg *configs.Config, procs []string) bool {
	if !cfg.Has(configs.NEWNS) || cfg.NoPivot || cfg.Cgroup.Rootless || os.Geteuid() != 0 {
		return false
	}
	for _, ns := range cfg.Namespaces {
		if ns.Type == configs.NEWUSER || (ns.Type == configs.NEWNS && ns.Path != "") {
			return false
		}
	}
	if h := cfg.Hooks; h != nil && len(h.CreateContainer)+len(h.StartContainer) > 0 {
		return false
	}
	return len(procs) <= 8
}

// procMounts is the mount data of every proc mount, in order.
func procMounts(cfg *configs.Config) []string {
	var data []string
	for i := range cfg.Mounts {
		if m := &cfg.Mounts[i]; m.Type == "proc" && !m.IsBind() {
			data = append(data, m.Data)
		}
	}
	return data
}

// threadNamespaces are the namespaces of init that a berth thread joins
// to set up the rootfs (sysfs needs the network one, cgroup mounts the
// cgroup one, hostname and sysctls theirs).
const threadNamespaces = unix.CLONE_NEWNS | unix.CLONE_NEWNET | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWCGROUP

// nsThread is the OS thread inNamespaces runs on, readied while init
// execs: making a thread took ~0.3 ms here, on create's critical path.
type nsThread struct {
	jobs chan func(unshareErr error)
	once sync.Once
}

// newNSThread locks a goroutine to a thread and unshares its fs_struct
// (setns into a mount namespace needs one). The thread runs one job, or
// none once closed, and is never handed back to the Go scheduler: it
// exits with the goroutine.
func newNSThread() *nsThread {
	t := &nsThread{jobs: make(chan func(error), 1)}
	go func() {
		runtime.LockOSThread()
		err := unix.Unshare(unix.CLONE_FS)
		if job, ok := <-t.jobs; ok {
			job(err)
		}
	}()
	return t
}

// close lets an unused thread exit.
func (t *nsThread) close() {
	t.once.Do(func() { close(t.jobs) })
}

// inNamespaces runs fn on t (a new thread when nil) after joining the
// namespaces of init (pid, started at startTime). They are joined through
// a pidfd checked to be that process, in one setns: a pid reused after
// init died must never lead the thread into a host namespace. nsfds, when
// init sent them (berth without CAP_SYS_PTRACE may not setns through the
// pidfd of a non-dumpable init), are joined instead, one by one.
func inNamespaces(t *nsThread, pid int, startTime uint64, nsfds []int, fn func() error) error {
	if t == nil {
		t = newNSThread()
	}
	defer t.close()
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("pidfd_open init %d: %w", pid, err)
	}
	defer unix.Close(pidfd)
	if _, st, err := procStat(pid); err != nil || st != startTime {
		return errInitExited
	}
	var ours unix.Stat_t
	if err := unix.Stat("/proc/self/ns/mnt", &ours); err != nil {
		return fmt.Errorf("stat /proc/self/ns/mnt: %w", err)
	}
	errc := make(chan error, 1)
	sent := false
	t.once.Do(func() {
		sent = true
		t.jobs <- func(unshareErr error) {
			errc <- func() error {
				if unshareErr != nil {
					return fmt.Errorf("unshare CLONE_FS: %w", unshareErr)
				}
				if err := joinInit(pidfd, nsfds); err != nil {
					if errors.Is(err, unix.ESRCH) {
						return errInitExited
					}
					return fmt.Errorf("setns into the namespaces of init %d: %w", pid, err)
				}
				var joined unix.Stat_t
				if err := unix.Stat("/proc/thread-self/ns/mnt", &joined); err != nil {
					return fmt.Errorf("stat /proc/thread-self/ns/mnt: %w", err)
				}
				if joined.Ino == ours.Ino && joined.Dev == ours.Dev {
					return fmt.Errorf("init %d is in berth's own mount namespace", pid)
				}
				return fn()
			}()
		}
		close(t.jobs)
	})
	if !sent {
		return errors.New("namespace thread: already used")
	}
	return <-errc
}

// joinInit joins init's threadNamespaces through its pidfd, or through
// the namespace fds it sent (in nsenter.NSFDFlags order).
func joinInit(pidfd int, nsfds []int) error {
	if nsfds == nil {
		return unix.Setns(pidfd, threadNamespaces)
	}
	for i, fd := range nsfds {
		if err := unix.Setns(fd, nsenter.NSFDFlags[i]); err != nil {
			return fmt.Errorf("%s namespace fd: %w", nsenter.NamespaceNames(uint32(nsenter.NSFDFlags[i])), err)
		}
	}
	return nil
}

// setupForCInit is create's side of a C init: it takes init's procfs
// mounts, builds the rootfs from a thread in init's namespaces (the same
// code Go init runs), and sends init its process with the resolved
// executable. It returns once init waits on exec.fifo.
func (c *Container) setupForCInit(proc *initProc, spawn *initSpawn, nst *nsThread, filter *seccomp.Compiled, preserve int) error {
	cfg := c.state.Config
	fds, err := nsenter.ReadMounts(proc.sock)
	if err != nil {
		return initErr(err)
	}
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	ph := &phases{on: logs.Debugging(), last: time.Now()}
	var path, slavePath string
	var master console.Console
	defer func() {
		if master != nil {
			master.Close()
		}
	}()
	fault.Point("create:wait-init")
	var nsfds []int
	want := len(spawn.boot.Proc)
	switch len(fds) {
	case want:
	case want + len(nsenter.NSFDFlags):
		nsfds = fds[want:]
	default:
		return fmt.Errorf("init: sent %d procfs mounts, want %d", len(fds), want)
	}
	var rootID [2]uint64
	err = inNamespaces(nst, proc.pid, c.state.InitStartTime, nsfds, func() error {
		env := rootfs.Env{Proc: "/proc/" + strconv.Itoa(proc.pid), ProcMounts: fds[:want], OutsidePidNS: true}
		if err := rootfs.PrepareIn(cfg, env); err != nil {
			return err
		}
		ph.mark("mounts")
		if h := cfg.Hooks; h != nil && len(h.Prestart)+len(h.CreateRuntime) > 0 {
			// They run in berth's namespaces: not from this thread.
			if err := onHost(c.runCreateHooks); err != nil {
				return err
			}
		}
		ph.mark("hooks")
		var err error
		path, err = finishRootfs(cfg, ph, func() error {
			if cfg.Process.Terminal {
				master, slavePath, err = makeConsole(cfg)
			}
			return err
		})
		if err != nil {
			return err
		}
		// Init checks that the pivot moved it here.
		var st unix.Stat_t
		if err := unix.Stat("/", &st); err != nil {
			return fmt.Errorf("stat the container's root: %w", err)
		}
		rootID = [2]uint64{st.Dev, st.Ino}
		return nil
	})
	if err != nil {
		return err
	}
	m, err := processFor(cfg, filter, c.OCIState(Created), procFDs{
		preserve: preserve, agent: spawn.fdNum(envSeccompFD), console: -1, root: -1,
	})
	if err != nil {
		return err
	}
	fifo := uint32(spawn.fdNum(envFifoFD))
	m.Path, m.FIFO, m.Setsid, m.TTY, m.RootID = path, &fifo, true, slavePath, &rootID
	msg, err := m.Encode()
	if err != nil {
		return err
	}
	if _, err := proc.sock.Write(msg); err != nil {
		return fmt.Errorf("send process to init: %w", err)
	}
	if err := nsenter.WaitInitReady(proc.sock); err != nil {
		return initErr(err)
	}
	if master != nil {
		// Init holds the slave as its terminal now.
		if err := sendMaster(master, slavePath, int(spawn.file(envConsoleFD).Fd())); err != nil {
			return err
		}
	}
	if s := ph.String(); s != "" {
		logs.Debugf("create %s: rootfs phases: %s", c.state.ID, s)
	}
	return nil
}

// initErr reports C init's failures as Go init's are reported.
func initErr(err error) error {
	var ce *nsenter.ChildError
	switch {
	case errors.Is(err, nsenter.ErrInitExited):
		return errInitExited
	case errors.As(err, &ce):
		return errors.New(ce.Msg)
	}
	return fmt.Errorf("init: %w", err)
}

// onHost runs fn on another goroutine, which is never on a thread that
// joined a container's namespaces, and waits for it.
func onHost(fn func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- fn() }()
	return <-errc
}
