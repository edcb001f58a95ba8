package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/containerd/console"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/nsenter"
	"github.com/berth-runtime/berth/rootfs"
)

// Init is `berth init`: it runs inside the container's namespaces (the
// nsenter constructor put it there), finishes the setup, reports ready,
// waits on exec.fifo and execs the process. It returns only on failure.
func Init() error {
	// Credentials and capabilities are per thread: everything from here to
	// execve must happen on this one.
	runtime.LockOSThread()
	nsenter.Debugf("init", "child process in init(): Go init")
	sockFD, err := envFD(nsenter.EnvInitPipe)
	if err != nil {
		return err
	}
	sock := os.NewFile(uintptr(sockFD), "init-sock")
	fifoFD, err := envFD(envFifoFD)
	if err != nil {
		return err
	}
	consoleFD, seccompFD := -1, -1
	if os.Getenv(envConsoleFD) != "" {
		if consoleFD, err = envFD(envConsoleFD); err != nil {
			return err
		}
	}
	if os.Getenv(envSeccompFD) != "" {
		if seccompFD, err = envFD(envSeccompFD); err != nil {
			return err
		}
	}
	os.Clearenv()

	dec := json.NewDecoder(sock)
	enc := json.NewEncoder(sock)
	var ic initConfig
	if err := dec.Decode(&ic); err != nil {
		return fmt.Errorf("init: read config: %w", err)
	}
	if ic.NSFDs {
		if err := sendNSFDs(sock); err != nil {
			enc.Encode(&syncMsg{Type: msgError, Msg: err.Error()})
			os.Exit(1)
		}
	}
	// From pivot_root to execve init reaches its own /proc entries
	// (exec.fifo's fd, the attr files) only through this verified procfs
	// root, never by a path; a config without /proc gets one too.
	proc, err := rootfs.InitProc(ic.Config, true)
	if err != nil {
		err = fmt.Errorf("init: %w", err)
	}
	var path string
	if err == nil {
		path, err = setupContainer(&ic, sock, dec, enc, consoleFD)
	}
	if err == nil && proc < 0 {
		if proc, err = rootfs.InitProc(ic.Config, false); err != nil {
			err = fmt.Errorf("init: %w", err)
		}
	}
	var msg, rest []byte
	if err == nil {
		// Encoded now so that a bad setting fails create, not start.
		fds := procFDs{preserve: ic.PreserveFDs, agent: seccompFD, console: -1, root: -1}
		msg, err = processMessage(ic.Config, ic.Seccomp, ic.State, fds)
		if err == nil && seccompFirst(&ic) {
			// The filter goes in before the startContainer hooks; the
			// stage after them runs without it.
			fds.agent = -1
			rest, err = processMessage(ic.Config, nil, ic.State, fds)
		}
	}
	if err != nil {
		enc.Encode(&syncMsg{Type: msgError, Msg: err.Error()})
		os.Exit(1)
	}
	if err := enc.Encode(&syncMsg{Type: msgReady, Msg: ic.timings}); err != nil {
		os.Exit(1)
	}
	nsenter.Debugf("init", "init: closing the pipe to signal completion; waiting on exec.fifo")
	sock.Close()
	// The parent waits for the log's EOF before create returns.
	nsenter.CloseLog()

	// Blocks until `berth start` opens the fifo for reading. The fd stays
	// open (close-on-exec): start sees EOF once execve succeeded, or reads
	// our error if anything below fails.
	fifo, err := rootfs.ReopenFD(proc, fifoFD, unix.O_WRONLY)
	if err != nil {
		return fmt.Errorf("init: open exec fifo: %w", err)
	}
	unix.Close(fifoFD)
	if _, err := unix.Write(fifo, []byte{0}); err != nil {
		return fmt.Errorf("init: write exec fifo: %w", err)
	}
	err = execProcess(&ic, path, msg, rest, proc)
	// start reports it (*ProcessStartError); said twice it would be two
	// lines. Only when start is gone does init's stderr get it.
	if _, werr := unix.Write(fifo, []byte(err.Error())); werr == nil {
		os.Exit(1)
	}
	return err
}

// seccompFirst reports whether init loads the seccomp filter before the
// startContainer hooks: runc runs them under it, so a profile constrains
// them too. Without such hooks the filter waits until just before execve.
func seccompFirst(ic *initConfig) bool {
	h := ic.Config.Hooks
	return ic.Seccomp != nil && h != nil && len(h.StartContainer) > 0
}

// execProcess runs the startContainer hooks, then the C stage that
// applies the process's identity and limits and execs it (shared with
// exec, nsenter/procexec.c); it returns only on failure. With
// seccompFirst, msg's filter is loaded before the hooks and rest (msg
// without it) runs the stage.
func execProcess(ic *initConfig, path string, msg, rest []byte, proc int) error {
	cfg := ic.Config
	if cfg.Hooks != nil && len(cfg.Hooks.StartContainer) > 0 {
		if rest != nil {
			if err := nsenter.LoadSeccomp(msg); err != nil {
				return err
			}
			msg = rest
		}
		if err := runHooks("startContainer", cfg.Hooks.StartContainer, ic.State, withHome(cfg.Process)); err != nil {
			return err
		}
	}
	return nsenter.ExecProcess(msg, path, proc)
}

// withHome is the process's environment as its execve will get it: with
// HOME from the container's /etc/passwd when unset or empty (the C stage
// does the same lookup), for the startContainer hooks that inherit it.
func withHome(p *configs.Process) []string {
	for _, kv := range p.Env {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok && v != "" {
			return p.Env
		}
	}
	home := nsenter.HomeDir("/etc/passwd", p.UID)
	if home == "" {
		home = "/"
	}
	env := make([]string, 0, len(p.Env)+1)
	for _, kv := range p.Env {
		if !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+home)
}

func envFD(name string) (int, error) {
	fd, ok := nsenter.ParseFD(os.Getenv(name))
	if !ok {
		return -1, fmt.Errorf("init: %s=%q is not an fd number", name, os.Getenv(name))
	}
	return fd, nil
}

// setupContainer does everything that may fail before the container is
// reported created, and returns the resolved executable.
func setupContainer(ic *initConfig, sock *os.File, dec *json.Decoder, enc *json.Encoder, consoleFD int) (string, error) {
	cfg := ic.Config
	ph := &phases{on: ic.Debug, last: time.Now()}
	defer func() { ic.timings = ph.String() }()
	if !cfg.NoNewKeyring {
		// A fresh session keyring keeps the host's keys out of reach.
		name := "_ses." + ic.State.ID
		if _, err := unix.KeyctlJoinSessionKeyring(name); err != nil && !errors.Is(err, unix.ENOSYS) {
			return "", fmt.Errorf("join session keyring: %w", err)
		}
	}
	ph.mark("keyring")
	var env rootfs.Env
	if ic.MountSources {
		env.MountSource = func(i int, tree bool) (int, error) {
			return askMountSource(sock, enc, i, tree)
		}
	}
	if err := rootfs.PrepareIn(cfg, env); err != nil {
		return "", err
	}
	ph.mark("mounts")
	if h := cfg.Hooks; h != nil {
		if len(h.Prestart) > 0 || len(h.CreateRuntime) > 0 {
			if err := enc.Encode(&syncMsg{Type: msgHooks}); err != nil {
				return "", fmt.Errorf("ask parent to run hooks: %w", err)
			}
			var m syncMsg
			if err := dec.Decode(&m); err != nil || m.Type != msgHooksDone {
				// The parent reports the hook failure itself.
				os.Exit(1)
			}
		}
		if len(h.CreateContainer) > 0 {
			// As runc: createContainer hooks start in the rootfs, so a
			// relative path in one names the container's file, not the
			// host's (init's cwd is the old root until the pivot).
			if err := unix.Chdir(cfg.Rootfs); err != nil {
				return "", fmt.Errorf("createContainer hooks: chdir %s: %w", cfg.Rootfs, err)
			}
			if err := runHooks("createContainer", h.CreateContainer, ic.State, cfg.Process.Env); err != nil {
				return "", err
			}
		}
	}
	ph.mark("hooks")
	return finishRootfs(cfg, ph, func() error {
		if _, err := unix.Setsid(); err != nil {
			return fmt.Errorf("setsid: %w", err)
		}
		if ic.Console {
			return setupConsole(cfg, consoleFD)
		}
		return nil
	})
}

// finishRootfs pivots into the rootfs and completes the container's view:
// hostname, sysctls, then mid (the session and console: init's own, or
// made for it), the cwd, masked and read-only paths. It returns args[0] resolved
// in the container. It runs in init, or on a berth thread in init's
// namespaces (cinit.go).
func finishRootfs(cfg *configs.Config, ph *phases, mid func() error) (string, error) {
	if err := rootfs.Pivot(cfg); err != nil {
		return "", err
	}
	ph.mark("pivot")
	if cfg.Hostname != "" {
		if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
			return "", fmt.Errorf("hostname: sethostname: %w", err)
		}
	}
	if cfg.Domainname != "" {
		if err := unix.Setdomainname([]byte(cfg.Domainname)); err != nil {
			return "", fmt.Errorf("domainname: setdomainname: %w", err)
		}
	}
	if cfg.Has(configs.NEWNET) && cfg.NamespacePath(configs.NEWNET) == "" {
		if err := loopbackUp(); err != nil {
			return "", err
		}
	}
	if len(cfg.NetDevices) > 0 {
		if err := configureNetDevices(cfg.NetDevices); err != nil {
			return "", err
		}
	}
	if err := writeSysctls(cfg.Sysctl); err != nil {
		return "", err
	}
	ph.mark("hostname+sysctl")
	if err := mid(); err != nil {
		return "", err
	}
	ph.mark("console")
	// runc creates a missing cwd; images rely on it. Best effort: the
	// process stage's chdir (and its check that the cwd is inside the
	// root) is what reports a bad cwd.
	_ = rootfs.MkdirCwd(cfg.Process.Cwd)
	if err := rootfs.Finalize(cfg); err != nil {
		return "", err
	}
	ph.mark("masked+readonly")
	if len(cfg.Process.Args) == 0 {
		return "", errors.New("process.args: must not be empty")
	}
	path, err := nsenter.LookPath(cfg.Process.Args[0], cfg.Process.Env)
	ph.mark("lookpath")
	return path, err
}

// phases records how long each step of init took, for --debug.
type phases struct {
	on   bool
	last time.Time
	sb   strings.Builder
}

func (p *phases) mark(name string) {
	if !p.on {
		return
	}
	now := time.Now()
	fmt.Fprintf(&p.sb, " %s=%s", name, now.Sub(p.last).Round(time.Microsecond))
	p.last = now
}

func (p *phases) String() string { return strings.TrimSpace(p.sb.String()) }

// writeSysctls goes through a verified, uncovered procfs (CVE-2019-16884,
// CVE-2025-52881): a mount over /proc/sys cannot redirect the writes.
func writeSysctls(sysctl map[string]string) error {
	return rootfs.WriteSysctls(sysctl)
}

// setupConsole makes a pty in the container's devpts, puts it on stdio
// and /dev/console, and hands the master to the console socket.
func setupConsole(cfg *configs.Config, consoleFD int) error {
	master, slavePath, err := makeConsole(cfg)
	if err != nil {
		return err
	}
	defer master.Close()
	slave, err := unix.Open(slavePath, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("process.terminal: open %s: %w", slavePath, err)
	}
	// As runc: the output reaches the master as written ("\n", not "\r\n").
	if err := console.ClearONLCR(uintptr(slave)); err != nil {
		return fmt.Errorf("process.terminal: clear ONLCR on %s: %w", slavePath, err)
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup3(slave, fd, 0); err != nil {
			return fmt.Errorf("process.terminal: dup3: %w", err)
		}
	}
	unix.Close(slave)
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("process.terminal: TIOCSCTTY: %w", err)
	}
	if err := sendMaster(master, slavePath, consoleFD); err != nil {
		return err
	}
	unix.Close(consoleFD)
	return nil
}

// makeConsole makes a pty in the container's devpts (of the calling
// thread's root) and binds its slave on /dev/console.
func makeConsole(cfg *configs.Config) (console.Console, string, error) {
	master, slavePath, err := console.NewPty()
	if err != nil {
		return nil, "", fmt.Errorf("process.terminal: create pty: %w", err)
	}
	if sz := cfg.Process.ConsoleSize; sz != nil {
		master.Resize(console.WinSize{Height: uint16(sz.Height), Width: uint16(sz.Width)})
	}
	if uid := cfg.Process.UID; uid != 0 {
		if err := chownTTY(slavePath, uid); err != nil {
			master.Close()
			return nil, "", err
		}
	}
	if err := rootfs.MountConsole(slavePath); err != nil {
		master.Close()
		return nil, "", err
	}
	return master, slavePath, nil
}

// chownTTY gives the pty slave to the process's uid, as runc does (the
// group stays devpts' gid= option). A slave whose owner the user
// namespace does not map (EPERM, EINVAL) or a read-only /dev stays as it is.
func chownTTY(slavePath string, uid uint32) error {
	err := unix.Chown(slavePath, int(uid), -1)
	if err != nil && err != unix.EPERM && err != unix.EINVAL && err != unix.EROFS {
		return fmt.Errorf("process.terminal: chown %s to uid %d: %w", slavePath, uid, err)
	}
	return nil
}

// sendMaster hands the pty master to the console socket (or the relay of
// `run`); the caller owns consoleFD.
func sendMaster(master console.Console, slavePath string, consoleFD int) error {
	rights := unix.UnixRights(int(master.Fd()))
	if err := unix.Sendmsg(consoleFD, []byte(slavePath), rights, nil, 0); err != nil {
		return fmt.Errorf("process.terminal: send pty master to console socket: %w", err)
	}
	return nil
}
