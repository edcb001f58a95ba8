package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/internal/callerfds"
	"github.com/berth-runtime/berth/libcontainer"
	"github.com/berth-runtime/berth/specconv"
)

var execCommand = &cli.Command{
	Name:      "exec",
	Usage:     "execute a new process inside a container",
	ArgsUsage: "<container-id> <command> [args...]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master with --tty"},
		&cli.StringFlag{Name: "cwd", Usage: "working directory in the container"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set an environment variable (KEY=VALUE)"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-terminal"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "uid[:gid] to run as"},
		&cli.Int64SliceFlag{Name: "additional-gids", Aliases: []string{"g"}, Usage: "additional gids"},
		&cli.StringFlag{Name: "process", Aliases: []string{"p"}, Usage: "process.json (an OCI process) instead of the arguments"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "do not wait for the process"},
		&cli.StringFlag{Name: "pid-file", Usage: "file to write the process's pid to"},
		&cli.StringFlag{Name: "pidfd-socket", Usage: "unix socket that receives a pidfd of the process"},
		&cli.StringFlag{Name: "process-label", Usage: "SELinux label of the process"},
		&cli.StringFlag{Name: "apparmor", Usage: "AppArmor profile of the process"},
		&cli.BoolFlag{Name: "no-new-privs", Usage: "set no_new_privs for the process"},
		&cli.StringSliceFlag{Name: "cap", Aliases: []string{"c"}, Usage: "add a capability (bounding, effective and permitted sets)"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass this many fds after stdio to the process"},
		&cli.StringSliceFlag{Name: "cgroup", Usage: "run the process in an existing sub-cgroup of the container's: path, or on cgroup v1 controller[,controller...]:path"},
		&cli.BoolFlag{Name: "ignore-paused", Usage: "exec even if the container is paused"},
	},
	Action: func(ctx *cli.Context) error {
		if ctx.NArg() < 1 {
			return fmt.Errorf("exec: a container id is required")
		}
		// Past the usage check, whatever keeps the process from running
		// exits 255 (as runc): not a status the process could have.
		return withStatus(255, runExec(ctx))
	},
}

// runExec runs the process and returns its exit status as an exitError.
func runExec(ctx *cli.Context) error {
	detach := ctx.Bool("detach")
	var sigs *caught
	if !detach {
		sigs = caughtSignals(ctx)
	}
	preserve := ctx.Int("preserve-fds")
	if err := checkPassed(0, preserve, callerfds.Passed()); err != nil {
		return err
	}
	c, err := loadLocked(ctx)
	if err != nil {
		return err
	}
	p, err := execProcess(ctx, c.State().Config)
	if err != nil {
		c.Unlock()
		return err
	}
	opts := &libcontainer.ExecOpts{
		Process:       p,
		ConsoleSocket: ctx.String("console-socket"),
		PidfdSocket:   ctx.String("pidfd-socket"),
		PidFile:       ctx.String("pid-file"),
		PreserveFDs:   preserve,
		IgnorePaused:  ctx.Bool("ignore-paused"),
		Subreaper:     !detach,
		SubCgroups:    ctx.StringSlice("cgroup"),
	}
	var relay *ttyRelay
	if !detach && p.Terminal && opts.ConsoleSocket == "" {
		if relay, err = newTTYRelay(); err != nil {
			c.Unlock()
			return err
		}
		opts.ConsoleConn = relay.remote
	}
	sigs.waitFirst()
	pid, err := c.Exec(opts)
	// Other commands on this container need not wait for our process.
	c.Unlock()
	if relay != nil {
		relay.remote.Close()
		if err != nil {
			relay.close()
		}
	}
	if err != nil || detach {
		return err
	}
	return &exitError{waitForeground(pid, sigs, relay)}
}

// execProcess builds the process from --process, or from the container's
// own process with the command line's changes.
func execProcess(ctx *cli.Context, cfg *configs.Config) (*configs.Process, error) {
	if path := ctx.String("process"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--process: %w", err)
		}
		var sp specs.Process
		if err := json.Unmarshal(b, &sp); err != nil {
			return nil, fmt.Errorf("--process %s: %w", path, err)
		}
		p, err := specconv.ConvertProcess(&sp, cfg)
		if err != nil {
			return nil, fmt.Errorf("--process %s: %w", path, err)
		}
		// As runc: config.json's execCPUAffinity unless process.json has one.
		if p.ExecCPUAffinity == nil && cfg.Process != nil {
			p.ExecCPUAffinity = cfg.Process.ExecCPUAffinity
		}
		return p, nil
	}
	args := ctx.Args().Tail()
	if len(args) == 0 {
		return nil, fmt.Errorf("exec: a command is required after the container id")
	}
	if cfg.Process == nil {
		return nil, fmt.Errorf("exec: the container has no process to take defaults from")
	}
	p := *cfg.Process
	p.Args = args
	p.Terminal = ctx.Bool("tty")
	p.ConsoleSize = nil
	for _, e := range ctx.StringSlice("env") {
		if !strings.Contains(e, "=") {
			return nil, fmt.Errorf("--env %q: must be KEY=VALUE", e)
		}
	}
	// --env overrides the config's variable of the same name.
	p.Env = specconv.DedupEnv(append(slices.Clip(p.Env), ctx.StringSlice("env")...))
	if cwd := ctx.String("cwd"); cwd != "" {
		p.Cwd = cwd
	}
	// Set, even to "": an empty -u is an error, not the default user.
	if ctx.IsSet("user") {
		uid, gid, hasGID, err := parseUser(ctx.String("user"))
		if err != nil {
			return nil, err
		}
		p.UID = uid
		if hasGID {
			p.GID = gid
		}
	}
	if gids := ctx.Int64Slice("additional-gids"); len(gids) > 0 {
		p.AdditionalGids = nil
		for _, g := range gids {
			if g < 0 || g > 1<<32-2 {
				return nil, fmt.Errorf("--additional-gids: %d is out of range", g)
			}
			p.AdditionalGids = append(p.AdditionalGids, uint32(g))
		}
	}
	if ctx.Bool("no-new-privs") {
		p.NoNewPrivileges = true
	}
	if a := ctx.String("apparmor"); a != "" {
		p.ApparmorProfile = a
	}
	if l := ctx.String("process-label"); l != "" {
		p.SelinuxLabel = l
	}
	if names := ctx.StringSlice("cap"); len(names) > 0 {
		caps, err := addCaps(p.Capabilities, names)
		if err != nil {
			return nil, err
		}
		p.Capabilities = caps
	}
	return &p, nil
}

// addCaps adds --cap names to the bounding, effective and permitted sets,
// and to ambient those the config makes inheritable (as runc: the kernel
// raises an ambient cap only if it is inheritable). Inheritable stays as
// it was (CVE-2022-29162: an inheritable cap would survive the exec of a
// file with inheritable file caps).
func addCaps(base *configs.Capabilities, names []string) (*configs.Capabilities, error) {
	var c configs.Capabilities
	if base != nil {
		c = *base
	}
	sp := &specs.LinuxCapabilities{}
	for _, n := range names {
		n = strings.ToUpper(n)
		if !strings.HasPrefix(n, "CAP_") {
			n = "CAP_" + n
		}
		sp.Bounding = append(sp.Bounding, n)
	}
	nums, err := specconv.CapabilityNumbers(sp.Bounding)
	if err != nil {
		return nil, fmt.Errorf("--cap: %w", err)
	}
	add := func(set []int) []int {
		out := slices.Clone(set)
		for _, n := range nums {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
		return out
	}
	c.Bounding, c.Effective, c.Permitted = add(c.Bounding), add(c.Effective), add(c.Permitted)
	c.Ambient = slices.Clone(c.Ambient)
	for _, n := range nums {
		if slices.Contains(c.Inheritable, n) && !slices.Contains(c.Ambient, n) {
			c.Ambient = append(c.Ambient, n)
		}
	}
	return &c, nil
}
