package libcontainer

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/logs"
)

// initLog relays berth init's --debug lines (nsenter/debuglog.h): init's
// constructor, its C or Go stage and exec's C stage write them to one
// end of a socketpair, and each line read from the other becomes a debug
// record of ours. Made only with --debug.
type initLog struct {
	done chan struct{}
}

// newInitLog returns the relay and the end init gets.
func newInitLog() (*initLog, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair for init's debug log: %w", err)
	}
	r := os.NewFile(uintptr(fds[0]), "init-log")
	l := &initLog{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		defer r.Close()
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadString('\n')
			if line = strings.TrimSuffix(line, "\n"); line != "" {
				logs.Debugf("%s", line)
			}
			if err != nil {
				return
			}
		}
	}()
	return l, os.NewFile(uintptr(fds[1]), "init-log-child"), nil
}

// wait returns once every process of init closed its end (it does so
// before waiting on exec.fifo, and at execve), or after timeout: a stuck
// init must not hold the command up for a log.
func (l *initLog) wait(timeout time.Duration) {
	if l == nil {
		return
	}
	select {
	case <-l.done:
	case <-time.After(timeout):
		logs.Debugf("init's debug log still open after %s; not waiting for it", timeout)
	}
}
