package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/cgroups"
	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/internal/cleanup"
	"github.com/berth-runtime/berth/nsenter"
)

// ExecOpts are exec's options, with the process already resolved.
type ExecOpts struct {
	Process       *configs.Process
	ConsoleSocket string
	ConsoleConn   *os.File // `exec -t` in the foreground relays the pty itself
	PidfdSocket   string   // receives a pidfd of the process (pidfdsocket.go)
	PidFile       string
	PreserveFDs   int
	IgnorePaused  bool
	Subreaper     bool     // the caller waits for the process
	SubCgroups    []string // exec --cgroup: "path" or "controller[,...]:path"
}

// Exec starts a new process in the container's namespaces and cgroup, and
// returns its pid once execve has succeeded.
func (c *Container) Exec(o *ExecOpts) (pid int, err error) {
	status := c.Status()
	switch status {
	case Running, Created:
	case Paused:
		if !o.IgnorePaused {
			return 0, fmt.Errorf("cannot exec in a paused container (%s): use --ignore-paused to override", c.state.ID)
		}
	default:
		return 0, fmt.Errorf("cannot exec in container %s: it is %s", c.state.ID, status)
	}
	p := o.Process
	if err := checkConsole(p.Terminal, o.ConsoleConn != nil, o.ConsoleSocket); err != nil {
		return 0, err
	}
	cfg := *c.state.Config
	cfg.Process = p
	if err := checkLSM(&cfg); err != nil {
		return 0, err
	}
	filter, err := compileSeccomp(c.root, &cfg)
	if err != nil {
		return 0, err
	}
	mgr, err := cgroups.Load(c.state.Cgroup)
	if err != nil {
		return 0, fmt.Errorf("exec: %w", err)
	}
	// Resolved (and checked to exist) before anything is started.
	subDirs, err := subCgroupDirs(c.state.Cgroup, o.SubCgroups)
	if err != nil {
		return 0, err
	}

	var undo cleanup.Stack
	defer func() {
		if err != nil {
			undo.Run()
		}
	}()
	files, closeConsole, err := consoleFiles(o.ConsoleConn, o.ConsoleSocket)
	if err != nil {
		return 0, err
	}
	defer closeConsole()
	pidfdSock, err := dialPidfdSocket(o.PidfdSocket)
	if err != nil {
		return 0, err
	}
	defer pidfdSock.close()
	// Init's root, opened before the pid is checked again below: the exec
	// chroots into it, whatever joining the mount namespace gives (nothing
	// without one, the namespace's root under --no-pivot).
	root, err := os.OpenFile(fmt.Sprintf("/proc/%d/root", c.state.InitPid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.EACCES) && !canPtrace() {
		// Only on this error path: the capget is no cost to a working exec.
		return 0, fmt.Errorf("exec: open the root of init %d: %w (init is non-dumpable until start; joining it before takes CAP_SYS_PTRACE, which berth lacks)", c.state.InitPid, err)
	}
	if err != nil {
		return 0, fmt.Errorf("exec: open the root of init %d: %w", c.state.InitPid, err)
	}
	defer root.Close()
	files = append(files, initFile{envRootFD, root})
	pidfd, err := c.initPidfd()
	if err != nil {
		return 0, err
	}
	defer pidfd.Close()
	files = append(files, initFile{envJoinFD, pidfd})
	// The exec's listener goes to the agent as create's does, with the
	// container's state as it is (init's pid, as runc sends).
	var agentState *specs.State
	listener, err := agentFile(&cfg, filter)
	if err != nil {
		return 0, err
	}
	if listener != nil {
		defer listener.Close()
		files = append(files, initFile{envSeccompFD, listener})
		agentState = c.OCIState(status)
	}
	spawn := &initSpawn{
		preserve:  o.PreserveFDs,
		files:     files,
		subreaper: o.Subreaper,
		onReady: func(pid int) error {
			if err := c.joinGroups(mgr, pid); err != nil {
				return err
			}
			if err := joinSubCgroups(subDirs, pid); err != nil {
				return err
			}
			// execCPUAffinity.final is set by init's process stage; with
			// only an initial one the kernel's choice stands (config.md).
			if a := p.ExecCPUAffinity; a == nil || a.Initial == "" && a.Final == "" {
				resetAffinity(pid)
			}
			// The cgroup holds init now, so a delete kills it. What init
			// does from here (chroot, /etc/passwd, execve, or wait frozen
			// until resume) the container can slow down or stall: no
			// other command on the container may wait for that.
			c.Unlock()
			return nil
		},
	}
	if a := p.ExecCPUAffinity; a != nil && a.Initial != "" {
		if spawn.cpus, err = parseCPUList(a.Initial); err != nil {
			return 0, fmt.Errorf("process.execCPUAffinity.initial: %w", err)
		}
	}
	if spawn.boot, err = c.joinBootstrap(uint32(spawn.fdNum(envJoinFD))); err != nil {
		return 0, err
	}
	// Init's C stage runs the process; its Go runtime never starts.
	spawn.boot.Exec = true
	msg, err := processMessage(&cfg, filter, agentState, procFDs{
		preserve: o.PreserveFDs, agent: spawn.fdNum(envSeccompFD), console: spawn.fdNum(envConsoleFD), root: spawn.fdNum(envRootFD), exec: true,
	})
	if err != nil {
		return 0, err
	}
	proc, err := spawnInit(spawn, &undo)
	if err != nil {
		return 0, err
	}
	defer proc.sock.Close()
	// Before the process is released: the pidfd surely names it.
	if err := pidfdSock.open(proc.pid); err != nil {
		return 0, err
	}
	if _, err := proc.sock.Write(msg); err != nil {
		return 0, fmt.Errorf("send process to init: %w", err)
	}
	// The socket is close-on-exec in init: EOF alone means execve worked.
	var m syncMsg
	switch err := json.NewDecoder(proc.sock).Decode(&m); {
	case errors.Is(err, io.EOF):
	case errors.Is(err, unix.ECONNRESET):
		return 0, errors.New("exec: init exited before the process started (see its output above)")
	case err != nil:
		return 0, fmt.Errorf("exec: read from init: %w", err)
	case m.Type == msgError:
		return 0, errors.New(m.Msg)
	default:
		return 0, fmt.Errorf("exec: init sent unknown message %q", m.Type)
	}
	proc.waitLog()
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, proc.pid); err != nil {
			return 0, err
		}
	}
	if err := pidfdSock.send("setns"); err != nil {
		return 0, err
	}
	return proc.pid, nil
}

// initPidfd opens a pidfd of init and then checks init's start time, so
// the check covers the process the pidfd names: a pid reused since the
// state was written never leads into another process's namespaces.
func (c *Container) initPidfd() (*os.File, error) {
	fd, err := unix.PidfdOpen(c.state.InitPid, 0)
	if err != nil {
		return nil, fmt.Errorf("cannot exec in container %s: pidfd_open init %d: %w", c.state.ID, c.state.InitPid, err)
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	if _, start, err := procStat(c.state.InitPid); err != nil || start != c.state.InitStartTime {
		f.Close()
		return nil, fmt.Errorf("cannot exec in container %s: its init process is gone", c.state.ID)
	}
	return f, nil
}

// joinBootstrap joins every namespace of the container in one setns
// through the pidfd of init that init gets at fd.
func (c *Container) joinBootstrap(fd uint32) (*nsenter.Bootstrap, error) {
	b := &nsenter.Bootstrap{}
	for _, ns := range c.state.Config.Namespaces {
		flag, err := nsenter.NamespaceFlag(string(ns.Type))
		if err != nil {
			return nil, err
		}
		b.JoinPidfdFlags |= flag
	}
	if b.JoinPidfdFlags != 0 {
		b.JoinPidfdFD = fd
	}
	return b, nil
}
