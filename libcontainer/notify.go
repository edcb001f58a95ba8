package libcontainer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/logs"
)

// sd_notify passthrough (NOTIFY_SOCKET), with runc's layout: the container
// sees /run/notify/notify.sock, a bind mount of <root>/<id>/notify where
// berth listens; `start` (or `run`) relays what arrives to the caller's
// NOTIFY_SOCKET. A relay is needed at all because the host cannot map the
// container's pids, and because berth must name the main pid itself.
const (
	notifyDirName = "notify"
	notifySock    = "notify.sock"
	// NotifySocketInContainer is NOTIFY_SOCKET in the container's env.
	NotifySocketInContainer = "/run/notify/" + notifySock
	// barrierTimeout bounds the wait for the host to take our messages.
	barrierTimeout = 30 * time.Second
)

// AddNotifySocket adds the notify mount and NOTIFY_SOCKET to spec before
// it is converted; Create with CreateOpts.NotifySocket makes the directory.
func AddNotifySocket(spec *specs.Spec, root, id string) error {
	if spec.Process == nil {
		return nil // Convert reports the missing process
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return fmt.Errorf("NOTIFY_SOCKET: --root %s: %w", root, err)
	}
	spec.Mounts = append(spec.Mounts, specs.Mount{
		Destination: filepath.Dir(NotifySocketInContainer),
		Source:      filepath.Join(abs, id, notifyDirName),
		Options:     []string{"bind", "nosuid", "noexec", "nodev", "ro"},
	})
	// Replace a NOTIFY_SOCKET the bundle sets: getenv(3) returns the
	// first entry, so an appended one would be ignored.
	env := make([]string, 0, len(spec.Process.Env)+1)
	for _, e := range spec.Process.Env {
		if !strings.HasPrefix(e, "NOTIFY_SOCKET=") {
			env = append(env, e)
		}
	}
	spec.Process.Env = append(env, "NOTIFY_SOCKET="+NotifySocketInContainer)
	return nil
}

// makeNotifyDir creates the directory the container's notify mount binds.
func makeNotifyDir(stateDir string) error {
	d := filepath.Join(stateDir, notifyDirName)
	if err := os.Mkdir(d, 0o755); err != nil {
		return fmt.Errorf("NOTIFY_SOCKET: mkdir %s: %w", d, err)
	}
	return nil
}

// NotifyRelay passes the container's sd_notify messages to the host.
type NotifyRelay struct {
	sock     int // bound datagram socket in the state directory
	host     int // datagram socket connected to the host's NOTIFY_SOCKET
	pidfd    int // the container's init: the relay ends when it exits
	path     string
	hostPath string
}

// ListenNotify binds the container's notify socket and connects to the
// host's, before start releases the process (so no message is lost and a
// bad NOTIFY_SOCKET fails start with the container still created). It
// returns nil when the container was created without NOTIFY_SOCKET or is
// not in the created state (Start reports that).
func (c *Container) ListenNotify(hostPath string) (r *NotifyRelay, err error) {
	dir := filepath.Join(c.dir, notifyDirName)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		logs.Warnf("NOTIFY_SOCKET is set but container %s was created without it: not relaying", c.state.ID)
		return nil, nil
	}
	if c.Status() != Created {
		return nil, nil
	}
	r = &NotifyRelay{sock: -1, host: -1, pidfd: -1, path: filepath.Join(dir, notifySock), hostPath: hostPath}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	if r.host, err = unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err != nil {
		return nil, fmt.Errorf("NOTIFY_SOCKET: socket: %w", err)
	}
	if err := unix.Connect(r.host, notifyAddr(hostPath)); err != nil {
		return nil, fmt.Errorf("NOTIFY_SOCKET %s: connect: %w", hostPath, err)
	}
	if r.sock, err = unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0); err != nil {
		return nil, fmt.Errorf("NOTIFY_SOCKET: socket: %w", err)
	}
	os.Remove(r.path) // left by an earlier start that failed
	if err := unix.Bind(r.sock, &unix.SockaddrUnix{Name: r.path}); err != nil {
		return nil, fmt.Errorf("NOTIFY_SOCKET: bind %s: %w", r.path, err)
	}
	// Any user the container's process runs as may notify.
	if err := os.Chmod(r.path, 0o777); err != nil {
		return nil, fmt.Errorf("NOTIFY_SOCKET: %w", err)
	}
	if r.pidfd, err = unix.PidfdOpen(c.state.InitPid, 0); err != nil {
		return nil, fmt.Errorf("NOTIFY_SOCKET: pidfd_open %d: %w", c.state.InitPid, err)
	}
	return r, nil
}

// notifyAddr is the address in NOTIFY_SOCKET: a path, or "@name" for an
// abstract socket.
func notifyAddr(s string) *unix.SockaddrUnix {
	if len(s) > 1 && s[0] == '@' {
		return &unix.SockaddrUnix{Name: "\x00" + s[1:]}
	}
	return &unix.SockaddrUnix{Name: s}
}

// Close stops listening and removes the socket (nothing is left that
// could take the container's later messages).
func (r *NotifyRelay) Close() {
	if r == nil {
		return
	}
	for _, fd := range []int{r.sock, r.host, r.pidfd} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	r.sock, r.host, r.pidfd = -1, -1, -1
	os.Remove(r.path)
}

// Relay forwards the container's messages until one says READY=, then
// tells the host MAINPID=mainPID and waits (bounded) for it to take them.
// With follow it then goes on forwarding (STATUS=, WATCHDOG=1...) until
// init exits; without, it returns. If init exits first, Relay returns nil,
// as runc's start does.
func (r *NotifyRelay) Relay(mainPID int, follow bool) error {
	buf := make([]byte, 64<<10)
	ready := false
	fds := []unix.PollFd{{Fd: int32(r.sock), Events: unix.POLLIN}, {Fd: int32(r.pidfd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return fmt.Errorf("NOTIFY_SOCKET: poll: %w", err)
		}
		// Any event on the socket is read: POLLERR alone would otherwise
		// make every poll return at once; the receive reports the error.
		if fds[0].Revents != 0 {
			// Without a control buffer the kernel closes any fds the
			// container sent (BARRIER=1's pipe): its barrier completes.
			n, _, err := unix.Recvfrom(r.sock, buf, unix.MSG_DONTWAIT)
			if err != nil && err != unix.EAGAIN && err != unix.EINTR {
				return fmt.Errorf("NOTIFY_SOCKET: receive on %s: %w", r.path, err)
			}
			if n > 0 {
				msg, isReady := filterNotify(buf[:n])
				if len(msg) > 0 {
					if err := r.send(msg); err != nil {
						return err
					}
				}
				if isReady && !ready {
					ready = true
					if err := r.sendMainPID(mainPID); err != nil {
						return err
					}
					if !follow {
						return nil
					}
				}
			}
			continue
		}
		if fds[1].Revents != 0 {
			return nil // init exited
		}
	}
}

func (r *NotifyRelay) send(msg []byte) error {
	if err := unix.Send(r.host, msg, 0); err != nil {
		return fmt.Errorf("NOTIFY_SOCKET %s: send: %w", r.hostPath, err)
	}
	return nil
}

// sendMainPID names the process the host should watch, then waits for the
// host to have read everything (sd_notify's BARRIER=1 protocol: it closes
// the pipe end we pass), so berth exiting right after cannot race it.
func (r *NotifyRelay) sendMainPID(pid int) error {
	if err := r.send([]byte("MAINPID=" + strconv.Itoa(pid) + "\n")); err != nil {
		return err
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return fmt.Errorf("NOTIFY_SOCKET: pipe: %w", err)
	}
	defer unix.Close(p[0])
	err := unix.Sendmsg(r.host, []byte("BARRIER=1"), unix.UnixRights(p[1]), nil, 0)
	unix.Close(p[1])
	if err != nil {
		return fmt.Errorf("NOTIFY_SOCKET %s: sendmsg BARRIER=1: %w", r.hostPath, err)
	}
	fds := []unix.PollFd{{Fd: int32(p[0]), Events: unix.POLLIN}}
	deadline := time.Now().Add(barrierTimeout)
	for {
		n, err := unix.Poll(fds, int(max(0, time.Until(deadline).Milliseconds())))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("NOTIFY_SOCKET: poll: %w", err)
		}
		if n == 0 {
			logs.Warnf("NOTIFY_SOCKET %s: no answer to BARRIER=1 in %s; going on", r.hostPath, barrierTimeout)
		}
		return nil
	}
}

// filterNotify drops what must not reach the host from one datagram: the
// container's MAINPID= (a pid in its own namespace) and BARRIER= (its fd
// is gone; berth sends its own). It reports whether READY= was in it.
func filterNotify(b []byte) (out []byte, ready bool) {
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		switch {
		case len(line) == 0, bytes.HasPrefix(line, []byte("MAINPID=")), bytes.HasPrefix(line, []byte("BARRIER=")):
			continue
		case bytes.HasPrefix(line, []byte("READY=")):
			ready = true
		}
		out = append(out, line...)
		out = append(out, '\n')
	}
	return out, ready
}
