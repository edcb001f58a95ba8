// Command berth is an OCI container runtime with runc's command line.
//
// Go's main is not where every berth process starts. C constructors run
// first, in priority order, and pick the process's mode from argv and the
// _BERTH_* variables berth sets for its own children (docs/ARCHITECTURE.md,
// "Process modes"):
//
//	101 internal/callerfds  every command: count the caller's fds, mark them close-on-exec
//	101 internal/sigfwd     foreground run/exec: hold forwarded signals; _BERTH_SIGMASK: the hook trampoline
//	102 nsenter             _BERTH_INITPIPE: `berth init` joins and creates namespaces, C init never returns
//	103 internal/fastcmd    start/kill/delete of a container with a fast record: done in C, _exit
//	104 internal/prefault   any process that goes on to start Go: map the code first
//
// Only what falls through reaches main below.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	seccomp "github.com/seccomp/libseccomp-golang"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	_ "github.com/berth-runtime/berth/internal/libcshim" // links libseccomp under musl
	"github.com/berth-runtime/berth/internal/logs"
	_ "github.com/berth-runtime/berth/internal/prefault" // maps the code before Go starts
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
	early := startEarly(os.Args)
	app := newApp()
	app.Metadata = map[string]any{earlyKey: early}
	if err := app.Run(os.Args); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		logs.Error(strings.ReplaceAll(err.Error(), "\n", " "))
		var se *statusError
		if errors.As(err, &se) {
			os.Exit(se.code)
		}
		os.Exit(1)
	}
}

func versionString() string {
	maj, min, mic := seccomp.GetLibraryVersion()
	s := fmt.Sprintf("%s version %s\ncommit: %s\nspec: %s\nlibseccomp: %d.%d.%d",
		versionName(), version, gitCommit, specs.Version, maj, min, mic)
	if versionName() != "berth" {
		s += "\nruntime: berth " + version // the number above is berth's
	}
	return s
}

func newApp() *cli.App {
	cli.VersionPrinter = func(*cli.Context) { fmt.Println(versionString()) }
	app := &cli.App{
		Name:    progName(),
		Usage:   "Open Container Initiative runtime (berth, with runc's command line)",
		Version: version,
		// runc's flags take "-e A=b,c" and "--cgroup cpu,memory:sub" whole.
		DisableSliceFlagSeparator: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "root", Usage: "directory for container state (default: /run/berth, or $XDG_RUNTIME_DIR/berth for a non-root caller)"},
			&cli.StringFlag{Name: "log", Usage: "log file (default: stderr)"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
			&cli.BoolFlag{Name: "debug", Usage: "log debug output, with the duration of each phase"},
			&cli.BoolFlag{Name: "systemd-cgroup", Usage: "manage cgroups through systemd (cgroupsPath slice:prefix:name)"},
			&cli.StringFlag{Name: "cgroup-manager", Usage: "cgroupfs (default), systemd (as --systemd-cgroup) or disabled (no cgroup of the container's own, as crun's option)"},
			&cli.StringFlag{Name: "rootless", Value: "auto", Usage: "rootless mode: true, false or auto"},
			&cli.StringFlag{Name: "criu", Hidden: true, Usage: "accepted for runc compatibility"},
		},
		Before: func(ctx *cli.Context) error {
			if err := logs.Setup(ctx.String("log"), ctx.String("log-format"), ctx.Bool("debug")); err != nil {
				return err
			}
			if _, _, err := parseCgroupManager(ctx.String("cgroup-manager"), ctx.Bool("systemd-cgroup")); err != nil {
				return err
			}
			return checkRootless(ctx.String("rootless"))
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
		HideHelpCommand: true,
		Action: func(ctx *cli.Context) error {
			// Flags are not parsed (any of runc's get the same answer),
			// so -h is looked for here.
			if a := ctx.Args().First(); a == "-h" || a == "--help" {
				return cli.ShowCommandHelp(ctx.Lineage()[1], name)
			}
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

// rootDir is --root, else /run/berth for root and $XDG_RUNTIME_DIR/berth
// for anyone else (who cannot write /run), as runc does; one that another
// user owns or may write is refused.
func rootDir(ctx *cli.Context) (root string, err error) {
	euid := os.Geteuid()
	if ctx.IsSet("root") {
		root = ctx.String("root")
	} else if root, err = defaultRoot(euid, os.Getenv("XDG_RUNTIME_DIR")); err != nil {
		return "", err
	}
	if err := libcontainer.CheckRoot(root, euid); err != nil {
		return "", err
	}
	return root, nil
}

func defaultRoot(euid int, xdg string) (string, error) {
	if euid == 0 {
		return "/run/berth", nil
	}
	if xdg == "" {
		return "", fmt.Errorf("--root: not given and XDG_RUNTIME_DIR is not set (berth runs as uid %d and cannot use /run/berth)", euid)
	}
	if err := unix.Access(xdg, unix.W_OK|unix.X_OK); err != nil {
		return "", fmt.Errorf("--root: not given and XDG_RUNTIME_DIR %s is not a directory uid %d can write: %w", xdg, euid, err)
	}
	return filepath.Join(xdg, "berth"), nil
}

// cgroupManager resolves --cgroup-manager and --systemd-cgroup (validated
// in Before).
func cgroupManager(ctx *cli.Context) (systemd, disabled bool) {
	systemd, disabled, _ = parseCgroupManager(ctx.String("cgroup-manager"), ctx.Bool("systemd-cgroup"))
	return systemd, disabled
}

func parseCgroupManager(v string, systemdFlag bool) (systemd, disabled bool, err error) {
	switch v {
	case "":
		return systemdFlag, false, nil
	case "systemd":
		return true, false, nil
	case "cgroupfs", "disabled":
		if systemdFlag {
			return false, false, fmt.Errorf("--cgroup-manager=%s contradicts --systemd-cgroup", v)
		}
		return false, v == "disabled", nil
	}
	return false, false, fmt.Errorf("--cgroup-manager: %q is not cgroupfs, systemd or disabled", v)
}

// rootless resolves --rootless (validated in Before).
func rootless(ctx *cli.Context) bool {
	r, _ := parseRootless(ctx.String("rootless"))
	return r
}

// checkRootless validates --rootless without resolving auto (which reads
// /proc/self/uid_map), for commands that never ask.
func checkRootless(v string) error {
	switch v {
	case "true", "false", "auto", "":
		return nil
	}
	return fmt.Errorf("--rootless: %q is not true, false or auto", v)
}

// parseRootless follows runc: auto means rootless when berth is not root,
// or is root only inside a user namespace (where cgroups and devices are
// no more ours than for any other user).
func parseRootless(v string) (bool, error) {
	if err := checkRootless(v); err != nil {
		return false, err
	}
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return os.Geteuid() != 0 || inUserNS(), nil
}

// inUserNS reports whether berth runs in a user namespace other than the
// initial one, whose uid_map is the full identity mapping.
func inUserNS() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	return !isIdentityMap(string(b))
}

func isIdentityMap(m string) bool {
	f := strings.Fields(m)
	return len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295"
}
