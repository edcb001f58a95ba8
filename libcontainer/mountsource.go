package libcontainer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/rootfs"
)

// Mount sources: Go init in a user namespace cannot id-map a host
// filesystem, nor open a bind source its ids may not reach. It asks the
// parent (msgMountSource, one mount at a time, as it meets them), which
// makes the fd on a thread in init's mount namespace and sends it back
// with SCM_RIGHTS on the init socket.

// mountSourcesWanted: init asks only when the parent can help, i.e. it
// is root outside the container's user namespace.
func mountSourcesWanted(cfg *configs.Config) bool {
	return cfg.Has(configs.NEWUSER) && os.Geteuid() == 0
}

// initSendsNSFDs: root's init is non-dumpable, and berth without
// CAP_SYS_PTRACE may neither setns through its pidfd nor open its
// /proc/<pid>/ns entries. Init then sends its mount and user namespace
// fds (msgNSFDs, initNSFDs order) first thing after the config, for the
// mount sources only bind mounts ask for.
func initSendsNSFDs(cfg *configs.Config) bool {
	if !mountSourcesWanted(cfg) {
		return false
	}
	for i := range cfg.Mounts {
		if cfg.Mounts[i].IsBind() {
			return !canPtrace()
		}
	}
	return false
}

// initNSFDs are the namespaces whose fds msgNSFDs carries, in order.
var initNSFDs = [...]string{"mnt", "user"}

// mountSourceServer is the parent's side: a thread that joined init's
// mount namespace, started on the first request.
type mountSourceServer struct {
	cfg       *configs.Config
	pid       int
	startTime uint64
	// nsfds, when init sent them (initSendsNSFDs), are joined instead
	// of init's pidfd; the server owns them.
	nsfds []int
	reqs  chan mountSourceReq
}

type mountSourceReq struct {
	mount int
	tree  bool
	reply chan mountSourceReply
}

type mountSourceReply struct {
	fd  int
	err error
}

// make returns the fd init asked for; the caller owns it.
func (s *mountSourceServer) make(mount int, tree bool) (int, error) {
	if s.reqs == nil {
		s.reqs = make(chan mountSourceReq)
		go s.serve()
	}
	r := mountSourceReq{mount: mount, tree: tree, reply: make(chan mountSourceReply)}
	s.reqs <- r
	rep := <-r.reply
	return rep.fd, rep.err
}

// close ends the thread (it is never handed back to the scheduler), or
// releases init's namespace fds when no request came.
func (s *mountSourceServer) close() {
	if s.reqs != nil {
		close(s.reqs)
		return
	}
	closeFDs(s.nsfds)
}

func (s *mountSourceServer) serve() {
	runtime.LockOSThread()
	err := s.join()
	userns := -1
	if s.nsfds != nil {
		userns = s.nsfds[1] // the maker's now
	}
	maker := rootfs.NewSourceMaker(s.cfg, fmt.Sprintf("/proc/%d", s.pid), userns)
	defer maker.Close()
	for r := range s.reqs {
		if err != nil {
			r.reply <- mountSourceReply{-1, err}
			continue
		}
		fd, merr := maker.Make(r.mount, r.tree)
		r.reply <- mountSourceReply{fd, merr}
	}
}

// join moves the calling thread into init's mount namespace, through
// the fd init sent or a pidfd checked to be init (a reused pid never
// leads elsewhere).
func (s *mountSourceServer) join() error {
	if s.nsfds != nil {
		defer unix.Close(s.nsfds[0])
	}
	if !s.cfg.Has(configs.NEWNS) {
		return nil // init's mounts are in berth's own namespace
	}
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("mount source thread: unshare CLONE_FS: %w", err)
	}
	if s.nsfds != nil {
		if err := unix.Setns(s.nsfds[0], unix.CLONE_NEWNS); err != nil {
			return fmt.Errorf("mount source thread: setns into the mount namespace fd of init %d: %w", s.pid, err)
		}
		return nil
	}
	pidfd, err := unix.PidfdOpen(s.pid, 0)
	if err != nil {
		return fmt.Errorf("mount source thread: pidfd_open init %d: %w", s.pid, err)
	}
	defer unix.Close(pidfd)
	if _, st, err := procStat(s.pid); err != nil || st != s.startTime {
		return errInitExited
	}
	if err := unix.Setns(pidfd, unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("mount source thread: setns into the mount namespace of init %d: %w", s.pid, err)
	}
	return nil
}

// serveMountSource answers one msgMountSource on the init socket: the fd
// with a msgMountSource line, or a msgError line.
func (s *mountSourceServer) serveMountSource(sock *os.File, m *syncMsg) error {
	fd, err := s.make(m.Mount, m.Tree)
	reply := syncMsg{Type: msgMountSource}
	var rights []byte
	if err != nil {
		reply = syncMsg{Type: msgError, Msg: err.Error()}
	} else {
		defer unix.Close(fd)
		rights = unix.UnixRights(fd)
	}
	line, _ := json.Marshal(&reply)
	line = append(line, '\n')
	if err := unix.Sendmsg(int(sock.Fd()), line, rights, nil, 0); err != nil {
		return fmt.Errorf("send mount source to init: %w", err)
	}
	return nil
}

// askMountSource is init's side: it sends the request and reads the
// reply line with its fd straight off the socket (the JSON decoder holds
// nothing then: the parent sends only when asked).
func askMountSource(sock *os.File, enc *json.Encoder, mount int, tree bool) (int, error) {
	if err := enc.Encode(&syncMsg{Type: msgMountSource, Mount: mount, Tree: tree}); err != nil {
		return -1, fmt.Errorf("ask berth for the mount source: %w", err)
	}
	reply, fds, err := recvWithFDs(sock)
	if err != nil {
		return -1, fmt.Errorf("read mount source from berth: %w", err)
	}
	switch {
	case reply.Type == msgError:
		closeFDs(fds)
		return -1, errors.New(reply.Msg)
	case reply.Type != msgMountSource || len(fds) != 1:
		closeFDs(fds)
		return -1, fmt.Errorf("read mount source from berth: got %q with %d fds, want 1", reply.Type, len(fds))
	}
	return fds[0], nil
}

// sendNSFDs is init's msgNSFDs (initSendsNSFDs). Before any mount /proc
// is berth's own procfs, and a process may open its own namespaces.
func sendNSFDs(sock *os.File) error {
	var fds []int
	defer func() { closeFDs(fds) }()
	for _, ns := range initNSFDs {
		p := "/proc/thread-self/ns/" + ns
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("init: open %s for berth: %w", p, err)
		}
		fds = append(fds, fd)
	}
	line, _ := json.Marshal(&syncMsg{Type: msgNSFDs})
	line = append(line, '\n')
	if err := unix.Sendmsg(int(sock.Fd()), line, unix.UnixRights(fds...), nil, 0); err != nil {
		return fmt.Errorf("init: send namespace fds to berth: %w", err)
	}
	return nil
}

// recvNSFDs is the parent's side of msgNSFDs, read before any other
// message of init's (the decoder has read nothing yet).
func recvNSFDs(sock *os.File) ([]int, error) {
	m, fds, err := recvWithFDs(sock)
	switch {
	case errors.Is(err, io.EOF):
		return nil, errInitExited
	case err != nil:
		return nil, fmt.Errorf("read the namespace fds of init: %w", err)
	case m.Type == msgError:
		closeFDs(fds)
		return nil, errors.New(m.Msg)
	case m.Type != msgNSFDs || len(fds) != len(initNSFDs):
		closeFDs(fds)
		return nil, fmt.Errorf("read the namespace fds of init: got %q with %d fds, want %d", m.Type, len(fds), len(initNSFDs))
	}
	return fds, nil
}

// recvWithFDs reads one syncMsg line and the fds sent with it with
// recvmsg (a plain read drops them). The kernel ends a read after the
// bytes that carry fds, and the peer sends nothing more until answered,
// so nothing past the line is read; anything there is an error.
func recvWithFDs(sock *os.File) (syncMsg, []int, error) {
	var m syncMsg
	var fds []int
	var buf []byte
	chunk := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*len(initNSFDs)))
	for {
		n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), chunk, oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			closeFDs(fds)
			return m, nil, err
		}
		if oobn > 0 {
			got, err := parseRights(oob[:oobn])
			fds = append(fds, got...)
			if err != nil {
				closeFDs(fds)
				return m, nil, err
			}
		}
		if n == 0 {
			closeFDs(fds)
			return m, nil, io.EOF
		}
		// A newline left of the previous line may come first.
		buf = bytes.TrimLeft(append(buf, chunk[:n]...), " \t\r\n")
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			if len(bytes.TrimSpace(buf[i:])) > 0 {
				closeFDs(fds)
				return m, nil, errors.New("data after the message")
			}
			buf = buf[:i]
			break
		}
		if len(buf) > 1<<20 {
			closeFDs(fds)
			return m, nil, errors.New("message longer than 1 MiB")
		}
	}
	if err := json.Unmarshal(buf, &m); err != nil {
		closeFDs(fds)
		return m, nil, err
	}
	return m, fds, nil
}

func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("mount source control message: %w", err)
	}
	var fds []int
	for i := range msgs {
		f, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			return nil, fmt.Errorf("mount source control message: %w", err)
		}
		fds = append(fds, f...)
	}
	return fds, nil
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
