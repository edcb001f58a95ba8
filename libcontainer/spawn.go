package libcontainer

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/cleanup"
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
	onReady   func(pid int) error
}

// initProc is a started `berth init`, past the nsenter handshake.
type initProc struct {
	pid  int      // the process that runs Go init (after any fork)
	sock *os.File // the parent's end of the sync socket
}

// spawnInit re-executes berth as init, runs the namespace handshake and
// returns once init's namespaces are set up. Undo steps go on undo.
func spawnInit(s *initSpawn, undo *cleanup.Stack) (*initProc, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	parentSock := os.NewFile(uintptr(fds[0]), "init-parent")
	childSock := os.NewFile(uintptr(fds[1]), "init-child")
	defer childSock.Close()
	undo.Push(func() { parentSock.Close() })

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
	extra = append(extra, childSock)
	for _, f := range s.files {
		env = append(env, f.env+"="+strconv.Itoa(3+len(extra)))
		extra = append(extra, f.file)
	}
	if s.subreaper {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return nil, fmt.Errorf("prctl PR_SET_CHILD_SUBREAPER: %w", err)
		}
	}
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{"berth", "init"},
		Env:        env,
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		ExtraFiles: extra,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start init: %w", err)
	}
	childSock.Close()
	reaped := false
	undo.Push(func() {
		cmd.Process.Kill()
		if !reaped {
			cmd.Wait()
		}
	})
	pid, err := nsenter.Handshake(parentSock, s.boot, s.onReady)
	if err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	if pid != cmd.Process.Pid {
		// The intermediate process exits right after reporting the pid.
		cmd.Wait()
		reaped = true
	}
	undo.Push(func() { killPid(pid) })
	return &initProc{pid: pid, sock: parentSock}, nil
}
