package rootfs

import (
	"bytes"
	"slices"
	"testing"
)

func TestHostPseudoMounts(t *testing.T) {
	// 1 "/" holds the host's /proc (2, with binfmt_misc 3 below), /sys (4,
	// with its cgroup tmpfs 5 and a sysfs bind of a subdirectory 6), a
	// tmpfs /tmp (7) with the rootfs (8) on it, and the container's own
	// /proc (9) and /sys (10) below that. 11 is a second full procfs of the
	// host at a path with a space; 12 a procfs under the container's /sys.
	mi := `1 0 8:1 / / rw - ext4 /dev/sda1 rw
2 1 0:20 / /proc rw,nosuid - proc proc rw
3 2 0:40 / /proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw
4 1 0:21 / /sys rw - sysfs sysfs rw
5 4 0:22 / /sys/fs/cgroup ro - tmpfs tmpfs ro
6 1 0:21 /kernel /srv/kernel rw - sysfs sysfs rw
7 1 0:30 / /tmp rw - tmpfs tmpfs rw
8 7 0:30 /b/rootfs /tmp/b/rootfs rw - tmpfs tmpfs rw
9 8 0:50 / /tmp/b/rootfs/proc rw - proc proc rw
10 8 0:51 / /tmp/b/rootfs/sys ro - sysfs sysfs ro
11 7 0:20 / /tmp/host\040proc rw - proc proc rw
12 10 0:50 / /tmp/b/rootfs/sys/p rw - proc proc rw
garbage line
`
	want := []hostMount{{"/proc", "/"}, {"/sys", "/"}, {"/tmp/host proc", "/tmp"}}
	if got := hostPseudoMounts([]byte(mi), 8); !slices.Equal(got, want) {
		t.Errorf("hostPseudoMounts = %q, want %q", got, want)
	}
	// Not knowing the rootfs mount, everything full counts, nested ones
	// only through their top.
	want = []hostMount{{"/proc", "/"}, {"/sys", "/"}, {"/tmp/b/rootfs/proc", "/tmp/b/rootfs"}, {"/tmp/b/rootfs/sys", "/tmp/b/rootfs"}, {"/tmp/host proc", "/tmp"}}
	if got := hostPseudoMounts([]byte(mi), 99); !slices.Equal(got, want) {
		t.Errorf("unknown root: %q", got)
	}
	if got := hostPseudoMounts(nil, 1); len(got) != 0 {
		t.Errorf("empty mountinfo: %q", got)
	}
}

// Mount points are names anyone may choose: the parser must not panic or
// loop on any line, and every point it returns comes from the input.
func FuzzHostPseudoMounts(f *testing.F) {
	f.Add([]byte("1 0 8:1 / / rw - ext4 x rw\n2 1 0:20 / /proc rw - proc proc rw\n"), uint64(1))
	f.Add([]byte("2 2 0:20 / /p\\040q rw - sysfs s rw\n3 2 0:1 / /x - proc\n"), uint64(9))
	f.Fuzz(func(t *testing.T, mi []byte, root uint64) {
		got := hostPseudoMounts(mi, root)
		if len(got) > bytes.Count(mi, []byte(" - "))+1 {
			t.Fatalf("%d points from %d lines", len(got), bytes.Count(mi, []byte("\n"))+1)
		}
	})
}
