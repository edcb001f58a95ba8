package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/cgroups"
	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/internal/cleanup"
	"github.com/berth-runtime/berth/internal/fault"
	"github.com/berth-runtime/berth/internal/logs"
	"github.com/berth-runtime/berth/libcontainer/seccomp"
	"github.com/berth-runtime/berth/nsenter"
	"github.com/berth-runtime/berth/rootfs"
)

// Environment variables that tell `berth init` its fds.
const (
	envFifoFD    = "_BERTH_FIFOFD"
	envConsoleFD = "_BERTH_CONSOLEFD"
	envSeccompFD = "_BERTH_SECCOMPFD"
	envRootFD    = "_BERTH_ROOTFD" // exec: init's root, to chroot into
	envJoinFD    = "_BERTH_JOINFD" // exec: a pidfd of init, to join its namespaces
)

// CreateOpts are create's command-line options.
type CreateOpts struct {
	ID            string
	Config        *configs.Config
	ConsoleSocket string
	PidfdSocket   string // receives a pidfd of init (pidfdsocket.go)
	PidFile       string
	PreserveFDs   int
	// ConsoleConn, when set, receives the pty master instead of
	// --console-socket (`run` in the foreground relays the terminal itself).
	ConsoleConn *os.File
	// Subreaper: the caller waits for the container (`run` in the
	// foreground), so init must become our child even after the fork that
	// puts it in its pid namespace.
	Subreaper bool
	// NotifySocket: the spec has AddNotifySocket's mount; make its source.
	NotifySocket bool
	// DeferFastRecord: the caller writes the fast record itself
	// (WriteFastRecord) once the container runs (`run`: start is its own,
	// so the record only serves a kill from elsewhere).
	DeferFastRecord bool
}

// initConfig is the first JSON line the parent sends to init.
type initConfig struct {
	Config      *configs.Config   `json:"config"`
	State       *specs.State      `json:"state"`
	PreserveFDs int               `json:"preserveFds"`
	Console     bool              `json:"console"`
	Seccomp     *seccomp.Compiled `json:"seccomp,omitempty"`
	Debug       bool              `json:"debug,omitempty"`
	// MountSources: init may ask for mount sources (msgMountSource).
	MountSources bool `json:"mountSources,omitempty"`
	// NSFDs: init sends msgNSFDs before anything else.
	NSFDs bool `json:"nsFds,omitempty"`

	timings string // init's phase durations, reported with ready
}

// Create sets the container up and leaves it created: init waits on
// exec.fifo for `start`.
func Create(root string, o *CreateOpts) (c *Container, err error) {
	cfg := o.Config
	t0 := time.Now()
	var undo cleanup.Stack
	var locked *Container
	defer func() {
		if err != nil {
			undo.Run()
		}
		// Only after the rollback: a delete waiting on the lock must find
		// the container whole or gone, never half undone.
		if locked != nil {
			locked.Unlock()
		}
	}()
	filter, err := checkCreate(root, o)
	if err != nil {
		return nil, err
	}
	pidfdSock, err := dialPidfdSocket(o.PidfdSocket)
	if err != nil {
		return nil, err
	}
	defer pidfdSock.close()

	if c, err = newStateDir(root, o, &undo); err != nil {
		return nil, err
	}
	// Held for the whole create: a parallel start or delete of this id
	// waits for it to finish or fail.
	if err := c.Lock(); err != nil {
		return nil, err
	}
	locked = c

	fifoPath, fifo, err := makeFifo(c.dir, cfg)
	if err != nil {
		return nil, err
	}
	defer fifo.Close()

	files, closeConsole, err := consoleFiles(o.ConsoleConn, o.ConsoleSocket)
	if err != nil {
		return nil, err
	}
	defer closeConsole()
	files = append(files, initFile{envFifoFD, fifo})
	listener, err := agentFile(cfg, filter)
	if err != nil {
		return nil, err
	}
	if listener != nil {
		defer listener.Close()
		files = append(files, initFile{envSeccompFD, listener})
	}
	boot, err := bootstrapFor(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.IntelRdt != nil {
		if err := c.setupIntelRdt(&undo); err != nil {
			return nil, err
		}
	}
	procs := procMounts(cfg)
	cinit := useCInit(cfg, procs)
	if cinit {
		boot.CInit, boot.Proc = true, procs
		if !cfg.NoNewKeyring {
			boot.Keyring = "_ses." + o.ID
		}
	}
	// The cgroup is made while berth init execs: its constructor waits for
	// the bootstrap, and joins the cgroup (onReady) before it unshares a
	// cgroup namespace.
	var mgr cgroups.Manager
	spawn := &initSpawn{
		preserve:  o.PreserveFDs,
		files:     files,
		subreaper: o.Subreaper,
		boot:      boot,
		whileStarting: func() (err error) {
			mgr, err = c.makeCgroup(&undo)
			return err
		},
		onReady: func(pid int) error { return c.placeInit(mgr, boot.IDMap, pid) },
	}
	var nst *nsThread
	if cinit {
		nst = newNSThread() // readied while init execs
		defer nst.close()
	}
	proc, err := spawnInit(spawn, &undo)
	if err != nil {
		return nil, err
	}
	fault.Point("create:init-started")
	parentSock, pid := proc.sock, proc.pid
	defer parentSock.Close()
	c.state.InitPid = pid
	// Now, while init waits for berth: the pidfd surely names it.
	if err := pidfdSock.open(pid); err != nil {
		return nil, err
	}
	c.state.Cgroup = mgr.State() // rootless Apply may have dropped hierarchies
	if _, c.state.InitStartTime, err = procStat(pid); err != nil {
		return nil, fmt.Errorf("init process %d: %w", pid, err)
	}
	c.state.InitComm = nsenter.InitComm
	if err := chownFifoForJoinedUserns(cfg, pid, fifoPath); err != nil {
		return nil, err
	}
	if len(cfg.NetDevices) > 0 {
		if err := moveNetDevices(cfg.NetDevices, pid, cfg.NamespacePath(configs.NEWNET)); err != nil {
			return nil, err
		}
	}
	logs.Debugf("create %s: namespaces ready in %s", o.ID, time.Since(t0))
	// The state naming init is written while init's rootfs is made: both
	// only read c.state, and a rename on a journaling filesystem can take
	// a while. The rollback waits for it.
	saved := make(chan error, 1)
	go func() { saved <- c.save() }()
	if cinit {
		err = c.setupForCInit(proc, spawn, nst, filter, o.PreserveFDs)
	} else {
		err = c.initInGo(proc, filter, o)
	}
	if serr := <-saved; err == nil {
		err = serr
	}
	if err != nil {
		return nil, err
	}
	fault.Point("create:namespaces")
	proc.waitLog()
	logs.Debugf("create %s: init ready in %s", o.ID, time.Since(t0))
	if err := c.finishCreate(o, mgr, pidfdSock); err != nil {
		return nil, err
	}
	logs.Debugf("create %s: done in %s", o.ID, time.Since(t0))
	return c, nil
}

// checkCreate refuses, before anything is made, what create cannot do,
// and compiles the seccomp filter.
func checkCreate(root string, o *CreateOpts) (*seccomp.Compiled, error) {
	cfg := o.Config
	if cfg.Process == nil {
		return nil, errors.New("config.json: process: missing (berth cannot create a container without a process)")
	}
	if err := checkLSM(cfg); err != nil {
		return nil, err
	}
	if err := checkRootless(cfg, os.Geteuid(), os.Getegid()); err != nil {
		return nil, err
	}
	filter, err := compileSeccomp(root, cfg)
	if err != nil {
		return nil, err
	}
	if err := checkConsole(cfg.Process.Terminal, o.ConsoleConn != nil, o.ConsoleSocket); err != nil {
		return nil, err
	}
	return filter, nil
}

// newStateDir makes <root>/<id> (the id taken atomically by mkdir) and
// the container that lives there, pushing their undos.
func newStateDir(root string, o *CreateOpts, undo *cleanup.Stack) (*Container, error) {
	cfg := o.Config
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("create --root %s: %w", root, err)
	}
	dir := filepath.Join(root, o.ID)
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("container %s %w", o.ID, ErrExist)
		}
		return nil, fmt.Errorf("create state directory %s: %w", dir, err)
	}
	undo.Push(func() { os.RemoveAll(dir) })
	if !cfg.Has(configs.NEWNS) {
		// Init mounts below the rootfs in the host's namespace: a failed
		// create takes them down as delete does (after init is killed).
		undo.Push(func() {
			if err := rootfs.UnmountBelow(cfg.Rootfs); err != nil {
				logs.Warnf("rollback: %v", err)
			}
		})
	}
	fault.Point("create:statedir")
	if o.NotifySocket {
		if err := makeNotifyDir(dir); err != nil {
			return nil, err
		}
	}
	return &Container{root: root, dir: dir, state: State{
		ID:          o.ID,
		Bundle:      cfg.Bundle,
		Rootfs:      cfg.Rootfs,
		Annotations: cfg.Annotations,
		Config:      cfg,
		InCreate:    true,
	}}, nil
}

// makeFifo makes exec.fifo, owned by the container's root (init reopens
// it as that user), and an O_PATH fd of it for init.
func makeFifo(dir string, cfg *configs.Config) (string, *os.File, error) {
	path := filepath.Join(dir, fifoName)
	if err := unix.Mkfifo(path, 0o600); err != nil {
		return "", nil, fmt.Errorf("mkfifo %s: %w", path, err)
	}
	if uid, gid, ok := rootIDs(cfg); ok {
		if err := chownFifo(path, int(uid), int(gid)); err != nil {
			return "", nil, err
		}
	}
	f, err := os.OpenFile(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", nil, fmt.Errorf("open %s: %w", path, err)
	}
	return path, f, nil
}

// makeCgroup makes the container's cgroup while berth init execs: its
// constructor waits for the bootstrap, and joins the cgroup (placeInit)
// before it unshares a cgroup namespace.
func (c *Container) makeCgroup(undo *cleanup.Stack) (cgroups.Manager, error) {
	cfg := c.state.Config
	// Durable now, off the critical path: the parent would otherwise
	// wait here for berth init's exec.
	if err := c.saveConfig(); err != nil {
		return nil, err
	}
	mgr, err := cgroups.New(cgroups.Config{
		Path:     cfg.Cgroup.Path,
		Systemd:  cfg.Cgroup.Systemd,
		Rootless: cfg.Cgroup.Rootless,
		Disabled: cfg.Cgroup.Disabled,
		ID:       c.state.ID,
	})
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", cfg.Cgroup.Path, err)
	}
	// Before the rollback can destroy it: a cgroup in use is not ours.
	if err := mgr.CheckUnused(); err != nil {
		return nil, err
	}
	undo.Push(func() {
		if err := mgr.Destroy(); err != nil {
			logs.Warnf("rollback: %v", err)
		}
	})
	// From here on berth may leave a cgroup and an init behind if it
	// is killed: a state naming them lets delete --force clean up.
	c.state.Cgroup = mgr.State()
	if err := c.save(); err != nil {
		return nil, err
	}
	fault.Point("create:cgroup")
	return mgr, nil
}

// placeInit puts init, waiting for berth, where the config says: its
// cgroup and resctrl groups, the cgroup's CPUs, its OOM score, and the
// id maps of its new user namespace.
func (c *Container) placeInit(mgr cgroups.Manager, idmap bool, pid int) error {
	cfg := c.state.Config
	if err := c.joinGroups(mgr, pid); err != nil {
		return err
	}
	resetAffinity(pid)
	if cfg.Process.OOMScoreAdj != nil {
		p := "/proc/" + strconv.Itoa(pid) + "/oom_score_adj"
		if err := os.WriteFile(p, []byte(strconv.Itoa(*cfg.Process.OOMScoreAdj)), 0); err != nil {
			return fmt.Errorf("process.oomScoreAdj: %w", err)
		}
	}
	if idmap {
		return writeIDMaps(pid, cfg)
	}
	return nil
}

// finishCreate ends a create whose init is ready: the limits, the final
// state, the fast record and pid file, and last the pidfd (only a
// container that exists is handed out).
func (c *Container) finishCreate(o *CreateOpts, mgr cgroups.Manager, pidfdSock *pidfdSocket) error {
	// Limits go in once init's own setup is done: a small pids.limit must
	// not stop the Go runtime of init from starting its threads.
	if r := c.state.Config.Cgroup.Resources; r != nil {
		if err := mgr.Set(r); err != nil {
			return err
		}
	}
	fault.Point("create:before-state")
	c.state.Created = time.Now().UTC()
	c.state.InCreate = false
	if err := c.save(); err != nil {
		return err
	}
	if !o.DeferFastRecord {
		c.WriteFastRecord()
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, c.state.InitPid); err != nil {
			return err
		}
	}
	return pidfdSock.send("standard")
}

// runCreateHooks runs the prestart and createRuntime hooks, in berth's
// namespaces, once the mounts are made and before pivot_root.
func (c *Container) runCreateHooks() error {
	fault.Point("create:hooks")
	h := c.state.Config.Hooks
	// The conformance suite expects hooks to see "created".
	st := c.OCIState(Created)
	if err := runHooks("prestart", h.Prestart, st, hostEnv()); err != nil {
		return err
	}
	return runHooks("createRuntime", h.CreateRuntime, st, hostEnv())
}

var errInitExited = errors.New("container init exited before it was ready (see its output above)")

// initInGo sends Go init its config and serves its requests (the prestart
// and createRuntime hooks) until it reports ready.
func (c *Container) initInGo(proc *initProc, filter *seccomp.Compiled, o *CreateOpts) error {
	cfg := c.state.Config
	parentSock := proc.sock
	nsfds := initSendsNSFDs(cfg)
	enc := json.NewEncoder(parentSock)
	dec := json.NewDecoder(parentSock)
	if err := enc.Encode(&initConfig{
		Config:       forInit(cfg),
		State:        c.OCIState(Created),
		PreserveFDs:  o.PreserveFDs,
		Console:      cfg.Process.Terminal,
		Seccomp:      filter,
		Debug:        logs.Debugging(),
		MountSources: mountSourcesWanted(cfg),
		NSFDs:        nsfds,
	}); err != nil {
		return fmt.Errorf("send config to init: %w", err)
	}
	sources := &mountSourceServer{cfg: cfg, pid: proc.pid, startTime: c.state.InitStartTime}
	defer sources.close()
	if nsfds {
		var err error
		if sources.nsfds, err = recvNSFDs(parentSock); err != nil {
			return err
		}
	}
	for done := false; !done; {
		fault.Point("create:wait-init")
		var m syncMsg
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, unix.ECONNRESET) {
				return errInitExited
			}
			return fmt.Errorf("read from init: %w", err)
		}
		switch m.Type {
		case msgHooks:
			if err := c.runCreateHooks(); err != nil {
				return err
			}
			if err := enc.Encode(&syncMsg{Type: msgHooksDone}); err != nil {
				return fmt.Errorf("send to init: %w", err)
			}
		case msgMountSource:
			if err := sources.serveMountSource(parentSock, &m); err != nil {
				return err
			}
		case msgReady:
			if m.Msg != "" {
				logs.Debugf("create %s: init phases: %s", o.ID, m.Msg)
			}
			done = true
		case msgError:
			return errors.New(m.Msg)
		default:
			return fmt.Errorf("init sent unknown message %q", m.Type)
		}
	}
	return nil
}

// bootstrapFor tells the nsenter constructor what to join and create.
func bootstrapFor(cfg *configs.Config) (*nsenter.Bootstrap, error) {
	b := &nsenter.Bootstrap{}
	for i, ns := range cfg.Namespaces {
		flag, err := nsenter.NamespaceFlag(string(ns.Type))
		if err != nil {
			return nil, fmt.Errorf("linux.namespaces[%d].type: %w", i, err)
		}
		if ns.Path != "" {
			b.Join = append(b.Join, nsenter.Join{Flag: flag, Path: ns.Path})
		} else {
			b.CloneFlags |= flag
		}
	}
	if b.CloneFlags&unix.CLONE_NEWUSER != 0 {
		b.IDMap = len(cfg.UIDMappings) > 0 || len(cfg.GIDMappings) > 0
	}
	if b.CloneFlags&unix.CLONE_NEWTIME != 0 && len(cfg.TimeOffsets) > 0 {
		var sb strings.Builder
		for clock, off := range cfg.TimeOffsets {
			fmt.Fprintf(&sb, "%s %d %d\n", clock, off.Secs, off.Nanosecs)
		}
		b.TimeOffsets = sb.String()
	}
	return b, nil
}

func dialConsole(path string) (*os.File, error) {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("--console-socket %s: %w", path, err)
	}
	defer conn.Close()
	f, err := conn.(*net.UnixConn).File()
	if err != nil {
		return nil, fmt.Errorf("--console-socket %s: %w", path, err)
	}
	return f, nil
}

// killWaitMs bounds killPid's wait for the process to exit.
const killWaitMs = 5000

// rootIDs returns the host uid and gid that the container's root maps to,
// when it has a new user namespace.
func rootIDs(cfg *configs.Config) (uint32, uint32, bool) {
	if !cfg.Has(configs.NEWUSER) || cfg.NamespacePath(configs.NEWUSER) != "" {
		return 0, 0, false
	}
	uid, uok := hostID(cfg.UIDMappings, 0)
	gid, gok := hostID(cfg.GIDMappings, 0)
	return uid, gid, uok && gok
}

func hostID(m []specs.LinuxIDMapping, id uint32) (uint32, bool) {
	for _, e := range m {
		if id >= e.ContainerID && id-e.ContainerID < e.Size {
			return e.HostID + id - e.ContainerID, true
		}
	}
	return 0, false
}
