// Command recvtty is the console-socket end used by berth's integration
// tests: it listens on a unix socket, takes the first pty master a runtime
// sends over it (SCM_RIGHTS), and copies everything the container writes to
// that terminal to stdout until the terminal closes.
//
//	recvtty [-pid-file FILE] SOCKET-PATH
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

func main() {
	pidFile := flag.String("pid-file", "", "write recvtty's pid to this file once the socket listens")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: recvtty [-pid-file FILE] SOCKET-PATH")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *pidFile); err != nil {
		fmt.Fprintf(os.Stderr, "recvtty: %v\n", err)
		os.Exit(1)
	}
}

func run(path, pidFile string) error {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return err
	}
	defer ln.Close()
	if pidFile != "" {
		if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return err
		}
	}
	conn, err := ln.AcceptUnix()
	if err != nil {
		return err
	}
	defer conn.Close()

	master, err := receiveFd(conn)
	if err != nil {
		return err
	}
	defer master.Close()

	_, err = io.Copy(os.Stdout, master)
	// A pty master reads EIO once every slave end is closed: the normal end.
	if errors.Is(err, syscall.EIO) {
		err = nil
	}
	return err
}

// receiveFd reads one message and returns the first fd passed with it.
func receiveFd(conn *net.UnixConn) (*os.File, error) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, fmt.Errorf("read console socket: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, fmt.Errorf("parse control message: %w", err)
	}
	var fds []int
	for i := range msgs {
		rights, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			continue
		}
		fds = append(fds, rights...)
	}
	if len(fds) == 0 {
		return nil, errors.New("the message on the console socket carried no fd")
	}
	for _, fd := range fds[1:] {
		unix.Close(fd)
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}
