package main

// Process plumbing: the subreaper, the reaper goroutine that collects every
// exit with its rusage, the threads that own a private mount namespace and
// fork every measured command, and /proc scans for live descendants.

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// exit is one process reaped by benchrun, with what wait4 reported. wait4's
// rusage covers the process and every descendant it reaped itself, so the
// exits benchrun sees cover the whole tree exactly once.
type exit struct {
	pid    int
	seq    uint64
	status syscall.WaitStatus
	ru     unix.Rusage
	at     time.Time
}

func (e exit) cpu() time.Duration {
	return time.Duration(e.ru.Utime.Nano() + e.ru.Stime.Nano())
}

// maxRSS is in KiB, as the kernel reports it.
func (e exit) maxRSS() int64 { return e.ru.Maxrss }

type reaper struct {
	mu     sync.Mutex
	cond   *sync.Cond
	seq    uint64
	latest map[int]exit // the most recent exit of each pid
	log    []exit       // every exit, in order (log[i].seq == i+1)
	kick   chan struct{}
}

func newReaper() (*reaper, error) {
	// Every orphan below benchrun (a container's init once create exits, a
	// double-forked helper) is reparented to benchrun, reaped here, and its
	// rusage counted.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", err)
	}
	r := &reaper{latest: map[int]exit{}, kick: make(chan struct{}, 1)}
	r.cond = sync.NewCond(&r.mu)
	go r.loop()
	return r, nil
}

func (r *reaper) loop() {
	for {
		var ws unix.WaitStatus
		var ru unix.Rusage
		pid, err := unix.Wait4(-1, &ws, unix.WALL, &ru)
		now := time.Now()
		if err == unix.EINTR {
			continue
		}
		if err == unix.ECHILD {
			<-r.kick // no children: wait until something is forked
			continue
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchrun: wait4: %v\n", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		r.mu.Lock()
		r.seq++
		e := exit{pid: pid, seq: r.seq, status: syscall.WaitStatus(ws), ru: ru, at: now}
		r.latest[pid] = e
		r.log = append(r.log, e)
		r.cond.Broadcast()
		r.mu.Unlock()
	}
}

// mark is the sequence number of the last exit so far: exits after it have
// a larger one.
func (r *reaper) mark() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq
}

func (r *reaper) forked() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// wait returns the first exit of pid reaped after mark.
func (r *reaper) wait(pid int, after uint64) exit {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		if e, ok := r.latest[pid]; ok && e.seq > after {
			return e
		}
		r.cond.Wait()
	}
}

// waitTimeout is wait with a deadline; ok is false on timeout.
func (r *reaper) waitTimeout(pid int, after uint64, d time.Duration) (exit, bool) {
	done := make(chan exit, 1)
	go func() { done <- r.wait(pid, after) }()
	select {
	case e := <-done:
		return e, true
	case <-time.After(d):
		return exit{}, false
	}
}

// since returns every exit after mark, up to and including upto.
func (r *reaper) since(after, upto uint64) []exit {
	r.mu.Lock()
	defer r.mu.Unlock()
	if upto > r.seq {
		upto = r.seq
	}
	if after >= upto {
		return nil
	}
	out := make([]exit, upto-after)
	copy(out, r.log[after:upto])
	return out
}

// nsThread is a goroutine locked to an OS thread that has its own private
// mount namespace; every command it forks starts in that namespace. This is
// `unshare -m` paid once instead of once per command, so no runtime's
// numbers include the wrapper (and no wrapper's memory is counted).
type nsThread struct {
	name string
	req  chan spawnReq
}

type spawnReq struct {
	argv  []string
	files []*os.File // the child's fds 0, 1, 2, ...
	resp  chan spawnResp
}

type spawnResp struct {
	pid   int
	mark  uint64
	start time.Time
	err   error
}

var benchEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"LANG=C",
}

func newNSThread(name string, rp *reaper, cgroup2 bool) (*nsThread, error) {
	t := &nsThread{name: name, req: make(chan spawnReq)}
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread's namespace differs from the others',
		// so it must die with this goroutine, never return to the pool.
		runtime.LockOSThread()
		if err := setupMountNS(cgroup2); err != nil {
			errc <- fmt.Errorf("%s namespace: %w", name, err)
			return
		}
		errc <- nil
		for r := range t.req {
			fds := make([]uintptr, len(r.files))
			for i, f := range r.files {
				fds[i] = f.Fd()
			}
			attr := &syscall.ProcAttr{Env: benchEnv, Files: fds}
			mark := rp.mark()
			start := time.Now()
			pid, err := syscall.ForkExec(r.argv[0], r.argv, attr)
			if err == nil {
				rp.forked()
			}
			r.resp <- spawnResp{pid: pid, mark: mark, start: start, err: err}
		}
	}()
	return t, <-errc
}

func setupMountNS(cgroup2 bool) error {
	// unshare(CLONE_NEWNS) also unshares this thread's fs struct, which is
	// what makes a per-thread mount namespace possible.
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare(CLONE_NEWNS): %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / rprivate: %w", err)
	}
	if !cgroup2 {
		return nil
	}
	// crun 1.8 refuses hybrid cgroups: show it a cgroup2 mount instead
	// (it runs with --cgroup-manager=disabled anyway).
	if err := unix.Unmount("/sys/fs/cgroup", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("umount /sys/fs/cgroup: %w", err)
	}
	if err := unix.Mount("none", "/sys/fs/cgroup", "cgroup2", 0, ""); err != nil {
		return fmt.Errorf("mount cgroup2 on /sys/fs/cgroup: %w", err)
	}
	return nil
}

func (t *nsThread) spawn(argv []string, files []*os.File) spawnResp {
	resp := make(chan spawnResp, 1)
	t.req <- spawnReq{argv: argv, files: files, resp: resp}
	return <-resp
}

// procInfo is what /proc says about one live process.
type procInfo struct {
	pid, ppid int
	cpu       time.Duration // utime+stime so far
	hwm, rss  int64         // VmHWM, VmRSS in KiB
	state     byte
}

var clockTick = time.Second / 100 // USER_HZ is 100 on every Linux architecture Go supports

func readStat(pid int) (ppid int, state byte, cpu time.Duration, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 13 {
		return 0, 0, 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	ppid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ppid, f[0][0], time.Duration(ut+st) * clockTick, nil
}

func readMem(pid int) (hwm, rss int64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmHWM":
			hwm = n
		case "VmRSS":
			rss = n
		}
	}
	return hwm, rss
}

// descendants lists benchrun's live descendants (zombies excluded).
func descendants() map[int]procInfo {
	self := os.Getpid()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	all := map[int]procInfo{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		ppid, st, cpu, err := readStat(pid)
		if err != nil {
			continue
		}
		all[pid] = procInfo{pid: pid, ppid: ppid, cpu: cpu, state: st}
	}
	out := map[int]procInfo{}
	var mine func(pid int, depth int) bool
	mine = func(pid int, depth int) bool {
		if depth > 64 {
			return false
		}
		p, ok := all[pid]
		if !ok {
			return false
		}
		if p.ppid == self {
			return true
		}
		return mine(p.ppid, depth+1)
	}
	for pid, p := range all {
		if p.state == 'Z' || p.state == 'X' || !mine(pid, 0) {
			continue
		}
		p.hwm, p.rss = readMem(pid)
		out[pid] = p
	}
	return out
}
