package main

import (
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/signame"
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
			if sig, err = signame.Parse(ctx.Args().Get(1)); err != nil {
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
