package main

import (
	"fmt"
	"strconv"

	"github.com/berth-runtime/berth/internal/callerfds"
)

// listenCount is how many socket-activation fds (from 3 up) LISTEN_FDS
// hands berth: none unless LISTEN_PID is berth's own pid, sd_listen_fds'
// rule. A LISTEN_FDS left in the environment by a socket-activated
// ancestor names that ancestor's fds, not berth's.
func listenCount(fds, pid string, self int) int {
	if p, err := strconv.Atoi(pid); err != nil || p != self {
		return 0
	}
	n, err := strconv.Atoi(fds)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// checkPassed refuses to pass on an fd berth's caller did not pass (it
// would be one of berth's own): listen fds come first from 3, then the
// --preserve-fds ones; passed is how many the caller passed from 3 up.
func checkPassed(listen, preserve, passed int) error {
	if preserve < 0 {
		return fmt.Errorf("--preserve-fds: %d is negative", preserve)
	}
	fd := callerfds.Missing(listen+preserve, passed)
	switch {
	case fd < 0:
		return nil
	case fd < 3+listen:
		return fmt.Errorf("LISTEN_FDS=%d: fd %d was not passed to berth", listen, fd)
	}
	return fmt.Errorf("--preserve-fds %d: fd %d was not passed to berth", preserve, fd)
}
