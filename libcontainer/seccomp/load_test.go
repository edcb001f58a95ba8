package seccomp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The tests below re-exec the test binary: a filter cannot be removed, so
// each one is loaded in a throw-away child.
const childEnv = "BERTH_SECCOMP_TEST_PLAN"

func TestMain(m *testing.M) {
	if plan := os.Getenv(childEnv); plan != "" {
		os.Exit(childMain(plan))
	}
	os.Exit(m.Run())
}

// bufArg in a call's args is replaced by the child with a 4 KiB buffer.
const bufArg = 0xb0f0b0f0

type call struct {
	Nr   uintptr    `json:"nr"`
	Args [6]uintptr `json:"args"`
}

type result struct {
	R     uintptr `json:"r"`
	Errno int     `json:"errno"`
}

type plan struct {
	Filter   Compiled    `json:"filter"`
	Listener string      `json:"listener,omitempty"`
	Metadata string      `json:"metadata,omitempty"`
	State    specs.State `json:"state"`
	Calls    []call      `json:"calls"`
}

type report struct {
	Mode    string   `json:"mode"` // Seccomp: line of /proc/self/status
	Results []result `json:"results"`
}

func childMain(path string) int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 100
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fail(err)
	}
	var p plan
	if err := json.Unmarshal(b, &p); err != nil {
		return fail(err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fail(err)
	}
	fd, err := Load(&p.Filter)
	if err != nil {
		return fail(err)
	}
	if p.Filter.Notify {
		if fd < 0 {
			return fail(errors.New("Notify filter but no listener fd"))
		}
		if err := SendListener(p.Listener, fd, os.Getpid(), p.Metadata, &p.State); err != nil {
			return fail(err)
		}
		unix.Close(fd)
	} else if fd != -1 {
		return fail(fmt.Errorf("Load returned fd %d without Notify", fd))
	}
	buf := make([]byte, 4096)
	var rep report
	for _, c := range p.Calls {
		for i, a := range c.Args {
			if a == bufArg {
				c.Args[i] = uintptr(unsafe.Pointer(&buf[0]))
			}
		}
		r, _, e := unix.Syscall6(c.Nr, c.Args[0], c.Args[1], c.Args[2], c.Args[3], c.Args[4], c.Args[5])
		rep.Results = append(rep.Results, result{R: r, Errno: int(e)})
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return fail(err)
	}
	for l := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(l, "Seccomp:"); ok {
			rep.Mode = strings.TrimSpace(v)
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		return fail(err)
	}
	return 0
}

func requireSeccomp(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil || !bytes.Contains(b, []byte("\nSeccomp:")) {
		t.Skip("kernel without seccomp")
	}
}

// runChild runs p in a child; it returns the report (nil if the child
// did not finish normally), the wait status and stderr.
func runChild(t *testing.T, p plan, started func(pid int)) (*report, syscall.WaitStatus, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plan.json")
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+path, "GOTRACEBACK=single")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if started != nil {
		started(cmd.Process.Pid)
	}
	err = cmd.Wait()
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if err != nil {
		return nil, ws, stderr.String()
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("child output %q: %v", stdout.String(), err)
	}
	if rep.Mode != "2" {
		t.Errorf("child Seccomp mode = %q, want 2 (filter)", rep.Mode)
	}
	return &rep, ws, stderr.String()
}

// outcome is what a call must return: an errno, or success (Errno 0) with
// R checked only when CheckR.
type outcome struct {
	Errno  syscall.Errno
	CheckR bool
	R      uintptr
}

func ok() outcome                   { return outcome{} }
func ret(r uintptr) outcome         { return outcome{CheckR: true, R: r} }
func fails(e syscall.Errno) outcome { return outcome{Errno: e} }
func (o outcome) String() string {
	if o.Errno != 0 {
		return fmt.Sprintf("errno %d (%v)", int(o.Errno), o.Errno)
	}
	if o.CheckR {
		return fmt.Sprintf("success %d", o.R)
	}
	return "success"
}

func (o outcome) match(r result) bool {
	if syscall.Errno(r.Errno) != o.Errno {
		return false
	}
	return !o.CheckR || r.R == o.R
}

func compileOrFatal(t *testing.T, s *specs.LinuxSeccomp) *Compiled {
	t.Helper()
	c, _, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLoadRuleActionEffect(t *testing.T) {
	requireSeccomp(t)
	ppid := uintptr(os.Getpid()) // the child's parent is this process
	calls := []call{{Nr: unix.SYS_GETPPID, Args: [6]uintptr{1}}, {Nr: unix.SYS_GETPPID, Args: [6]uintptr{0xdead}}}
	for _, tc := range []struct {
		name     string
		action   specs.LinuxSeccompAction
		errnoRet *uint
		flags    []specs.LinuxSeccompFlag
		want     outcome // for getppid(0xdead); getppid(1) must always succeed
		signal   syscall.Signal
	}{
		{name: "errno default EPERM", action: specs.ActErrno, want: fails(unix.EPERM)},
		{name: "errno 38", action: specs.ActErrno, errnoRet: uptr(38), want: fails(unix.ENOSYS)},
		{name: "errno 0 skips the call", action: specs.ActErrno, errnoRet: uptr(0), want: ret(0)},
		{name: "trace without tracer", action: specs.ActTrace, errnoRet: uptr(5), want: fails(unix.ENOSYS)},
		{name: "log", action: specs.ActLog, want: ret(ppid)},
		{name: "flags log spec_allow tsync", action: specs.ActErrno, flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow, "SECCOMP_FILTER_FLAG_TSYNC"}, want: fails(unix.EPERM)},
		{name: "kill process", action: specs.ActKillProcess, signal: unix.SIGSYS},
		{name: "trap", action: specs.ActTrap, signal: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := compileOrFatal(t, &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Flags:         tc.flags,
				Syscalls: []specs.LinuxSyscall{{
					Names: []string{"getppid"}, Action: tc.action, ErrnoRet: tc.errnoRet,
					Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0xdead, Op: specs.OpEqualTo}},
				}},
			})
			rep, ws, stderr := runChild(t, plan{Filter: *c, Calls: calls}, nil)
			switch {
			case tc.signal > 0:
				if !ws.Signaled() || ws.Signal() != tc.signal {
					t.Fatalf("child status %v, want killed by %v; stderr: %s", ws, tc.signal, stderr)
				}
			case tc.signal < 0:
				// SIGSYS reaches the Go runtime, which crashes naming it.
				if rep != nil || !strings.Contains(stderr, "SIGSYS") {
					t.Fatalf("child status %v, want a SIGSYS crash; stderr: %s", ws, stderr)
				}
			default:
				if rep == nil {
					t.Fatalf("child status %v; stderr: %s", ws, stderr)
				}
				if r := rep.Results[0]; !ret(ppid).match(r) {
					t.Errorf("getppid(1) = %+v, want %v", r, ret(ppid))
				}
				if r := rep.Results[1]; !tc.want.match(r) {
					t.Errorf("getppid(0xdead) = %+v, want %v", r, tc.want)
				}
			}
		})
	}
}

func TestLoadArgumentConditions(t *testing.T) {
	requireSeccomp(t)
	const denied = unix.EXFULL
	errno := uint(denied)
	arg := func(i uint, op specs.LinuxSeccompOperator, v, v2 uint64) specs.LinuxSeccompArg {
		return specs.LinuxSeccompArg{Index: i, Op: op, Value: v, ValueTwo: v2}
	}
	r := func(name string, args ...specs.LinuxSeccompArg) specs.LinuxSyscall {
		return specs.LinuxSyscall{Names: []string{name}, Action: specs.ActErrno, ErrnoRet: &errno, Args: args}
	}
	c := compileOrFatal(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{
			// Syscalls that ignore their arguments, one per operator.
			r("getppid", arg(0, specs.OpNotEqual, 5, 0)),
			r("getuid", arg(0, specs.OpLessThan, 5, 0)),
			r("getgid", arg(0, specs.OpLessEqual, 5, 0)),
			r("geteuid", arg(0, specs.OpEqualTo, 5, 0)),
			r("getegid", arg(0, specs.OpGreaterEqual, 5, 0)),
			r("getpgrp", arg(0, specs.OpGreaterThan, 5, 0)),
			// (arg0 & 0xf0) == 0x30
			r("munlockall", arg(0, specs.OpMaskedEqual, 0xf0, 0x30)),
			// Same index twice: either value matches (OR).
			r("getcwd", arg(1, specs.OpEqualTo, 7, 0), arg(1, specs.OpEqualTo, 9, 0)),
			// Different indexes: both must match (AND).
			r("getpriority", arg(0, specs.OpEqualTo, unix.PRIO_PROCESS, 0), arg(1, specs.OpEqualTo, 424242, 0)),
			// Unconditional, with the mkdir family.
			{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.ENOMEDIUM))},
		},
	})
	cases := []struct {
		name string
		c    call
		want outcome
	}{
		{"NE equal passes", call{Nr: unix.SYS_GETPPID, Args: [6]uintptr{5}}, ok()},
		{"NE other denied", call{Nr: unix.SYS_GETPPID, Args: [6]uintptr{6}}, fails(denied)},
		{"LT below denied", call{Nr: unix.SYS_GETUID, Args: [6]uintptr{4}}, fails(denied)},
		{"LT equal passes", call{Nr: unix.SYS_GETUID, Args: [6]uintptr{5}}, ok()},
		{"LE equal denied", call{Nr: unix.SYS_GETGID, Args: [6]uintptr{5}}, fails(denied)},
		{"LE above passes", call{Nr: unix.SYS_GETGID, Args: [6]uintptr{6}}, ok()},
		{"EQ equal denied", call{Nr: unix.SYS_GETEUID, Args: [6]uintptr{5}}, fails(denied)},
		{"EQ other passes", call{Nr: unix.SYS_GETEUID, Args: [6]uintptr{4}}, ok()},
		{"GE equal denied", call{Nr: unix.SYS_GETEGID, Args: [6]uintptr{5}}, fails(denied)},
		{"GE below passes", call{Nr: unix.SYS_GETEGID, Args: [6]uintptr{4}}, ok()},
		{"GT above denied", call{Nr: unix.SYS_GETPGRP, Args: [6]uintptr{6}}, fails(denied)},
		{"GT equal passes", call{Nr: unix.SYS_GETPGRP, Args: [6]uintptr{5}}, ok()},
		{"MASKED_EQ match denied", call{Nr: unix.SYS_MUNLOCKALL, Args: [6]uintptr{0x135}}, fails(denied)},
		{"MASKED_EQ mismatch passes", call{Nr: unix.SYS_MUNLOCKALL, Args: [6]uintptr{0x145}}, ok()},
		{"OR first denied", call{Nr: unix.SYS_GETCWD, Args: [6]uintptr{bufArg, 7}}, fails(denied)},
		{"OR second denied", call{Nr: unix.SYS_GETCWD, Args: [6]uintptr{bufArg, 9}}, fails(denied)},
		{"OR neither passes", call{Nr: unix.SYS_GETCWD, Args: [6]uintptr{bufArg, 4096}}, ok()},
		{"AND both denied", call{Nr: unix.SYS_GETPRIORITY, Args: [6]uintptr{unix.PRIO_PROCESS, 424242}}, fails(denied)},
		{"AND first only passes", call{Nr: unix.SYS_GETPRIORITY, Args: [6]uintptr{unix.PRIO_PROCESS, 0}}, ok()},
		{"AND second only reaches kernel", call{Nr: unix.SYS_GETPRIORITY, Args: [6]uintptr{unix.PRIO_PGRP, 424242}}, fails(unix.ESRCH)},
		{"mkdirat denied", call{Nr: unix.SYS_MKDIRAT, Args: [6]uintptr{^uintptr(99), 0, 0o755}}, fails(unix.ENOMEDIUM)},
		{"mkdir denied", call{Nr: unix.SYS_MKDIR, Args: [6]uintptr{0, 0o755}}, fails(unix.ENOMEDIUM)},
		{"unfiltered syscall passes", call{Nr: unix.SYS_GETPID}, ok()},
	}
	p := plan{Filter: *c}
	for _, tc := range cases {
		p.Calls = append(p.Calls, tc.c)
	}
	rep, ws, stderr := runChild(t, p, nil)
	if rep == nil {
		t.Fatalf("child status %v; stderr: %s", ws, stderr)
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := rep.Results[i]; !tc.want.match(got) {
				t.Errorf("got %+v, want %v", got, tc.want)
			}
		})
	}
}

func TestLoadDockerProfile(t *testing.T) {
	requireSeccomp(t)
	s := loadProfile(t, "testdata/docker-default.json")
	c := compileOrFatal(t, s)
	const (
		vsock           = 40      // AF_VSOCK
		addrNoRandomize = 0x40000 // ADDR_NO_RANDOMIZE
	)
	cases := []struct {
		name string
		c    call
		want outcome
	}{
		// Without the filter (we are root) these would succeed or fail
		// differently (EFAULT, EINVAL), so EPERM proves the filter.
		{"mount", call{Nr: unix.SYS_MOUNT}, fails(unix.EPERM)},
		{"unshare", call{Nr: unix.SYS_UNSHARE, Args: [6]uintptr{unix.CLONE_NEWNS}}, fails(unix.EPERM)},
		{"keyctl", call{Nr: unix.SYS_KEYCTL, Args: [6]uintptr{unix.KEYCTL_GET_KEYRING_ID, ^uintptr(2)}}, fails(unix.EPERM)},
		{"add_key", call{Nr: unix.SYS_ADD_KEY}, fails(unix.EPERM)},
		{"request_key", call{Nr: unix.SYS_REQUEST_KEY}, fails(unix.EPERM)},
		{"ptrace (not listed)", call{Nr: unix.SYS_PTRACE, Args: [6]uintptr{unix.PTRACE_TRACEME}}, fails(unix.EPERM)},
		{"clone with CLONE_NEWUSER", call{Nr: unix.SYS_CLONE, Args: [6]uintptr{unix.CLONE_NEWUSER | unix.CLONE_FS}}, fails(unix.EPERM)},
		{"clone without namespaces reaches kernel", call{Nr: unix.SYS_CLONE, Args: [6]uintptr{unix.CLONE_THREAD}}, fails(unix.EINVAL)},
		{"clone3 ENOSYS", call{Nr: unix.SYS_CLONE3}, fails(unix.ENOSYS)},
		// Above every number the profile names: the prefix, not the
		// default EPERM, so that libc falls back.
		{"syscall 1000 ENOSYS", call{Nr: 1000, Args: [6]uintptr{0xdeadbeef}}, fails(unix.ENOSYS)},
		{"x32 syscall 1000 ENOSYS", call{Nr: 0x40000000 + 1000}, fails(unix.ENOSYS)},
		{"personality query", call{Nr: unix.SYS_PERSONALITY, Args: [6]uintptr{0xffffffff}}, ok()},
		{"personality ADDR_NO_RANDOMIZE", call{Nr: unix.SYS_PERSONALITY, Args: [6]uintptr{addrNoRandomize}}, fails(unix.EPERM)},
		{"socket AF_VSOCK", call{Nr: unix.SYS_SOCKET, Args: [6]uintptr{vsock, unix.SOCK_STREAM}}, fails(unix.EPERM)},
		{"socket AF_UNIX", call{Nr: unix.SYS_SOCKET, Args: [6]uintptr{unix.AF_UNIX, unix.SOCK_STREAM | unix.SOCK_CLOEXEC}}, ok()},
		{"getcwd", call{Nr: unix.SYS_GETCWD, Args: [6]uintptr{bufArg, 4096}}, ok()},
		{"uname", call{Nr: unix.SYS_UNAME, Args: [6]uintptr{bufArg}}, ret(0)},
		{"getpid", call{Nr: unix.SYS_GETPID}, ok()},
		{"mkdirat reaches kernel", call{Nr: unix.SYS_MKDIRAT, Args: [6]uintptr{^uintptr(99), 0, 0o755}}, fails(unix.EFAULT)},
	}
	p := plan{Filter: *c}
	for _, tc := range cases {
		p.Calls = append(p.Calls, tc.c)
	}
	// The child's Go runtime running (threads, GC, output) under the filter
	// is itself part of the check.
	rep, ws, stderr := runChild(t, p, nil)
	if rep == nil {
		t.Fatalf("child status %v; stderr: %s", ws, stderr)
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := rep.Results[i]; !tc.want.match(got) {
				t.Errorf("got %+v, want %v", got, tc.want)
			}
		})
	}
}

// Kernel structures of seccomp_unotify(2).
type seccompData struct {
	Nr   int32
	Arch uint32
	IP   uint64
	Args [6]uint64
}

type seccompNotif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Data  seccompData
}

type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// agent is a minimal seccomp agent: it receives the state and the fd,
// answers the first notification with val 4242 and the second with EXDEV.
func agent(ln *os.File, got chan<- agentResult) {
	var res agentResult
	defer func() { got <- res }()
	conn, _, err := unix.Accept4(int(ln.Fd()), unix.SOCK_CLOEXEC)
	if err != nil {
		res.err = fmt.Errorf("accept: %w", err)
		return
	}
	defer unix.Close(conn)
	var payload []byte
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4*4))
	fd := -1
	for {
		n, oobn, _, _, err := unix.Recvmsg(conn, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != nil {
			res.err = fmt.Errorf("recvmsg: %w", err)
			return
		}
		if oobn > 0 {
			scms, err := unix.ParseSocketControlMessage(oob[:oobn])
			if err != nil || len(scms) != 1 {
				res.err = fmt.Errorf("control message: %v (%d)", err, len(scms))
				return
			}
			fds, err := unix.ParseUnixRights(&scms[0])
			if err != nil {
				res.err = err
				return
			}
			res.nfds += len(fds)
			fd = fds[0]
		}
		if n == 0 {
			break
		}
		payload = append(payload, buf[:n]...)
	}
	if err := json.Unmarshal(payload, &res.state); err != nil {
		res.err = fmt.Errorf("state %q: %w", payload, err)
		return
	}
	if fd < 0 {
		res.err = errors.New("no fd received")
		return
	}
	defer unix.Close(fd)
	answers := []seccompNotifResp{{Val: 4242}, {Error: -int32(unix.EXDEV)}}
	for _, a := range answers {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 20000)
		for err == unix.EINTR { // Go's preemption signal interrupts poll
			n, err = unix.Poll(pfd, 20000)
		}
		if err != nil || n != 1 || pfd[0].Revents&unix.POLLIN == 0 {
			res.err = fmt.Errorf("poll listener: n=%d revents=%#x: %v", n, pfd[0].Revents, err)
			return
		}
		var req seccompNotif
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&req))); e != 0 {
			res.err = fmt.Errorf("NOTIF_RECV: %w", e)
			return
		}
		res.reqs = append(res.reqs, req)
		// req.Pid is the calling thread; find its process while it waits.
		res.tgids = append(res.tgids, tgid(int(req.Pid)))
		a.ID = req.ID
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&a))); e != 0 {
			res.err = fmt.Errorf("NOTIF_SEND: %w", e)
			return
		}
	}
}

type agentResult struct {
	err   error
	state specs.ContainerProcessState
	nfds  int
	reqs  []seccompNotif
	tgids []int
}

func tgid(tid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "Tgid:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return -1
}

func TestLoadNotifyAgentAnswers(t *testing.T) {
	requireSeccomp(t)
	for _, tc := range []struct {
		name  string
		flags []specs.LinuxSeccompFlag
	}{
		{"no flags", nil},
		{"tsync", []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_TSYNC"}},
		{"wait killable recv", []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "agent.sock")
			lfd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			ln := os.NewFile(uintptr(lfd), sock)
			defer ln.Close()
			if err := unix.Bind(lfd, &unix.SockaddrUnix{Name: sock}); err != nil {
				t.Fatal(err)
			}
			if err := unix.Listen(lfd, 1); err != nil {
				t.Fatal(err)
			}
			c := compileOrFatal(t, &specs.LinuxSeccomp{
				DefaultAction:    specs.ActAllow,
				Flags:            tc.flags,
				ListenerPath:     sock,
				ListenerMetadata: "MKNOD=/dev/null",
				Syscalls: []specs.LinuxSyscall{{
					Names: []string{"getppid"}, Action: specs.ActNotify,
					Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0xbeef, Op: specs.OpGreaterEqual}},
				}},
			})
			state := specs.State{Version: specs.Version, ID: "ctr1", Status: specs.StateCreating, Bundle: "/b", Annotations: map[string]string{"k": "v"}}
			got := make(chan agentResult, 1)
			go agent(ln, got)
			var childPid int
			rep, ws, stderr := runChild(t, plan{
				Filter: *c, Listener: sock, Metadata: "MKNOD=/dev/null", State: state,
				Calls: []call{
					{Nr: unix.SYS_GETPPID, Args: [6]uintptr{0xbeef}},
					{Nr: unix.SYS_GETPPID, Args: [6]uintptr{0xbeef + 1}},
					{Nr: unix.SYS_GETPPID, Args: [6]uintptr{1}},
				},
			}, func(pid int) { childPid = pid })
			if rep == nil {
				t.Fatalf("child status %v; stderr: %s", ws, stderr)
			}
			a := <-got
			if a.err != nil {
				t.Fatalf("agent: %v", a.err)
			}
			wantState := specs.ContainerProcessState{Version: specs.Version, Fds: []string{"seccompFd"}, Pid: childPid, Metadata: "MKNOD=/dev/null", State: state}
			if fmt.Sprint(a.state) != fmt.Sprint(wantState) {
				t.Errorf("seccomp state = %+v, want %+v", a.state, wantState)
			}
			if a.nfds != 1 {
				t.Errorf("agent received %d fds, want 1", a.nfds)
			}
			for i, want := range []uint64{0xbeef, 0xbeef + 1} {
				if r := a.reqs[i]; r.Data.Nr != unix.SYS_GETPPID || r.Data.Args[0] != want || a.tgids[i] != childPid {
					t.Errorf("notification %d = nr %d arg0 %#x from process %d, want getppid(%#x) from %d", i, r.Data.Nr, r.Data.Args[0], a.tgids[i], want, childPid)
				}
			}
			for i, want := range []outcome{ret(4242), fails(unix.EXDEV), ret(uintptr(os.Getpid()))} {
				if r := rep.Results[i]; !want.match(r) {
					t.Errorf("call %d = %+v, want %v", i, r, want)
				}
			}
		})
	}
}

func TestLoadRejectsMalformed(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    *Compiled
	}{
		{"nil", nil},
		{"empty", &Compiled{}},
		{"partial instruction", &Compiled{BPF: make([]byte, 12)}},
		{"too long", &Compiled{BPF: make([]byte, (maxInsns+1)*sockFilterSize)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd, err := Load(tc.c)
			if err == nil || fd != -1 || !strings.HasPrefix(err.Error(), "seccomp: invalid compiled filter") {
				t.Errorf("Load = %d, %v; want -1 and an invalid-filter error", fd, err)
			}
		})
	}
}

func TestSendListenerErrors(t *testing.T) {
	st := &specs.State{ID: "x"}
	missing := filepath.Join(t.TempDir(), "none.sock")
	for _, tc := range []struct {
		name, path string
		state      *specs.State
		want       string
	}{
		{"empty path", "", st, "linux.seccomp.listenerPath: empty"},
		{"nil state", missing, nil, "seccomp listener: missing container state"},
		{"no agent", missing, st, fmt.Sprintf("linux.seccomp.listenerPath %q: failed to connect with seccomp agent: no such file or directory", missing)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := SendListener(tc.path, 0, 1, "", tc.state)
			if err == nil || err.Error() != tc.want {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
