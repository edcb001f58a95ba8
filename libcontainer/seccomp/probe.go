package seccomp

import (
	"sync"

	"golang.org/x/sys/unix"
)

// kernelHasSpecAllow reports whether seccomp(2) takes
// SECCOMP_FILTER_FLAG_SPEC_ALLOW (Linux 4.17). Asked only when a profile
// without flags is compiled (a cache miss), at most once per berth run: a
// NULL program gets past the flag check to EFAULT, an unknown flag fails
// with EINVAL, and nothing is installed.
var kernelHasSpecAllow = sync.OnceValue(func() bool {
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW, 0)
	return errno == unix.EFAULT
})
