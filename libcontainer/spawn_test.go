package libcontainer

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/nsenter"
)

func TestPrecloned(t *testing.T) {
	const plain = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET | unix.CLONE_NEWPID
	for _, tc := range []struct {
		name string
		b    *nsenter.Bootstrap
		want uint32
	}{
		{"none", nil, 0},
		{"plain", &nsenter.Bootstrap{CloneFlags: plain}, plain},
		{"cgroup stays with init", &nsenter.Bootstrap{CloneFlags: plain | unix.CLONE_NEWCGROUP}, plain},
		{"user", &nsenter.Bootstrap{CloneFlags: plain | unix.CLONE_NEWUSER}, 0},
		{"time", &nsenter.Bootstrap{CloneFlags: plain | unix.CLONE_NEWTIME}, 0},
		{"a join", &nsenter.Bootstrap{CloneFlags: unix.CLONE_NEWNS | unix.CLONE_NEWPID,
			Join: []nsenter.Join{{Flag: unix.CLONE_NEWNET, Path: "/proc/1/ns/net"}}}, 0},
		{"exec", &nsenter.Bootstrap{Exec: true}, 0},
	} {
		if got := precloned(tc.b); got != tc.want {
			t.Errorf("%s: precloned = %#x, want %#x", tc.name, got, tc.want)
		}
	}
}
