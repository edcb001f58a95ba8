package main

import (
	"github.com/urfave/cli/v2"

	"github.com/berth-runtime/berth/libcontainer"
)

var startCommand = &cli.Command{
	Name:      "start",
	Usage:     "start the process of a created container",
	ArgsUsage: "<container-id>",
	Action:    lockedAction((*libcontainer.Container).Start),
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
	id, err := containerID(ctx)
	if err != nil {
		return nil, err
	}
	root, err := rootDir(ctx)
	if err != nil {
		return nil, err
	}
	return libcontainer.LoadState(root, id)
}

// loadLocked loads the container named by the first argument and takes
// its lock.
func loadLocked(ctx *cli.Context) (*libcontainer.Container, error) {
	id, err := containerID(ctx)
	if err != nil {
		return nil, err
	}
	root, err := rootDir(ctx)
	if err != nil {
		return nil, err
	}
	return libcontainer.LoadLocked(root, id)
}

// loadLockedLite is loadLocked for commands that read no more of the config
// than its rootfs, namespaces and hooks (start, kill, delete, pause, resume).
func loadLockedLite(ctx *cli.Context) (*libcontainer.Container, error) {
	id, err := containerID(ctx)
	if err != nil {
		return nil, err
	}
	root, err := rootDir(ctx)
	if err != nil {
		return nil, err
	}
	return libcontainer.LoadLockedLite(root, id)
}
