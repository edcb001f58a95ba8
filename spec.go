package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/berth-runtime/berth/cgroups"
	"github.com/berth-runtime/berth/specconv"
)

var specCommand = &cli.Command{
	Name:  "spec",
	Usage: "write a default config.json into the bundle",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "bundle directory (default: the current directory)"},
		&cli.BoolFlag{Name: "rootless", Usage: "write a config for a container run by an unprivileged user"},
	},
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 0, 0); err != nil {
			return err
		}
		s, err := specconv.Example(ctx.Bool("rootless"))
		if err != nil {
			return err
		}
		// As runc's: a cgroup namespace only on a cgroup2-only host; on v1
		// and hybrid ones the container sees its host cgroup paths (what
		// tools there read from /proc/self/cgroup).
		if mode, err := cgroups.HostMode(); err != nil || mode != cgroups.ModeUnified {
			specconv.DropNamespace(s, specs.CgroupNamespace)
		}
		path := filepath.Join(ctx.String("bundle"), "config.json")
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("spec: %s already exists; remove it first", path)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("spec: %w", err)
		}
		b, err := json.MarshalIndent(s, "", "\t")
		if err != nil {
			return fmt.Errorf("spec: %w", err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o666); err != nil {
			return fmt.Errorf("spec: %w", err)
		}
		return nil
	},
}

var featuresCommand = &cli.Command{
	Name:  "features",
	Usage: "print the OCI features document: what this berth supports",
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 0, 0); err != nil {
			return err
		}
		f, err := specconv.Features(version)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "    ")
		return enc.Encode(f)
	},
}
