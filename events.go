package main

import (
	"encoding/json"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/berth-runtime/berth/libcontainer"
)

var eventsCommand = &cli.Command{
	Name:      "events",
	Usage:     "print a container's events (stats every interval, OOMs) as JSON lines until it stops",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.DurationFlag{Name: "interval", Value: 5e9, Usage: "time between stats events"},
		&cli.BoolFlag{Name: "stats", Usage: "print the stats once and exit"},
	},
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, 1); err != nil {
			return err
		}
		c, err := loadContainer(ctx)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(os.Stdout)
		emit := func(e *libcontainer.Event) error { return enc.Encode(e) }
		if ctx.Bool("stats") {
			s, err := c.Stats()
			if err != nil {
				return err
			}
			return emit(&libcontainer.Event{Type: "stats", ID: c.ID(), Data: s})
		}
		return c.Events(ctx.Duration("interval"), emit)
	},
}
