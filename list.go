package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/berth-runtime/berth/libcontainer"
)

var listCommand = &cli.Command{
	Name:  "list",
	Usage: "list the containers under --root",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the ids"},
	},
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 0, 0); err != nil {
			return err
		}
		root, err := rootDir(ctx)
		if err != nil {
			return err
		}
		// Each container's state is a few KB of garbage: at the default
		// GOGC a list of 1000 ran two collections (~20 ms of CPU).
		debug.SetGCPercent(400)
		// One write at the end instead of one per cell.
		out := bufio.NewWriterSize(os.Stdout, 64<<10)
		if ctx.Bool("quiet") {
			cs, err := libcontainer.List(root)
			if err != nil {
				return err
			}
			for _, c := range cs {
				fmt.Fprintln(out, c.ID())
			}
			return flush(out)
		}
		format := ctx.String("format")
		if format != "json" && format != "table" {
			return fmt.Errorf("--format: unknown format %q (want table or json)", format)
		}
		infos, err := libcontainer.ListInfos(root)
		if err != nil {
			return err
		}
		if format == "json" {
			if err := json.NewEncoder(out).Encode(infos); err != nil {
				return err
			}
			return flush(out)
		}
		w := tabwriter.NewWriter(out, 12, 1, 3, ' ', 0)
		fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
		for _, i := range infos {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", i.ID, i.Pid, i.Status, i.Bundle, i.Created.Format(time.RFC3339Nano), i.Owner)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		return flush(out)
	},
}

func flush(w *bufio.Writer) error {
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
