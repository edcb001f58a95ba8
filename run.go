package main

import (
	"errors"
	"os"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/internal/logs"
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
			sigs = caughtSignals(ctx)
		}
		c, tty, err := createContainer(ctx, !detach, sigs)
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
		code := waitForeground(c.State().InitPid, sigs, tty)
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

// listenEnv tells the container's process of the n socket-activation fds
// berth passes it (LISTEN_FDS, as runc does) and returns n.
func listenEnv(p *configs.Process, n int) int {
	if n <= 0 || p == nil {
		return 0
	}
	p.Env = append(p.Env, "LISTEN_FDS="+strconv.Itoa(n), "LISTEN_PID=1")
	return n
}
