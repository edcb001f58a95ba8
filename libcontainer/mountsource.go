package libcontainer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/configs"
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

// mountSourceServer is the parent's side: a thread that joined init's
// mount namespace, started on the first request.
type mountSourceServer struct {
	cfg       *configs.Config
	pid       int
	startTime uint64
	reqs      chan mountSourceReq
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

// close ends the thread (it is never handed back to the scheduler).
func (s *mountSourceServer) close() {
	if s.reqs != nil {
		close(s.reqs)
	}
}

func (s *mountSourceServer) serve() {
	runtime.LockOSThread()
	err := s.join()
	maker := rootfs.NewSourceMaker(s.cfg, fmt.Sprintf("/proc/%d", s.pid))
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

// join moves the calling thread into init's mount namespace, through a
// pidfd checked to be init (a reused pid never leads elsewhere).
func (s *mountSourceServer) join() error {
	if !s.cfg.Has(configs.NEWNS) {
		return nil // init's mounts are in berth's own namespace
	}
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("mount source thread: unshare CLONE_FS: %w", err)
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
	var line []byte
	fd := -1
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	for {
		n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return closeOnErr(fd, fmt.Errorf("read mount source from berth: %w", err))
		}
		if n == 0 {
			return closeOnErr(fd, errors.New("read mount source from berth: connection closed"))
		}
		if oobn > 0 {
			got, err := parseRights(oob[:oobn])
			if err != nil {
				return closeOnErr(fd, err)
			}
			for _, f := range got {
				if fd < 0 {
					fd = f
				} else {
					unix.Close(f)
				}
			}
		}
		// A newline left of the config line may come first.
		line = append(line, buf[:n]...)
		line = bytes.TrimLeft(line, " \t\r\n")
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
			break
		}
	}
	var reply syncMsg
	if err := json.Unmarshal(line, &reply); err != nil {
		return closeOnErr(fd, fmt.Errorf("read mount source from berth: %w", err))
	}
	switch {
	case reply.Type == msgError:
		return closeOnErr(fd, errors.New(reply.Msg))
	case reply.Type != msgMountSource || fd < 0:
		return closeOnErr(fd, fmt.Errorf("read mount source from berth: got %q without an fd", reply.Type))
	}
	return fd, nil
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

func closeOnErr(fd int, err error) (int, error) {
	if fd >= 0 {
		unix.Close(fd)
	}
	return -1, err
}
