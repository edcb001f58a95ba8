package libcontainer

import (
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func socketPair(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// devNulls opens n fds to send.
func devNulls(t *testing.T, n int) []int {
	t.Helper()
	var fds []int
	for i := 0; i < n; i++ {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, fd)
	}
	t.Cleanup(func() { closeFDs(fds) })
	return fds
}

func TestRecvNSFDs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		send    []string // sendmsg calls; the first carries nfds fds
		nfds    int
		close   bool // the sender closes after sending
		wantErr string
	}{
		{name: "two fds", send: []string{"{\"type\":\"ns-fds\"}\n"}, nfds: 2},
		{name: "after a newline", send: []string{"\n{\"type\":\"ns-fds\"}\n"}, nfds: 2},
		{name: "split line", send: []string{"{\"type\":", "\"ns-fds\"}\n"}, nfds: 2},
		{name: "init's error", send: []string{"{\"type\":\"error\",\"msg\":\"init: open /proc/thread-self/ns/mnt: boom\"}\n"}, wantErr: "init: open /proc/thread-self/ns/mnt: boom"},
		{name: "one fd", send: []string{"{\"type\":\"ns-fds\"}\n"}, nfds: 1, wantErr: "with 1 fds, want 2"},
		{name: "no fds", send: []string{"{\"type\":\"ns-fds\"}\n"}, wantErr: "with 0 fds, want 2"},
		{name: "other message", send: []string{"{\"type\":\"ready\"}\n"}, nfds: 2, wantErr: `got "ready"`},
		{name: "data after it", send: []string{"{\"type\":\"ns-fds\"}\n{\"type\":\"ready\"}\n"}, nfds: 2, wantErr: "data after the message"},
		{name: "not json", send: []string{"ns-fds\n"}, nfds: 2, wantErr: "invalid character"},
		{name: "init exited", close: true, wantErr: errInitExited.Error()},
		{name: "exited mid-line", send: []string{"{\"type\""}, close: true, wantErr: errInitExited.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent, init := socketPair(t)
			for i, s := range tc.send {
				var rights []byte
				if i == 0 && tc.nfds > 0 {
					rights = unix.UnixRights(devNulls(t, tc.nfds)...)
				}
				if err := unix.Sendmsg(int(init.Fd()), []byte(s), rights, nil, 0); err != nil {
					t.Fatal(err)
				}
			}
			if tc.close {
				init.Close()
			}
			fds, err := recvNSFDs(parent)
			defer closeFDs(fds)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("recvNSFDs: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("recvNSFDs: %v, want an error with %q", err, tc.wantErr)
			case tc.wantErr == "" && len(fds) != 2:
				t.Fatalf("got %d fds, want 2", len(fds))
			}
			if tc.close && !errors.Is(err, errInitExited) {
				t.Fatalf("recvNSFDs: %v, want errInitExited", err)
			}
		})
	}
}

// The line that carries fds ends a read: what init sends next (once the
// parent has the fds) is never read along with it.
func TestRecvNSFDsStopsAfterTheFDs(t *testing.T) {
	parent, init := socketPair(t)
	if err := unix.Sendmsg(int(init.Fd()), []byte("{\"type\":\"ns-fds\"}\n"), unix.UnixRights(devNulls(t, 2)...), nil, 0); err != nil {
		t.Fatal(err)
	}
	next := "{\"type\":\"ready\"}\n"
	if _, err := init.Write([]byte(next)); err != nil {
		t.Fatal(err)
	}
	fds, err := recvNSFDs(parent)
	if err != nil {
		t.Fatalf("recvNSFDs: %v", err)
	}
	closeFDs(fds)
	buf := make([]byte, 64)
	n, err := parent.Read(buf)
	if err != nil || string(buf[:n]) != next {
		t.Fatalf("next read: %q, %v; want %q", buf[:n], err, next)
	}
}

func TestSendNSFDs(t *testing.T) {
	parent, init := socketPair(t)
	if err := sendNSFDs(init); err != nil {
		t.Fatal(err)
	}
	fds, err := recvNSFDs(parent)
	if err != nil {
		t.Fatalf("recvNSFDs: %v", err)
	}
	defer closeFDs(fds)
	for i, ns := range initNSFDs {
		var got, want unix.Stat_t
		if err := unix.Fstat(fds[i], &got); err != nil {
			t.Fatal(err)
		}
		if err := unix.Stat("/proc/self/ns/"+ns, &want); err != nil {
			t.Fatal(err)
		}
		if got.Ino != want.Ino || got.Dev != want.Dev {
			t.Errorf("fd %d is not our %s namespace", i, ns)
		}
	}
}

// FuzzRecvWithFDs: whatever init writes, the parent's reader returns a
// message or an error, never panics, and hands back only fds it got.
func FuzzRecvWithFDs(f *testing.F) {
	for _, s := range []string{
		"{\"type\":\"ns-fds\"}\n", "\n\n{\"type\":\"mount-source\"}\n", "{\"type\":\"error\",\"msg\":\"x\"}\n",
		"{\"type\":\"ready\"}\n{\"type\":\"ready\"}\n", "{", "\n", "", "null\n", "[1,2]\n", "{\"type\":1}\n",
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, nfds uint8) {
		parent, init := socketPair(t)
		var rights []byte
		n := int(nfds % 4)
		if n > 0 && len(data) > 0 {
			rights = unix.UnixRights(devNulls(t, n)...)
		}
		if len(data) > 0 || rights != nil {
			if err := unix.Sendmsg(int(init.Fd()), data, rights, nil, unix.MSG_DONTWAIT); err != nil {
				t.Skip(err) // larger than the socket buffer
			}
		}
		init.Close()
		_, fds, err := recvWithFDs(parent)
		if err != nil && fds != nil {
			t.Fatalf("fds %v returned with error %v", fds, err)
		}
		if len(fds) > n {
			t.Fatalf("got %d fds, %d were sent", len(fds), n)
		}
		closeFDs(fds)
	})
}
