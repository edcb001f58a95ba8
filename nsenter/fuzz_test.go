package nsenter

import (
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzParseBootstrap feeds arbitrary bytes to the constructor's C parser.
// It must never crash, and whatever it accepts the Go encoder must accept
// and re-encode into a message that parses to the same Bootstrap.
func FuzzParseBootstrap(f *testing.F) {
	for _, b := range []Bootstrap{
		{},
		{CloneFlags: unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWNET},
		{CloneFlags: unix.CLONE_NEWUSER | unix.CLONE_NEWTIME, IDMap: true, TimeOffsets: "monotonic 1 0\n"},
		{Join: []Join{{unix.CLONE_NEWNET, "/proc/1/ns/net"}, {unix.CLONE_NEWUSER, "/proc/1/ns/user"}}},
		{CloneFlags: unix.CLONE_NEWNS | unix.CLONE_NEWPID, CInit: true, Proc: []string{"", "hidepid=2"}, Keyring: "_ses.x"},
		{Join: []Join{{unix.CLONE_NEWNET, "/proc/1/ns/net"}}, Exec: true},
	} {
		msg, err := b.Encode()
		if err != nil {
			f.Fatalf("seed %+v: %v", b, err)
		}
		f.Add(msg)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		b, err := parseBootstrap(msg)
		if err != nil {
			return
		}
		again, err := b.Encode()
		if err != nil {
			t.Fatalf("C parser accepted %q as %+v, Encode rejects it: %v", msg, b, err)
		}
		b2, err := parseBootstrap(again)
		if err != nil {
			t.Fatalf("C parser rejects re-encoded %+v: %v", b, err)
		}
		if !sameBootstrap(b, b2) {
			t.Fatalf("round trip changed %+v into %+v", b, b2)
		}
	})
}
