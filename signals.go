package main

import (
	"os"
	"os/signal"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/urfave/cli/v2"

	"github.com/berth-runtime/berth/internal/logs"
	"github.com/berth-runtime/berth/internal/sigfwd"
)

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

// startEarly begins catchSignals before the CLI runs when the command is
// a foreground run or exec: os/signal's round trips (~1 ms in all here)
// then overlap the CLI and the config instead of holding create back.
// A -d or --detach anywhere in args (even as another flag's value) leaves
// the catching to the command, which knows.
func startEarly(args []string) *caught {
	if sigfwd.Held() && !mayDetach(args) { // Held: run or exec, holding on
		return catchSignals()
	}
	return nil
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

// earlyKey is where main keeps startEarly's catch for the command.
const earlyKey = "berth.early-signals"

// caughtSignals is catchSignals, begun early when startEarly could.
func caughtSignals(ctx *cli.Context) *caught {
	if early, _ := ctx.App.Metadata[earlyKey].(*caught); early != nil {
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
