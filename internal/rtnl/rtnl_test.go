package rtnl

import (
	"encoding/binary"
	"net"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// inNewNetns runs fn on a thread in a fresh network namespace (root only);
// fn reports with t.Error, not t.Fatal (it is not the test goroutine).
func inNewNetns(t *testing.T, fn func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread dies with its namespace
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			t.Errorf("unshare: %v", err)
			return
		}
		fn()
	}()
	<-done
}

func TestLinkLifecycleInANamespace(t *testing.T) {
	inNewNetns(t, func() {
		lo, err := Index("lo")
		if err != nil || lo != 1 {
			t.Errorf("Index(lo) = %d, %v", lo, err)
			return
		}
		if name, err := Name(lo); err != nil || name != "lo" {
			t.Errorf("Name(%d) = %q, %v", lo, name, err)
			return
		}
		if _, err := Index("nosuch0"); err == nil {
			t.Error("Index of a missing link succeeded")
			return
		}
		if err := Up(lo); err != nil {
			t.Error(err)
			return
		}
		a := Addr{Family: unix.AF_INET, PrefixLen: 32, Flags: unix.IFA_F_PERMANENT,
			Local: net.IPv4(10, 9, 8, 7).To4(), Address: net.IPv4(10, 9, 8, 7).To4()}
		if err := AddAddr(lo, a); err != nil {
			t.Error(err)
			return
		}
		if err := AddAddr(lo, a); err == nil {
			t.Error("adding the same address twice succeeded")
		}
		as, err := Addrs(lo)
		if err != nil {
			t.Error(err)
			return
		}
		found := false
		for _, x := range as {
			if net.IP(x.Local).Equal(net.IPv4(10, 9, 8, 7)) {
				found = x.Kept() && x.PrefixLen == 32
			}
		}
		if !found {
			t.Errorf("Addrs(lo) = %+v: 10.9.8.7/32 permanent and global missing", as)
		}
	})
}

func TestKept(t *testing.T) {
	for _, tc := range []struct {
		a    Addr
		want bool
	}{
		{Addr{Flags: unix.IFA_F_PERMANENT, Scope: unix.RT_SCOPE_UNIVERSE}, true},
		{Addr{Flags: unix.IFA_F_PERMANENT, Scope: unix.RT_SCOPE_HOST}, false},
		{Addr{Flags: unix.IFA_F_PERMANENT, Scope: unix.RT_SCOPE_LINK}, false},
		{Addr{Flags: 0, Scope: unix.RT_SCOPE_UNIVERSE}, false}, // dynamic (DHCP, SLAAC)
	} {
		if got := tc.a.Kept(); got != tc.want {
			t.Errorf("%+v: Kept = %v, want %v", tc.a, got, tc.want)
		}
	}
}

func nlmsg(typ uint16, body []byte) []byte {
	b := make([]byte, hdrLen, hdrLen+len(body)+4)
	binary.NativeEndian.PutUint32(b[0:], uint32(hdrLen+len(body)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	b = append(b, body...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func TestWalk(t *testing.T) {
	errBody := make([]byte, 4+hdrLen)
	binary.NativeEndian.PutUint32(errBody, uint32(0x100000000-int64(unix.EEXIST)))
	var seen []uint16
	each := func(typ uint16, _ []byte) error { seen = append(seen, typ); return nil }
	data := append(nlmsg(unix.RTM_NEWADDR, make([]byte, 8)), nlmsg(unix.RTM_NEWADDR, make([]byte, 8))...)
	if done, err := walk(data, each); done || err != nil || len(seen) != 2 {
		t.Errorf("two data messages: done=%v err=%v seen=%v", done, err, seen)
	}
	if done, err := walk(nlmsg(unix.NLMSG_DONE, nil), each); !done || err != nil {
		t.Errorf("DONE: done=%v err=%v", done, err)
	}
	if done, err := walk(nlmsg(unix.NLMSG_ERROR, errBody), each); !done || err != unix.EEXIST {
		t.Errorf("error: done=%v err=%v", done, err)
	}
	if _, err := walk(nlmsg(unix.RTM_NEWADDR, make([]byte, 8))[:20], each); err == nil {
		t.Error("truncated message accepted")
	}
}

func FuzzParse(f *testing.F) {
	addr := []byte{unix.AF_INET, 24, 0x80, 0, 2, 0, 0, 0}
	addr = append(addr, 8, 0, unix.IFA_LOCAL, 0, 10, 0, 0, 1, 8, 0, unix.IFA_FLAGS, 0, 0x80, 0, 0, 0)
	f.Add(nlmsg(unix.RTM_NEWADDR, addr))
	f.Add(nlmsg(unix.NLMSG_ERROR, make([]byte, 20)))
	f.Fuzz(func(t *testing.T, b []byte) {
		walk(b, func(typ uint16, body []byte) error {
			a, ok := parseAddr(body, 2)
			if ok && len(a.Local) > len(body) {
				t.Fatalf("address longer than its message")
			}
			return nil
		})
	})
}
