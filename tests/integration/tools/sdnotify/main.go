// Command sdnotify is both ends of the sd_notify protocol for berth's
// integration tests (busybox cannot send unix datagrams):
//
//	sdnotify send MESSAGE...          send each MESSAGE as one datagram to $NOTIFY_SOCKET
//	sdnotify listen [-n N] [-t SECS] SOCKET
//	                                  bind SOCKET, print each datagram received
//	                                  (newlines as spaces, one per line) until N
//	                                  arrived or SECS passed; BARRIER=1's fd is
//	                                  closed, which is the host's answer to it
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "send":
		err = send(os.Args[2:])
	case "listen":
		err = listen(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "sdnotify: %v\n", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: sdnotify send MESSAGE... | sdnotify listen [-n N] [-t SECS] SOCKET")
	os.Exit(2)
}

func send(msgs []string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return errors.New("NOTIFY_SOCKET is not set")
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for _, m := range msgs {
		// Messages are written with "\n" escapes in tests: one datagram
		// may carry several lines.
		m = strings.ReplaceAll(m, `\n`, "\n")
		if err := unix.Sendto(fd, []byte(m), 0, &unix.SockaddrUnix{Name: path}); err != nil {
			return fmt.Errorf("send to %s: %w", path, err)
		}
	}
	return nil
}

func listen(args []string) error {
	fs := flag.NewFlagSet("listen", flag.ExitOnError)
	n := fs.Int("n", 1, "exit after this many datagrams")
	secs := fs.Int("t", 30, "exit (status 1) after this many seconds")
	fs.Parse(args)
	if fs.NArg() != 1 {
		usage()
	}
	path := fs.Arg(0)
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return fmt.Errorf("bind %s: %w", path, err)
	}
	defer os.Remove(path)
	deadline := time.Now().Add(time.Duration(*secs) * time.Second)
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4*16))
	for got := 0; got < *n; {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("%d of %d datagrams after %ds", got, *n, *secs)
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, int(left.Milliseconds())+1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return err
		}
		if pfd[0].Revents&unix.POLLIN == 0 {
			continue
		}
		m, oobn, _, _, err := unix.Recvmsg(fd, buf, oob, 0)
		if err != nil {
			return err
		}
		closeFDs(oob[:oobn])
		fmt.Println(strings.TrimSpace(strings.ReplaceAll(string(buf[:m]), "\n", " ")))
		got++
	}
	return nil
}

// closeFDs closes fds that came with a datagram (BARRIER=1's pipe).
func closeFDs(oob []byte) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for _, m := range msgs {
		fds, err := unix.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
}
