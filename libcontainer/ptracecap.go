package libcontainer

import (
	"sync"

	"golang.org/x/sys/unix"
)

// canPtrace reports whether berth's effective set holds CAP_SYS_PTRACE,
// which joining a non-dumpable init through its pidfd or its /proc
// entries takes. One capget per process, and only for the configs that
// ask (a root runtime under a container manager's default caps lacks it).
var canPtrace = sync.OnceValue(func() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[unix.CAP_SYS_PTRACE/32].Effective&(1<<(unix.CAP_SYS_PTRACE%32)) != 0
})
