package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
)

// updateFlagValues returns update's flags by name, as given before the
// container id or after it (runc's CLI takes `update ID --memory 64M`;
// urfave/cli stops parsing at the id, so the tail is parsed here with the
// command's own flag definitions).
func updateFlagValues(ctx *cli.Context) (map[string]string, error) {
	names := append([]string{"resources"}, updateValueFlags...)
	flags := map[string]string{}
	for _, name := range names {
		if ctx.IsSet(name) {
			flags[name] = ctx.String(name)
		}
	}
	tail := ctx.Args().Tail()
	if len(tail) == 0 {
		return flags, nil
	}
	fs := flag.NewFlagSet("update", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	canonical := map[string]string{}
	for _, f := range ctx.Command.Flags {
		if err := f.Apply(fs); err != nil {
			return nil, fmt.Errorf("update: %w", err)
		}
		n := f.Names()
		for _, alias := range n {
			canonical[alias] = n[0]
		}
	}
	if err := fs.Parse(tail); err != nil {
		return nil, fmt.Errorf("update: after the container id: %w", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("update: wrong number of arguments (%d): usage: berth update [flags] <container-id> [flags]", 1+fs.NArg())
	}
	fs.Visit(func(f *flag.Flag) { flags[canonical[f.Name]] = f.Value.String() })
	return flags, nil
}
