package libcontainer

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestPidfdSocketNilIsNoop(t *testing.T) {
	s, err := dialPidfdSocket("")
	if err != nil || s != nil {
		t.Fatalf("dialPidfdSocket(\"\") = %v, %v; want nil, nil", s, err)
	}
	if err := s.open(1); err != nil {
		t.Fatal(err)
	}
	if err := s.send("standard"); err != nil {
		t.Fatal(err)
	}
	s.close()
}

func TestPidfdSocketDialErrorNamesPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.sock")
	_, err := dialPidfdSocket(path)
	if err == nil || !strings.Contains(err.Error(), "--pidfd-socket "+path) {
		t.Fatalf("err = %v, want one naming --pidfd-socket %s", err, path)
	}
}

// The peer gets one message: the name as data, one pidfd of the process.
func TestPidfdSocketSendsNamedPidfd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.sock")
	ln, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ln)
	if err := unix.Bind(ln, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(ln, 1); err != nil {
		t.Fatal(err)
	}
	s, err := dialPidfdSocket(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if err := s.open(os.Getpid()); err != nil {
		t.Skipf("no pidfd_open here: %v", err)
	}
	if err := s.send("setns"); err != nil {
		t.Fatal(err)
	}
	conn, _, err := unix.Accept4(ln, unix.SOCK_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(conn)
	buf, oob := make([]byte, 64), make([]byte, unix.CmsgSpace(8))
	n, oobn, _, _, err := unix.Recvmsg(conn, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(buf[:n]); got != "setns" {
		t.Errorf("data %q, want setns", got)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages %v, %v; want one", msgs, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("fds %v, %v; want one", fds, err)
	}
	defer unix.Close(fds[0])
	info, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fds[0]))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Pid:\t" + strconv.Itoa(os.Getpid()); !strings.Contains(string(info), want) {
		t.Errorf("fdinfo %q has no %q", info, want)
	}
}
