package libcontainer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/internal/fault"
	"github.com/berth-runtime/berth/internal/sigfwd"
)

// runHooks runs each hook with the state on stdin, in order, and stops at
// the first failure. kind names the hook list in errors ("createRuntime").
// A hook without env of its own gets inherit (as runc's hooks inherit
// its environment, and startContainer ones the process's).
func runHooks(kind string, hooks []specs.Hook, st *specs.State, inherit []string) error {
	if len(hooks) == 0 {
		return nil
	}
	stdin, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("%s hooks: encode state: %w", kind, err)
	}
	for i := range hooks {
		if err := runHook(kind, &hooks[i], stdin, inherit); err != nil {
			return fmt.Errorf("error running %s hook #%d: %s: %w", kind, i, hooks[i].Path, err)
		}
	}
	return nil
}

// runHooksWarn runs every hook even when some fail (poststop: the spec
// says its failures are only warnings) and returns the failures.
func runHooksWarn(kind string, hooks []specs.Hook, st *specs.State, inherit []string) []error {
	if len(hooks) == 0 {
		return nil
	}
	stdin, err := json.Marshal(st)
	if err != nil {
		return []error{fmt.Errorf("%s hooks: encode state: %w", kind, err)}
	}
	var errs []error
	for i := range hooks {
		if err := runHook(kind, &hooks[i], stdin, inherit); err != nil {
			errs = append(errs, fmt.Errorf("error running %s hook #%d: %s: %w", kind, i, hooks[i].Path, err))
		}
	}
	return errs
}

func runHook(kind string, h *specs.Hook, stdin []byte, inherit []string) error {
	ctx := context.Background()
	if h.Timeout != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, h.Path)
	if len(h.Args) > 0 {
		cmd.Args = h.Args // args[0] is the hook's argv[0], as in execv
	}
	cmd.Env = h.Env
	if cmd.Env == nil {
		cmd.Env = inherit
	}
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Stdin = bytes.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	// A hook that forks a daemon keeps our pipe open; do not wait for it.
	cmd.WaitDelay = time.Second
	err := sigfwd.Start(cmd)
	if err == nil {
		fault.Point("hook:" + kind) // berth killed while the hook runs
		err = cmd.Wait()
	}
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("timed out after %ds", *h.Timeout)
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) || errors.Is(err, exec.ErrWaitDelay) {
			if msg := oneLine(out.String()); msg != "" {
				return fmt.Errorf("%w: %s", err, msg)
			}
		}
		return err
	}
	return nil
}

// oneLine folds hook output into one bounded line for error messages.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 512 {
		s = s[:512] + "..."
	}
	return s
}

// hostEnv is berth's own environment without its internal _BERTH_
// variables: what a host-side hook without env of its own inherits.
func hostEnv() []string {
	env := os.Environ()
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "_BERTH_") {
			out = append(out, kv)
		}
	}
	return out
}
