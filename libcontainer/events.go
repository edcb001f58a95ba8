package libcontainer

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/cgroups"
	"github.com/berth-runtime/berth/internal/logs"
)

// Event is one line of `events` (runc's shape).
type Event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

// Events calls emit with a stats event every interval and an oom event
// whenever the kernel reports an OOM in the container's memory cgroup,
// until the container's init exits (or emit fails). It waits in poll(2)
// on init's pidfd and the OOM notification fd: no sleep loop.
func (c *Container) Events(interval time.Duration, emit func(*Event) error) error {
	if interval <= 0 {
		return fmt.Errorf("events: interval must be greater than 0, not %v", interval)
	}
	if c.Status() == Stopped {
		return fmt.Errorf("events of container %s: container not running", c.state.ID)
	}
	pidfd, err := unix.PidfdOpen(c.state.InitPid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return fmt.Errorf("events of container %s: pidfd_open %d: %w", c.state.ID, c.state.InitPid, err)
	}
	defer unix.Close(pidfd)
	// The pid may have been reused between Status and pidfd_open.
	if !c.initAlive() {
		return fmt.Errorf("events of container %s: container not running", c.state.ID)
	}
	oom, err := cgroups.WatchOOM(c.state.Cgroup)
	if err != nil {
		return fmt.Errorf("events of container %s: %w", c.state.ID, err)
	}
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	if oom != nil {
		defer oom.Close()
		fds = append(fds, unix.PollFd{Fd: int32(oom.FD()), Events: unix.POLLIN})
	}
	next := time.Now().Add(interval)
	for {
		wait := time.Until(next)
		ms := int((wait + time.Millisecond - 1) / time.Millisecond)
		if wait <= 0 {
			ms = 0
		}
		_, err := unix.Poll(fds, ms)
		if err != nil && err != unix.EINTR {
			return fmt.Errorf("events of container %s: poll: %w", c.state.ID, err)
		}
		// OOM first: an OOM that killed init is reported before the end.
		if oom != nil && fds[1].Revents != 0 {
			n, gone, err := oom.Read()
			if err != nil {
				return fmt.Errorf("events of container %s: %w", c.state.ID, err)
			}
			for range n {
				if err := emit(&Event{Type: "oom", ID: c.state.ID}); err != nil {
					return err
				}
			}
			if gone {
				return nil
			}
		}
		if fds[0].Revents != 0 {
			return nil
		}
		if now := time.Now(); !now.Before(next) {
			next = next.Add(interval)
			if next.Before(now) {
				next = now.Add(interval)
			}
			mgr, err := cgroups.Load(c.state.Cgroup)
			var s *cgroups.Stats
			if err == nil {
				s, err = mgr.Stats()
			}
			if err != nil {
				// A stopping container loses its cgroup: the pidfd ends
				// the stream on the next round.
				logs.Warnf("events of container %s: stats: %v", c.state.ID, err)
				continue
			}
			if err := emit(&Event{Type: "stats", ID: c.state.ID, Data: s}); err != nil {
				return err
			}
		}
	}
}
