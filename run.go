package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/containerd/console"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/internal/logs"
	"github.com/berth-runtime/berth/internal/sigfwd"
	"github.com/berth-runtime/berth/libcontainer"
)

var runCommand = &cli.Command{
	Name:      "run",
	Usage:     "create and start a container; in the foreground, exit with its status",
	ArgsUsage: "<container-id>",
	Flags: append([]cli.Flag{
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "do not wait for the container"},
		&cli.BoolFlag{Name: "keep", Usage: "do not delete the container after it exits"},
	}, createFlags...),
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, 1); err != nil {
			return err
		}
		detach := ctx.Bool("detach")
		var sigs *caught
		if !detach {
			// Caught before the container exists (createContainer waits),
			// so none is lost.
			sigs = caughtSignals()
		}
		c, err := createContainer(ctx, !detach, sigs)
		if err != nil {
			return err
		}
		relay, err := listenNotify(c)
		if err == nil {
			err = c.Start()
		}
		if err != nil {
			relay.Close()
			deleteOwn(c)
			return foregroundStartError(err, detach)
		}
		c.WriteFastRecord()
		if detach {
			defer relay.Close()
			if relay == nil {
				return nil
			}
			return relay.Relay(c.State().InitPid, false)
		}
		relayed := make(chan struct{})
		if relay != nil {
			// berth stays in the foreground: it is the main pid to watch.
			go func() {
				defer close(relayed)
				if err := relay.Relay(os.Getpid(), true); err != nil {
					logs.Warnf("%v", err)
				}
			}()
		} else {
			close(relayed)
		}
		code := waitForeground(c.State().InitPid, sigs)
		<-relayed // ends with init
		relay.Close()
		if !ctx.Bool("keep") {
			if err := deleteOwn(c); err != nil {
				logs.Warnf("%v", err)
			}
		}
		return &exitError{code}
	},
}

// foregroundStartError: in the foreground, a process whose execve failed
// ends run as the process would, as runc does: the one-line reason alone
// on stderr ("exec /run.sh: no such file or directory"), status 255.
// Everything else is berth's error as usual.
func foregroundStartError(err error, detach bool) error {
	var pse *libcontainer.ProcessStartError
	if detach || !errors.As(err, &pse) || !pse.Execve() {
		return err
	}
	fmt.Fprintln(os.Stderr, strings.ReplaceAll(pse.Msg, "\n", " "))
	return &exitError{255}
}

// deleteOwn deletes the container run made, under its lock: a `delete
// --force` from elsewhere may get there first, and then there is nothing
// left to do.
func deleteOwn(c *libcontainer.Container) error {
	if err := c.Relock(); err != nil {
		if errors.Is(err, libcontainer.ErrNotExist) {
			return nil
		}
		return err
	}
	defer c.Unlock()
	return c.Delete(true)
}

// caught is the channel of catchSignals.
type caught struct {
	c     chan os.Signal
	first chan struct{} // closed once the signals users send are caught
	rest  chan struct{} // closed once every signal is caught
}

// catchSignals catches signals for forwarding to the container. Those Go
// ignores by default are held from berth's first instruction and read from
// a signalfd (internal/sigfwd): they cost nothing until sent. The others
// go through os/signal on another goroutine, each a round trip to the Go
// runtime's signal thread (~30 µs here): first those users and supervisors
// send, whose default would end or stop berth (waitFirst holds the command
// back until they are caught, before it makes anything), then the ones
// whose default is a crash, which waitForeground waits for.
func catchSignals() *caught {
	s := &caught{c: make(chan os.Signal, 64), first: make(chan struct{}), rest: make(chan struct{})}
	held, err := sigfwd.Open()
	if err != nil {
		logs.Warnf("%v: forwarding signals with os/signal", err)
	}
	if held != nil {
		go sigfwd.Relay(held, s.c)
	}
	go func() {
		signal.Notify(s.c, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT)
		if held == nil {
			signal.Notify(s.c, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU, unix.SIGUSR1, unix.SIGUSR2)
		}
		close(s.first)
		if held == nil {
			signal.Notify(s.c)
		} else {
			signal.Notify(s.c, unix.SIGABRT, unix.SIGILL, unix.SIGTRAP, unix.SIGBUS,
				unix.SIGFPE, unix.SIGSEGV, unix.SIGSTKFLT, unix.SIGSYS)
		}
		close(s.rest)
	}()
	return s
}

// early is catchSignals begun as berth starts (startEarly).
var early *caught

// startEarly begins catchSignals before the CLI runs when the command is
// a foreground run or exec: os/signal's round trips (~1 ms in all here)
// then overlap the CLI and the config instead of holding create back.
// A -d or --detach anywhere in args (even as another flag's value) leaves
// the catching to the command, which knows.
func startEarly(args []string) {
	if sigfwd.Held() && !mayDetach(args) { // Held: run or exec, holding on
		early = catchSignals()
	}
}

// mayDetach reports whether some argument could ask for --detach.
func mayDetach(args []string) bool {
	for _, a := range args[1:] {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && (name == "d" || name == "detach") {
			return true
		}
	}
	return false
}

// caughtSignals is catchSignals, begun early when startEarly could.
func caughtSignals() *caught {
	if early != nil {
		return early
	}
	return catchSignals()
}

// waitFirst returns once the signals users send are caught (at once
// without catchSignals: a detached command forwards nothing).
func (s *caught) waitFirst() {
	if s != nil {
		<-s.first
	}
}

// waitForeground forwards signals to pid and returns its exit status
// (128+N when killed by signal N). berth is its subreaper here. The
// signals stay caught: berth exits soon after, and un-catching them costs
// as much as catching.
func waitForeground(pid int, s *caught) int {
	<-s.rest
	// The signals go to the init through a pidfd, opened while the init
	// is still ours to reap: a signal that races with the reap below can
	// never reach a process that reused its pid.
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		pidfd = -1
	}
	relay := activeRelay
	if relay != nil {
		relay.start()
	}
	stop := make(chan struct{})
	forwarded := make(chan struct{})
	go forwardSignals(pid, pidfd, s.c, relay, stop, forwarded)
	// The wait runs here, not on a goroutine of its own: the command goes
	// on on the thread the wait returns on, without waking another.
	code := reapInit(pid)
	close(stop)
	<-forwarded
	if pidfd >= 0 {
		unix.Close(pidfd)
	}
	if relay != nil {
		relay.finish()
	}
	return code
}

// reapInit waits for pid, reaping the container's orphans reparented to
// berth (its subreaper) on the way, and returns its exit status.
func reapInit(pid int) int {
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 255
		}
		if wpid != pid {
			continue
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
}

// forwardSignals sends the signals caught to the init until stop closes.
func forwardSignals(pid, pidfd int, sigs <-chan os.Signal, relay *ttyRelay, stop, done chan struct{}) {
	defer close(done)
	for {
		select {
		case <-stop:
			return
		case s := <-sigs:
			sig := s.(unix.Signal)
			switch sig {
			case unix.SIGCHLD, unix.SIGURG, unix.SIGPIPE:
				// SIGURG is the Go runtime's preemption signal.
			case unix.SIGWINCH:
				if relay != nil {
					relay.resize()
				}
			default:
				if pidfd < 0 || unix.PidfdSendSignal(pidfd, sig, nil, 0) == unix.ENOSYS {
					unix.Kill(pid, sig)
				}
			}
		}
	}
}

// listenEnv tells the container's process of the n socket-activation fds
// berth passes it (LISTEN_FDS, as runc does) and returns n.
func listenEnv(p *configs.Process, n int) int {
	if n <= 0 || p == nil {
		return 0
	}
	p.Env = append(p.Env, "LISTEN_FDS="+strconv.Itoa(n), "LISTEN_PID=1")
	return n
}

// ttyRelay connects berth's own terminal to the container's pty when
// `run` stays in the foreground without --console-socket.
type ttyRelay struct {
	local, remote *os.File
	master        console.Console
	host          console.Console
	copied        chan struct{}
}

var activeRelay *ttyRelay

func newTTYRelay() (*ttyRelay, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("console socketpair: %w", err)
	}
	return &ttyRelay{local: os.NewFile(uintptr(fds[0]), "console-local"), remote: os.NewFile(uintptr(fds[1]), "console-remote")}, nil
}

func (r *ttyRelay) close() {
	r.local.Close()
	r.remote.Close()
}

func (r *ttyRelay) start() {
	buf := make([]byte, 256)
	oob := make([]byte, unix.CmsgSpace(4))
	// Close-on-exec: hooks (poststop) and helpers must not inherit it.
	_, oobn, _, _, err := unix.Recvmsg(int(r.local.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	r.local.Close()
	if err != nil {
		logs.Warnf("receive pty master: %v", err)
		return
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		logs.Warnf("receive pty master: no fd")
		return
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		logs.Warnf("receive pty master: no fd")
		return
	}
	master, err := console.ConsoleFromFile(os.NewFile(uintptr(fds[0]), "pty-master"))
	if err != nil {
		logs.Warnf("pty master: %v", err)
		return
	}
	r.master = master
	if host, err := console.ConsoleFromFile(os.Stdin); err == nil {
		r.host = host
		host.SetRaw()
		r.resize()
	}
	r.copied = make(chan struct{})
	go io.Copy(master, os.Stdin)
	go func() {
		io.Copy(os.Stdout, master)
		close(r.copied)
	}()
}

func (r *ttyRelay) resize() {
	if r.host != nil && r.master != nil {
		r.master.ResizeFrom(r.host)
	}
}

func (r *ttyRelay) finish() {
	if r.copied != nil {
		<-r.copied // the pty hangs up once every holder of the slave is gone
	}
	if r.host != nil {
		r.host.Reset()
	}
	if r.master != nil {
		r.master.Close()
	}
}
