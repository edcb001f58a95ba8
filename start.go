package main

import (
	"github.com/urfave/cli/v2"

	"github.com/berth-runtime/berth/libcontainer"
)

var startCommand = &cli.Command{
	Name:      "start",
	Usage:     "start the process of a created container",
	ArgsUsage: "<container-id>",
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, 1); err != nil {
			return err
		}
		c, err := loadLocked(ctx)
		if err != nil {
			return err
		}
		defer c.Unlock()
		return c.Start()
	},
}

// loadLocked loads the container named by the first argument and takes
// its lock.
func loadLocked(ctx *cli.Context) (*libcontainer.Container, error) {
	id, err := containerID(ctx)
	if err != nil {
		return nil, err
	}
	return libcontainer.LoadLocked(rootDir(ctx), id)
}
