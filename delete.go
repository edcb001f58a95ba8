package main

import (
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/berth-runtime/berth/internal/fastcmd"
	"github.com/berth-runtime/berth/libcontainer"
)

var deleteCommand = &cli.Command{
	Name:      "delete",
	Usage:     "delete a container and everything it owns",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "kill the container first if it still runs"},
	},
	Action: func(ctx *cli.Context) error {
		if err := fastcmd.Error(); err != nil {
			return err // the C command got past its point of no return
		}
		if err := checkArgs(ctx, 1, 1); err != nil {
			return err
		}
		force := ctx.Bool("force")
		load := libcontainer.LoadLockedLite
		if force {
			// Bounded: see LoadForDelete.
			load = libcontainer.LoadForDelete
		}
		c, err := loadWith(ctx, load)
		if err != nil {
			if force && (errors.Is(err, libcontainer.ErrNotExist) || errors.Is(err, libcontainer.ErrBroken)) {
				// Already gone is success for --force (the shims call
				// delete, then delete --force); a half-made directory
				// from an interrupted create goes too.
				root, rerr := rootDir(ctx)
				if rerr != nil {
					return rerr
				}
				return libcontainer.RemoveBroken(root, ctx.Args().First())
			}
			return err
		}
		defer c.Unlock()
		return c.Delete(force)
	},
}
