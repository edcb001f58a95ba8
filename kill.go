package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer"
)

var killCommand = &cli.Command{
	Name:      "kill",
	Usage:     "send a signal (default SIGTERM) to a container's init process",
	ArgsUsage: "<container-id> [signal]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "signal every process of the container"},
	},
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, 2); err != nil {
			return err
		}
		sig := unix.SIGTERM
		if ctx.NArg() == 2 {
			var err error
			if sig, err = parseSignal(ctx.Args().Get(1)); err != nil {
				return err
			}
		}
		// Bounded: a command stuck on the container holding its lock
		// must not keep a kill out.
		c, err := loadWith(ctx, libcontainer.LoadForSignal)
		if err != nil {
			return err
		}
		defer c.Unlock()
		return c.Signal(sig, ctx.Bool("all"))
	},
}

// parseSignal accepts "KILL", "SIGKILL", "kill", "9" and "RTMIN+3"; 0
// only checks that the container runs (kill(2)'s null signal), as runc.
func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q: out of range 0-64", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	for _, base := range []struct {
		prefix string
		num    int
		dir    int
	}{{"SIGRTMIN+", 34, 1}, {"SIGRTMAX-", 64, -1}} {
		if rest, ok := strings.CutPrefix(name, base.prefix); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 0 && n <= 30 {
				return unix.Signal(base.num + base.dir*n), nil
			}
		}
	}
	switch name {
	case "SIGRTMIN":
		return unix.Signal(34), nil
	case "SIGRTMAX":
		return unix.Signal(64), nil
	}
	return 0, fmt.Errorf("invalid signal %q: unknown signal name", s)
}
