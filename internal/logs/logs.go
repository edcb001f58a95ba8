// Package logs writes berth's log lines: to stderr, and to --log in the
// text or json format the containerd shim and podman parse.
package logs

import (
	"encoding/json"
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

// Debugf logs only with --debug.
func Debugf(format string, args ...any) {
	if debug {
		write("debug", fmt.Sprintf(format, args...), out == nil)
	}
}

// Warnf logs a warning to stderr and the log file.
func Warnf(format string, args ...any) {
	write("warning", fmt.Sprintf(format, args...), true)
}

// Error logs the error that ends the command. stderr gets "berth: msg".
func Error(msg string) {
	write("error", msg, true)
}

func write(level, msg string, toStderr bool) {
	mu.Lock()
	defer mu.Unlock()
	now := time.Now()
	if out != nil {
		if asJSON {
			b, _ := json.Marshal(struct {
				Level string `json:"level"`
				Msg   string `json:"msg"`
				Time  string `json:"time"`
			}{level, msg, now.Format(time.RFC3339Nano)})
			out.Write(append(b, '\n'))
		} else {
			fmt.Fprintf(out, "time=%q level=%s msg=%q\n", now.Format(time.RFC3339Nano), level, msg)
		}
	}
	if toStderr {
		if level == "error" {
			fmt.Fprintf(os.Stderr, "berth: %s\n", msg)
		} else {
			fmt.Fprintf(os.Stderr, "berth: %s: %s\n", level, msg)
		}
	}
}
