// Command berth is an OCI container runtime with runc's command line.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	seccomp "github.com/seccomp/libseccomp-golang"
	"github.com/urfave/cli/v2"

	"github.com/berth-runtime/berth/internal/logs"
	"github.com/berth-runtime/berth/libcontainer"
	_ "github.com/berth-runtime/berth/nsenter" // the constructor runs before main in `berth init`
)

// Set by the Makefile.
var (
	version   = "0.1.0-dev"
	gitCommit = "unknown"
)

// exitError carries an exit status without an error message (`run`
// exits with the container's status).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	// `berth init` skips the CLI: it is on every container's start path.
	if len(os.Args) == 2 && os.Args[1] == "init" {
		err := libcontainer.Init()
		fmt.Fprintf(os.Stderr, "berth init: %v\n", err)
		os.Exit(1)
	}
	app := newApp()
	if err := app.Run(os.Args); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		logs.Error(strings.ReplaceAll(err.Error(), "\n", " "))
		os.Exit(1)
	}
}

func versionString() string {
	maj, min, mic := seccomp.GetLibraryVersion()
	return fmt.Sprintf("berth version %s\ncommit: %s\nspec: %s\nlibseccomp: %d.%d.%d",
		version, gitCommit, specs.Version, maj, min, mic)
}

func newApp() *cli.App {
	cli.VersionPrinter = func(*cli.Context) { fmt.Println(versionString()) }
	app := &cli.App{
		Name:    "berth",
		Usage:   "run OCI containers (runc-compatible command line)",
		Version: version,
		// runc's flags take "-e A=b,c" and "--cgroup cpu,memory:sub" whole.
		DisableSliceFlagSeparator: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "root", Value: "/run/berth", Usage: "directory for container state"},
			&cli.StringFlag{Name: "log", Usage: "log file (default: stderr)"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
			&cli.BoolFlag{Name: "debug", Usage: "log debug output, with the duration of each phase"},
			&cli.BoolFlag{Name: "systemd-cgroup", Usage: "manage cgroups through systemd (cgroupsPath slice:prefix:name)"},
			&cli.StringFlag{Name: "rootless", Value: "auto", Usage: "rootless mode: true, false or auto"},
			&cli.StringFlag{Name: "criu", Hidden: true, Usage: "accepted for runc compatibility"},
		},
		Before: func(ctx *cli.Context) error {
			return logs.Setup(ctx.String("log"), ctx.String("log-format"), ctx.Bool("debug"))
		},
		Commands: []*cli.Command{
			createCommand, startCommand, runCommand, stateCommand, killCommand,
			deleteCommand, listCommand, specCommand, featuresCommand,
			execCommand, psCommand, pauseCommand, resumeCommand, updateCommand,
			eventsCommand, checkpointCommand, restoreCommand,
		},
		HideHelpCommand: true,
		ExitErrHandler:  func(*cli.Context, error) {}, // main reports errors
		OnUsageError:    usageError,
	}
	for _, c := range app.Commands {
		c.OnUsageError = usageError
	}
	return app
}

// usageError keeps a bad flag to the one-line error every failure gets,
// instead of urfave's usage text.
func usageError(ctx *cli.Context, err error, _ bool) error {
	if ctx.Command != nil && ctx.Command.Name != "" && ctx.Command.Name != ctx.App.Name {
		return fmt.Errorf("%s: %w", ctx.Command.Name, err)
	}
	return err
}

func notImplemented(name, usage string) *cli.Command {
	return &cli.Command{
		Name:            name,
		Usage:           usage + " (not implemented yet)",
		SkipFlagParsing: true,
		Action: func(*cli.Context) error {
			return fmt.Errorf("%s: not implemented yet", name)
		},
	}
}

// containerID returns the single required argument.
func containerID(ctx *cli.Context) (string, error) {
	if ctx.NArg() < 1 {
		return "", fmt.Errorf("%s: a container id is required", ctx.Command.Name)
	}
	id := ctx.Args().First()
	return id, libcontainer.ValidateID(id)
}

func checkArgs(ctx *cli.Context, min, max int) error {
	n := ctx.NArg()
	if n < min || (max >= 0 && n > max) {
		return fmt.Errorf("%s: wrong number of arguments (%d): usage: berth %s %s", ctx.Command.Name, n, ctx.Command.Name, ctx.Command.ArgsUsage)
	}
	return nil
}

func rootDir(ctx *cli.Context) string { return ctx.String("root") }

// rootless resolves --rootless (auto: when not running as root).
func rootless(ctx *cli.Context) bool {
	switch ctx.String("rootless") {
	case "true":
		return true
	case "false":
		return false
	}
	return os.Geteuid() != 0
}
