package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/berth-runtime/berth/internal/fastcmd"
	"github.com/berth-runtime/berth/libcontainer"
)

var startCommand = &cli.Command{
	Name:      "start",
	Usage:     "start the process of a created container",
	ArgsUsage: "<container-id>",
	Action: func(ctx *cli.Context) error {
		if err := fastcmd.Error(); err != nil {
			return err // the C command got past its point of no return
		}
		if err := checkArgs(ctx, 1, 1); err != nil {
			return err
		}
		c, err := loadLockedLite(ctx)
		if err != nil {
			return err
		}
		relay, err := listenNotify(c)
		if err == nil {
			err = c.Start()
		}
		// kill or delete must not wait for the container to get ready.
		c.Unlock()
		defer relay.Close()
		if err != nil || relay == nil {
			return err
		}
		pid := c.State().InitPid
		return relay.Relay(pid, false)
	},
}

// listenNotify starts the NOTIFY_SOCKET relay of a created container when
// berth itself was given NOTIFY_SOCKET (nil otherwise).
func listenNotify(c *libcontainer.Container) (*libcontainer.NotifyRelay, error) {
	host := os.Getenv("NOTIFY_SOCKET")
	if host == "" {
		return nil, nil
	}
	return c.ListenNotify(host)
}

// lockedAction is the action of a command whose only argument is the
// container id: fn runs with the container's lock held.
func lockedAction(fn func(*libcontainer.Container) error) cli.ActionFunc {
	return func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, 1); err != nil {
			return err
		}
		c, err := loadLockedLite(ctx)
		if err != nil {
			return err
		}
		defer c.Unlock()
		return fn(c)
	}
}

// loadContainer loads the state (not the config) of the container named
// by the first argument, for commands that only report on it (no lock:
// state.json is replaced atomically).
func loadContainer(ctx *cli.Context) (*libcontainer.Container, error) {
	return loadWith(ctx, libcontainer.LoadState)
}

// loadLocked loads the container named by the first argument and takes
// its lock.
func loadLocked(ctx *cli.Context) (*libcontainer.Container, error) {
	return loadWith(ctx, libcontainer.LoadLocked)
}

// loadLockedLite is loadLocked for commands that read no more of the config
// than its rootfs, namespaces and hooks (start, kill, delete, pause, resume).
func loadLockedLite(ctx *cli.Context) (*libcontainer.Container, error) {
	return loadWith(ctx, libcontainer.LoadLockedLite)
}

// containerRef returns --root and the container id of the first argument.
func containerRef(ctx *cli.Context) (root, id string, err error) {
	if id, err = containerID(ctx); err != nil {
		return "", "", err
	}
	if root, err = rootDir(ctx); err != nil {
		return "", "", err
	}
	return root, id, nil
}

func loadWith(ctx *cli.Context, load func(root, id string) (*libcontainer.Container, error)) (*libcontainer.Container, error) {
	root, id, err := containerRef(ctx)
	if err != nil {
		return nil, err
	}
	return load(root, id)
}
