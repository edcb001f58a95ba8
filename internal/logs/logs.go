// Package logs writes berth's log lines: to stderr, and to --log in the
// text or json format the containerd shim and podman parse. Debug lines
// are logrus's format, as runc writes them (`time="..." level=debug
// msg="..."`, or one JSON object a line with --log-format json); errors
// and warnings on stderr stay one readable "berth: ..." line.
package logs

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

var (
	mu     sync.Mutex
	out    io.Writer // the --log file, or nil
	asJSON bool
	debug  bool
)

// Setup opens the --log file (appending) and picks the format.
func Setup(path, format string, dbg bool) error {
	debug = dbg
	switch format {
	case "", "text":
	case "json":
		asJSON = true
	default:
		return fmt.Errorf("--log-format: unknown format %q (want text or json)", format)
	}
	if path == "" || path == "/dev/stderr" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_SYNC, 0o644)
	if err != nil {
		return fmt.Errorf("--log: %w", err)
	}
	out = f
	return nil
}

// Debugging reports whether --debug was given.
func Debugging() bool { return debug }

// Debugf logs only with --debug: to the --log file if there is one, else
// to stderr, formatted either way.
func Debugf(format string, args ...any) {
	if !debug {
		return
	}
	msg := fmt.Sprintf(format, args...)
	mu.Lock()
	defer mu.Unlock()
	w := out
	if w == nil {
		w = os.Stderr
	}
	w.Write(record(time.Now(), "debug", msg))
}

// Warnf logs a warning to stderr and the log file.
func Warnf(format string, args ...any) {
	write("warning", fmt.Sprintf(format, args...))
}

// Error logs the error that ends the command. stderr gets "berth: msg".
func Error(msg string) {
	write("error", msg)
}

func write(level, msg string) {
	mu.Lock()
	defer mu.Unlock()
	if out != nil {
		out.Write(record(time.Now(), level, msg))
	}
	if level == "error" {
		fmt.Fprintf(os.Stderr, "berth: %s\n", msg)
	} else {
		fmt.Fprintf(os.Stderr, "berth: %s: %s\n", level, msg)
	}
}
