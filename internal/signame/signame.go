// Package signame reads a signal as `kill` takes it on the command line.
// internal/fastcmd's C parser reads the same words before Go starts; a
// test there pins the two together.
package signame

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Parse accepts "KILL", "SIGKILL", "kill", "9" and "RTMIN+3"; 0
// only checks that the container runs (kill(2)'s null signal), as runc.
func Parse(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q: out of range 0-64", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	for _, base := range []struct {
		prefix string
		num    int
		dir    int
	}{{"SIGRTMIN+", 34, 1}, {"SIGRTMAX-", 64, -1}} {
		if rest, ok := strings.CutPrefix(name, base.prefix); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 0 && n <= 30 {
				return unix.Signal(base.num + base.dir*n), nil
			}
		}
	}
	switch name {
	case "SIGRTMIN":
		return unix.Signal(34), nil
	case "SIGRTMAX":
		return unix.Signal(64), nil
	}
	return 0, fmt.Errorf("invalid signal %q: unknown signal name", s)
}
