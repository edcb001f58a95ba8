// Command pidfdrecv is the --pidfd-socket end used by berth's integration
// tests: it listens on a unix socket, takes the first fd a runtime sends
// over it (SCM_RIGHTS) and writes "NAME PID" to OUT (the message's data
// and the pid the fd is a pidfd of, from its fdinfo). On SIGUSR1 it sends
// -signal to that process through the pidfd and exits.
//
//	pidfdrecv [-signal N] -out OUT [-pid-file FILE] SOCKET-PATH
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func main() {
	sig := flag.Int("signal", int(unix.SIGKILL), "signal to send through the pidfd on SIGUSR1")
	out := flag.String("out", "", "file that gets NAME PID")
	pidFile := flag.String("pid-file", "", "write pidfdrecv's pid here once the socket listens")
	flag.Parse()
	if flag.NArg() != 1 || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: pidfdrecv [-signal N] -out OUT [-pid-file FILE] SOCKET-PATH")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *out, *pidFile, unix.Signal(*sig)); err != nil {
		fmt.Fprintf(os.Stderr, "pidfdrecv: %v\n", err)
		os.Exit(1)
	}
}

func run(path, out, pidFile string, sig unix.Signal) error {
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, unix.SIGUSR1)
	ln, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	if err := unix.Bind(ln, &unix.SockaddrUnix{Name: path}); err != nil {
		return err
	}
	if err := unix.Listen(ln, 1); err != nil {
		return err
	}
	if pidFile != "" {
		if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return err
		}
	}
	conn, _, err := unix.Accept4(ln, unix.SOCK_CLOEXEC)
	if err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	name, fd, err := receive(conn)
	if err != nil {
		return err
	}
	pid, err := pidOf(fd)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, []byte(name+" "+strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return err
	}
	<-usr1
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil {
		return fmt.Errorf("pidfd_send_signal: %w", err)
	}
	return nil
}

// receive reads one message that must carry exactly one fd.
func receive(conn int) (string, int, error) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := unix.Recvmsg(conn, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return "", -1, fmt.Errorf("recvmsg: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return "", -1, err
	}
	var fds []int
	for i := range msgs {
		f, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			return "", -1, err
		}
		fds = append(fds, f...)
	}
	if len(fds) != 1 {
		return "", -1, fmt.Errorf("got %d fds, want 1", len(fds))
	}
	return string(buf[:n]), fds[0], nil
}

// pidOf reads the "Pid:" line of a pidfd's fdinfo.
func pidOf(fd int) (int, error) {
	b, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Pid:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, errors.New("the fd is not a pidfd (no Pid: in its fdinfo)")
}
