// Command seccompagent is the seccomp notify agent of berth's integration
// tests: it listens on a unix socket (linux.seccomp.listenerPath), takes
// one connection from the runtime, writes the container process state it
// receives to STATE-FILE (adding "nfds": the fds that came with it), and
// answers every notification on the received fd with -ERRNO, until the
// runtime's and the container's ends are gone; with CONNECTIONS, that
// many (a run and its execs), each state to its own file. It prints
// "ready" once it listens.
//
//	seccompagent SOCKET STATE-FILE ERRNO [CONNECTIONS]
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel's struct seccomp_notif and seccomp_notif_resp.
type notif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Nr    int32
	Arch  uint32
	IP    uint64
	Args  [6]uint64
}

type notifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

func main() {
	if len(os.Args) != 4 && len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: seccompagent SOCKET STATE-FILE ERRNO [CONNECTIONS]")
		os.Exit(2)
	}
	errno, err := strconv.Atoi(os.Args[3])
	if err != nil {
		fail("errno: %v", err)
	}
	conns := 1
	if len(os.Args) == 5 {
		if conns, err = strconv.Atoi(os.Args[4]); err != nil || conns < 1 {
			fail("connections: %q", os.Args[4])
		}
	}
	ln, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		fail("socket: %v", err)
	}
	if err := unix.Bind(ln, &unix.SockaddrUnix{Name: os.Args[1]}); err != nil {
		fail("bind %s: %v", os.Args[1], err)
	}
	if err := unix.Listen(ln, conns); err != nil {
		fail("listen: %v", err)
	}
	fmt.Println("ready")
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		conn, _, err := unix.Accept4(ln, unix.SOCK_CLOEXEC)
		if err != nil {
			fail("accept: %v", err)
		}
		// The first connection's state goes to STATE-FILE, the n-th's
		// (from 2) to STATE-FILE.n.
		path := os.Args[2]
		if i > 0 {
			path = fmt.Sprintf("%s.%d", path, i+1)
		}
		fd := receive(conn, path)
		wg.Add(1)
		go func() {
			defer wg.Done()
			answer(fd, errno)
		}()
	}
	wg.Wait()
}

// receive reads the container process state and its fds until EOF, writes
// the state (with "nfds") to path and returns the listener fd.
func receive(conn int, path string) int {
	var payload []byte
	var fds []int
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4*4))
	for {
		n, oobn, _, _, err := unix.Recvmsg(conn, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != nil {
			fail("recvmsg: %v", err)
		}
		if oobn > 0 {
			scms, err := unix.ParseSocketControlMessage(oob[:oobn])
			if err != nil {
				fail("control message: %v", err)
			}
			for _, scm := range scms {
				got, err := unix.ParseUnixRights(&scm)
				if err != nil {
					fail("rights: %v", err)
				}
				fds = append(fds, got...)
			}
		}
		if n == 0 {
			break
		}
		payload = append(payload, buf[:n]...)
	}
	unix.Close(conn)
	var state map[string]any
	if err := json.Unmarshal(payload, &state); err != nil {
		fail("state %q: %v", payload, err)
	}
	state["nfds"] = len(fds)
	out, _ := json.Marshal(state)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		fail("%v", err)
	}
	if len(fds) == 0 {
		fail("no fd received")
	}
	return fds[0]
}

// answer fails every notification on fd with -errno until every filtered
// process is gone.
func answer(fd, errno int) {
	for {
		var req notif
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&req))); e != 0 {
			if e == unix.EINTR {
				continue
			}
			// ENOENT/EBADF... once every filtered process is gone.
			return
		}
		resp := notifResp{ID: req.ID, Error: -int32(errno)}
		unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp)))
	}
}

func fail(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "seccompagent: "+f+"\n", a...)
	os.Exit(1)
}
