package main

import (
	"fmt"
	"io"
	"os"

	"github.com/containerd/console"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/logs"
)

// ttyRelay connects berth's own terminal to the container's pty when
// `run` stays in the foreground without --console-socket.
type ttyRelay struct {
	local, remote *os.File
	master        console.Console
	host          console.Console
	copied        chan struct{}
}

func newTTYRelay() (*ttyRelay, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("console socketpair: %w", err)
	}
	return &ttyRelay{local: os.NewFile(uintptr(fds[0]), "console-local"), remote: os.NewFile(uintptr(fds[1]), "console-remote")}, nil
}

func (r *ttyRelay) close() {
	r.local.Close()
	r.remote.Close()
}

func (r *ttyRelay) start() {
	buf := make([]byte, 256)
	oob := make([]byte, unix.CmsgSpace(4))
	// Close-on-exec: hooks (poststop) and helpers must not inherit it.
	_, oobn, _, _, err := unix.Recvmsg(int(r.local.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	r.local.Close()
	if err != nil {
		logs.Warnf("receive pty master: %v", err)
		return
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		logs.Warnf("receive pty master: no fd")
		return
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		logs.Warnf("receive pty master: no fd")
		return
	}
	master, err := console.ConsoleFromFile(os.NewFile(uintptr(fds[0]), "pty-master"))
	if err != nil {
		logs.Warnf("pty master: %v", err)
		return
	}
	r.master = master
	if host, err := console.ConsoleFromFile(os.Stdin); err == nil {
		r.host = host
		host.SetRaw()
		r.resize()
	}
	r.copied = make(chan struct{})
	go io.Copy(master, os.Stdin)
	go func() {
		io.Copy(os.Stdout, master)
		close(r.copied)
	}()
}

func (r *ttyRelay) resize() {
	if r.host != nil && r.master != nil {
		r.master.ResizeFrom(r.host)
	}
}

func (r *ttyRelay) finish() {
	if r.copied != nil {
		<-r.copied // the pty hangs up once every holder of the slave is gone
	}
	if r.host != nil {
		r.host.Reset()
	}
	if r.master != nil {
		r.master.Close()
	}
}
