package libcontainer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/internal/callerfds"
	"github.com/berth-runtime/berth/internal/cleanup"
	"github.com/berth-runtime/berth/internal/logs"
	"github.com/berth-runtime/berth/internal/sigfwd"
	"github.com/berth-runtime/berth/nsenter"
)

// initFile is an fd handed to `berth init`, named by an env variable.
type initFile struct {
	env  string
	file *os.File
}

// initSpawn describes one start of `berth init` (for create or exec).
type initSpawn struct {
	preserve  int // fds 3..3+preserve-1 pass through at the same numbers
	files     []initFile
	subreaper bool // the caller waits for the process itself
	boot      *nsenter.Bootstrap
	cpus      *unix.CPUSet // exec: execCPUAffinity.initial, the CPUs init starts on
	// whileStarting runs once init is started and before the handshake:
	// work that needs no pid overlaps with the exec of berth init.
	whileStarting func() error
	onReady       func(pid int) error
}

// fdNum is the number init gets the file named env at, -1 if none: the
// preserved fds, then the sync socket, then files in order.
func (s *initSpawn) fdNum(env string) int {
	for i, f := range s.files {
		if f.env == env {
			return 3 + s.preserve + 1 + i
		}
	}
	return -1
}

// file is the file handed to init as env, nil if none.
func (s *initSpawn) file(env string) *os.File {
	for _, f := range s.files {
		if f.env == env {
			return f.file
		}
	}
	return nil
}

// initProc is a started `berth init`, past the nsenter handshake.
type initProc struct {
	pid  int      // the process that runs Go init (after any fork)
	sock *os.File // the parent's end of the sync socket
	log  *initLog // --debug only
}

// waitLog waits until init's debug lines are all relayed (--debug).
func (p *initProc) waitLog() { p.log.wait(2 * time.Second) }

// spawnInit re-executes berth as init, runs the namespace handshake and
// returns once init's namespaces are set up. Undo steps go on undo.
func spawnInit(s *initSpawn, undo *cleanup.Stack) (*initProc, error) {
	// The commands check this first, naming their flag; here it guards
	// against passing on an fd berth opened itself.
	if err := callerfds.Check(s.preserve); err != nil {
		return nil, fmt.Errorf("preserved fds: %w", err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	parentSock := os.NewFile(uintptr(fds[0]), "init-parent")
	childSock := os.NewFile(uintptr(fds[1]), "init-child")
	defer childSock.Close()
	undo.Push(func() { parentSock.Close() })
	var ilog *initLog
	if logs.Debugging() {
		lg, child, err := newInitLog()
		if err != nil {
			return nil, err
		}
		defer child.Close()
		s.files = append(s.files, initFile{nsenter.EnvLogFD, child})
		ilog = lg
		// Runs after the kills below (a stack): init's last lines say
		// why it failed.
		undo.Push(func() { ilog.wait(time.Second) })
	}

	// Preserved fds keep their numbers (3..3+n-1); ours follow them.
	extra := make([]*os.File, 0, s.preserve+1+len(s.files))
	for i := 0; i < s.preserve; i++ {
		extra = append(extra, os.NewFile(uintptr(3+i), "preserved"))
	}
	env := []string{
		// One P keeps init's thread count (and pids.limit use) minimal.
		"GOMAXPROCS=1",
		nsenter.EnvInitPipe + "=" + strconv.Itoa(3+len(extra)),
	}
	env = append(env, sigfwd.Env()...)
	extra = append(extra, childSock)
	for _, f := range s.files {
		env = append(env, f.env+"="+strconv.Itoa(s.fdNum(f.env)))
		extra = append(extra, f.file)
	}
	if s.subreaper {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return nil, fmt.Errorf("prctl PR_SET_CHILD_SUBREAPER: %w", err)
		}
	}
	self, err := sealedSelf()
	if err != nil {
		return nil, err
	}
	// The child moves ExtraFiles into place (dup3 onto 3.., using numbers
	// from 3+len(extra) up as scratch) before execve reads this path: keep
	// our fd above every number that shuffle can touch.
	if hi, err := unix.FcntlInt(uintptr(self), unix.F_DUPFD_CLOEXEC, 2*(3+len(extra))+8); err == nil {
		unix.Close(self)
		self = hi
	}
	defer unix.Close(self)
	boot := s.boot
	pre := precloned(boot)
	if pre != 0 {
		b := *boot
		b.CloneFlags &^= pre
		boot = &b
	}
	if sent, err := nsenter.SendBootstrap(parentSock, boot); err != nil {
		return nil, err
	} else if sent {
		boot = nil
	}
	files := []uintptr{0, 1, 2}
	for _, f := range extra {
		files = append(files, f.Fd())
	}
	// syscall, not os/exec: os/exec probes pidfd support with a throwaway
	// child (~0.5 ms) in every process that starts one.
	fork := func() (int, error) {
		return syscall.ForkExec("/proc/self/fd/"+strconv.Itoa(self), []string{"berth", "init"}, &syscall.ProcAttr{
			// The old root: the pivot_root that berth makes from a thread in
			// init's mount namespace moves init's cwd along with its root, so
			// no host directory stays reachable as /proc/<init>/cwd.
			Dir:   "/",
			Env:   env,
			Files: files,
			Sys:   &syscall.SysProcAttr{Cloneflags: uintptr(pre)},
		})
	}
	var child int
	if s.cpus != nil {
		child, err = onCPUs(s.cpus, fork)
	} else {
		child, err = fork()
	}
	if err != nil {
		if pre != 0 {
			return nil, fmt.Errorf("start init in new %s namespaces: %w", nsenter.NamespaceNames(pre), err)
		}
		return nil, fmt.Errorf("start init: %w", err)
	}
	childSock.Close()
	if pre != 0 {
		logs.Debugf("init %d cloned in new %s namespaces", child, nsenter.NamespaceNames(pre))
	}
	reaped := false
	undo.Push(func() {
		unix.Kill(child, unix.SIGKILL)
		if !reaped {
			reap(child)
		}
	})
	if s.whileStarting != nil {
		if err := s.whileStarting(); err != nil {
			return nil, err
		}
	}
	onReady := s.onReady
	if pre&unix.CLONE_NEWPID != 0 && onReady != nil {
		// Init is pid 1 of its namespace: what it reports is that.
		onReady = func(int) error { return s.onReady(child) }
	}
	if logs.Debugging() && onReady != nil {
		ready := onReady
		onReady = func(pid int) error {
			debugAffinity(pid)
			return ready(pid)
		}
	}
	pid, err := nsenter.Handshake(parentSock, boot, onReady)
	if err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	if pre&unix.CLONE_NEWPID != 0 {
		pid = child
	}
	if pid != child {
		// The intermediate process exits right after reporting the pid.
		reap(child)
		reaped = true
	}
	undo.Push(func() { killPid(pid) })
	return &initProc{pid: pid, sock: parentSock, log: ilog}, nil
}

// precloned is what of b's new namespaces the clone that spawns init
// makes itself, sparing init's constructor the unshare and, for a pid
// namespace, the fork of an intermediate process (~0.5 ms): all but a
// user namespace (the others must belong to it), cgroup (made once init
// is in its cgroup) and time (it applies to children only), and only when
// init joins no namespace (joined ones go first).
func precloned(b *nsenter.Bootstrap) uint32 {
	if b == nil || len(b.Join) > 0 || b.CloneFlags&(unix.CLONE_NEWUSER|unix.CLONE_NEWTIME) != 0 {
		return 0
	}
	return b.CloneFlags & (unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET | unix.CLONE_NEWPID)
}

// reap waits for our child pid to exit.
func reap(pid int) {
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(pid, &ws, 0, nil); err != unix.EINTR {
			return
		}
	}
}

// sealedSelf returns an fd of berth's own binary on a private, read-only,
// detached mount (CVE-2019-5736): init runs from it, so a container that
// reaches init's /proc/<pid>/exe, or execs "#!/proc/self/exe", can only
// open it read-only (EROFS). open_tree+mount_setattr cost two syscalls and
// no copy; the mount disappears with the last process using it. Without
// the privilege to clone mounts (rootless), a sealed memfd copy is used.
func sealedSelf() (int, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, "/proc/self/exe", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err == nil {
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
		if err = unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err == nil {
			return fd, nil
		}
		unix.Close(fd)
		return -1, fmt.Errorf("protect berth binary: mount_setattr: %w", err)
	}
	if err != unix.EPERM && err != unix.ENOSYS {
		return -1, fmt.Errorf("protect berth binary: open_tree /proc/self/exe: %w", err)
	}
	return memfdSelf()
}

// memfdSelf copies the binary into a sealed memfd (the rootless path).
func memfdSelf() (int, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return -1, fmt.Errorf("protect berth binary: %w", err)
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("berth", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return -1, fmt.Errorf("protect berth binary: memfd_create: %w", err)
	}
	dst := os.NewFile(uintptr(fd), "berth-memfd")
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return -1, fmt.Errorf("protect berth binary: copy: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		dst.Close()
		return -1, fmt.Errorf("protect berth binary: seal memfd: %w", err)
	}
	nfd, err := unix.Dup(fd) // keep the fd past dst's finalizer
	dst.Close()
	if err != nil {
		return -1, fmt.Errorf("protect berth binary: %w", err)
	}
	unix.CloseOnExec(nfd)
	return nfd, nil
}

// checkConsole refuses terminal options that cannot work, before anything
// is made: a terminal needs somewhere to send the pty master (relay: the
// caller takes it itself), and a console socket needs a terminal.
func checkConsole(terminal, relay bool, socket string) error {
	switch {
	case !terminal && socket != "":
		return errors.New("--console-socket given but process.terminal is false")
	case terminal && !relay && socket == "":
		return errors.New("process.terminal is true but no --console-socket was given (needed when berth detaches)")
	}
	return nil
}

// consoleFiles returns the init fd that receives the pty master: relay, or
// a connection to socket (closed by the returned func), or none.
func consoleFiles(relay *os.File, socket string) ([]initFile, func(), error) {
	switch {
	case relay != nil:
		return []initFile{{envConsoleFD, relay}}, func() {}, nil
	case socket != "":
		conn, err := dialConsole(socket)
		if err != nil {
			return nil, nil, err
		}
		return []initFile{{envConsoleFD, conn}}, func() { conn.Close() }, nil
	}
	return nil, func() {}, nil
}

// forInit is the part of cfg that berth init reads. The linux.seccomp
// profile stays behind (the parent compiled it; Docker's is ~15 KB of
// JSON init would decode for nothing) but for the listener metadata, and
// so do the cgroup limits (the parent sets them).
func forInit(cfg *configs.Config) *configs.Config {
	c := *cfg
	if cfg.Seccomp != nil {
		c.Seccomp = &specs.LinuxSeccomp{ListenerMetadata: cfg.Seccomp.ListenerMetadata}
	}
	c.Cgroup.Resources = nil
	return &c
}
