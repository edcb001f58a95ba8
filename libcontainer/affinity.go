package libcontainer

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/logs"
)

// allCPUs is a sched_setaffinity mask of every CPU a kernel can have
// (8192: x86's MAXSMP); the kernel clamps it to its own CPUs and to the
// task's cpuset.
var allCPUs [1024]byte

// resetAffinity gives pid every CPU its cgroup's cpuset allows, once it is
// in that cgroup (runc #4041): a process inherits berth's affinity, and
// since Linux 6.2 also the mask a `taskset` gave berth, which the kernel
// keeps intersecting with every cpuset the process moves into. One
// syscall; a failure only warns, as the process can run either way.
func resetAffinity(pid int) {
	if allCPUs[0] == 0 {
		for i := range allCPUs {
			allCPUs[i] = 0xff
		}
	}
	_, _, e := unix.RawSyscall(unix.SYS_SCHED_SETAFFINITY, uintptr(pid), uintptr(len(allCPUs)), uintptr(unsafe.Pointer(&allCPUs[0])))
	if e != 0 {
		logs.Warnf("reset the CPU affinity of pid %d to its cpuset: sched_setaffinity: %v (it keeps berth's)", pid, e)
	}
}

// debugAffinity logs (--debug only) the CPUs pid may run on before it
// joins the container's cgroup, the first 64 as a mask, in the words
// runc's nsexec uses ("nsexec[pid]: affinity: 0x3").
func debugAffinity(pid int) {
	if !logs.Debugging() {
		return
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(pid, &set); err != nil {
		logs.Debugf("nsexec[%d]: affinity: sched_getaffinity: %v", pid, err)
		return
	}
	var mask uint64
	for c := 0; c < 64; c++ {
		if set.IsSet(c) {
			mask |= 1 << c
		}
	}
	logs.Debugf("nsexec[%d]: affinity: %#x", pid, mask)
}

// onCPUs runs start (the fork of exec's init) on a thread of its own
// pinned to set, so the child starts with execCPUAffinity.initial. The
// thread is never unlocked: it ends with the goroutine, and its affinity
// with it, instead of going back to the scheduler.
func onCPUs(set *unix.CPUSet, start func() (int, error)) (int, error) {
	type result struct {
		pid int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.SchedSetaffinity(0, set); err != nil {
			ch <- result{err: fmt.Errorf("process.execCPUAffinity.initial: sched_setaffinity: %w", err)}
			return
		}
		pid, err := start()
		ch <- result{pid, err}
	}()
	r := <-ch
	return r.pid, r.err
}
