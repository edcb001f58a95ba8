package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/berth-runtime/berth/cgroups"
	"github.com/berth-runtime/berth/internal/callerfds"
	"github.com/berth-runtime/berth/libcontainer"
	"github.com/berth-runtime/berth/specconv"
)

var createFlags = []cli.Flag{
	&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "bundle directory (default: the current directory)"},
	&cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master when process.terminal is true"},
	&cli.StringFlag{Name: "pid-file", Usage: "file to write the container's init pid to"},
	&cli.StringFlag{Name: "pidfd-socket", Usage: "unix socket that receives a pidfd of the container's init"},
	&cli.BoolFlag{Name: "no-pivot", Usage: "use chroot instead of pivot_root"},
	&cli.BoolFlag{Name: "no-new-keyring", Usage: "keep the caller's session keyring"},
	&cli.IntFlag{Name: "preserve-fds", Usage: "pass this many fds after stdio (3, 4, ...) to the container"},
}

var createCommand = &cli.Command{
	Name:      "create",
	Usage:     "create a container (its process waits for start)",
	ArgsUsage: "<container-id>",
	Flags:     createFlags,
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, 1); err != nil {
			return err
		}
		_, _, err := createContainer(ctx, false, nil)
		return err
	},
}

// createContainer loads the bundle and creates the container; sigs (run in
// the foreground) must have caught the first signals before anything is
// made.
func createContainer(ctx *cli.Context, foreground bool, sigs *caught) (*libcontainer.Container, *ttyRelay, error) {
	root, id, err := containerRef(ctx)
	if err != nil {
		return nil, nil, err
	}
	listen := listenCount(os.Getenv("LISTEN_FDS"), os.Getenv("LISTEN_PID"), os.Getpid())
	preserve := ctx.Int("preserve-fds")
	if err := checkPassed(listen, preserve, callerfds.Passed()); err != nil {
		return nil, nil, err
	}
	bundle := ctx.String("bundle")
	if bundle == "" {
		if bundle, err = os.Getwd(); err != nil {
			return nil, nil, fmt.Errorf("--bundle: %w", err)
		}
	}
	if bundle, err = filepath.Abs(bundle); err != nil {
		return nil, nil, fmt.Errorf("--bundle: %w", err)
	}
	spec, err := specconv.Load(bundle)
	if err != nil {
		return nil, nil, err
	}
	defaultPath := cgroups.DefaultPath(id)
	systemd, noCgroup := cgroupManager(ctx)
	if systemd {
		defaultPath = cgroups.DefaultSystemdPath(id)
	}
	notify := os.Getenv("NOTIFY_SOCKET") != ""
	if notify {
		if err := libcontainer.AddNotifySocket(spec, root, id); err != nil {
			return nil, nil, err
		}
	}
	cfg, err := specconv.Convert(spec, specconv.Options{
		Bundle:            bundle,
		NoPivot:           ctx.Bool("no-pivot"),
		NoNewKeyring:      ctx.Bool("no-new-keyring"),
		Systemd:           systemd,
		NoCgroup:          noCgroup,
		Rootless:          rootless(ctx),
		DefaultCgroupPath: defaultPath,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("config.json: %w", err)
	}
	preserve += listenEnv(cfg.Process, listen)
	opts := &libcontainer.CreateOpts{
		ID:            id,
		Config:        cfg,
		ConsoleSocket: ctx.String("console-socket"),
		PidfdSocket:   ctx.String("pidfd-socket"),
		PidFile:       ctx.String("pid-file"),
		PreserveFDs:   preserve,
		Subreaper:     foreground,
		NotifySocket:  notify,
		// run starts the container itself: the record (for a kill from
		// elsewhere) is written after start, off the path to the process.
		DeferFastRecord: ctx.Command.Name == "run",
	}
	sigs.waitFirst()
	if foreground && cfg.Process != nil && cfg.Process.Terminal && opts.ConsoleSocket == "" {
		relay, err := newTTYRelay()
		if err != nil {
			return nil, nil, err
		}
		opts.ConsoleConn = relay.remote
		c, err := libcontainer.Create(root, opts)
		relay.remote.Close()
		if err != nil {
			relay.close()
			return nil, nil, err
		}
		return c, relay, nil
	}
	c, err := libcontainer.Create(root, opts)
	return c, nil, err
}
