package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

var psCommand = &cli.Command{
	Name:      "ps",
	Usage:     "list the processes of a container",
	ArgsUsage: "<container-id> [ps options]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table (host ps output) or json (list of pids)"},
	},
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, -1); err != nil {
			return err
		}
		format := ctx.String("format")
		if format != "table" && format != "json" {
			return fmt.Errorf("ps: invalid format %q: must be table or json", format)
		}
		c, err := loadContainer(ctx)
		if err != nil {
			return err
		}
		pids, err := c.Processes()
		if err != nil {
			return err
		}
		if format == "json" {
			if pids == nil {
				pids = []int{}
			}
			return json.NewEncoder(os.Stdout).Encode(pids)
		}
		args := ctx.Args().Slice()[1:]
		if len(args) > 0 && args[0] == "--" {
			args = args[1:]
		}
		if len(args) == 0 {
			args = []string{"-ef"}
		}
		var stderr bytes.Buffer
		cmd := exec.Command("ps", args...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			msg := strings.Join(strings.Fields(stderr.String()), " ")
			return fmt.Errorf("ps: run ps %s: %v: %s", strings.Join(args, " "), err, msg)
		}
		table, err := filterPs(string(out), pids)
		if err != nil {
			return err
		}
		_, err = os.Stdout.WriteString(table)
		return err
	},
}

// filterPs keeps ps's header and the lines whose PID column is one of pids.
func filterPs(out string, pids []int) (string, error) {
	lines := strings.Split(out, "\n")
	col := slices.Index(strings.Fields(lines[0]), "PID")
	if col < 0 {
		return "", errors.New("ps: no PID column in the ps output header (add -o pid)")
	}
	want := make(map[int]bool, len(pids))
	for _, p := range pids {
		want[p] = true
	}
	var b strings.Builder
	b.WriteString(lines[0] + "\n")
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) <= col {
			continue
		}
		if p, err := strconv.Atoi(f[col]); err == nil && want[p] {
			b.WriteString(line + "\n")
		}
	}
	return b.String(), nil
}
