package nsenter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

var nsFiles = []string{"user", "mnt", "uts", "ipc", "net", "pid", "cgroup", "time"}

// report is what the test binary prints when it runs as init.
type report struct {
	Pid       int
	UID, GID  int
	NS        map[string]string
	UIDMap    string
	Monotonic int64 // ns
	Boottime  int64 // ns
	Env       string
	Pdeathsig int
}

func TestMain(m *testing.M) {
	// Re-executed as init: the constructor already ran; report and never
	// run tests.
	if v, ok := os.LookupEnv(EnvInitPipe); ok {
		os.Exit(initMain(v))
	}
	// Grandchildren forked by the constructor get reparented to us, so
	// tests can reap them.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "set child subreaper:", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

func initMain(env string) int {
	r := report{Pid: os.Getpid(), UID: os.Getuid(), GID: os.Getgid(), NS: map[string]string{}, Env: env}
	for _, n := range nsFiles {
		r.NS[n], _ = os.Readlink("/proc/self/ns/" + n)
	}
	m, _ := os.ReadFile("/proc/self/uid_map")
	r.UIDMap = string(m)
	r.Monotonic = clockNs(unix.CLOCK_MONOTONIC)
	r.Boottime = clockNs(unix.CLOCK_BOOTTIME)
	var sig int32
	if err := unix.Prctl(unix.PR_GET_PDEATHSIG, uintptr(unsafe.Pointer(&sig)), 0, 0, 0); err != nil {
		r.Pdeathsig = -1
	} else {
		r.Pdeathsig = int(sig)
	}
	if err := json.NewEncoder(os.Stdout).Encode(&r); err != nil {
		return 3
	}
	return 0
}

func clockNs(id int32) int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(id, &ts); err != nil {
		return -1
	}
	return ts.Nano()
}

// run is one re-execution of the test binary as init.
type run struct {
	pid      int // from Handshake
	err      error
	cmd      *exec.Cmd
	exit     int // exit status of the direct child
	initExit int // exit status of the forked init, -1 when there was no fork
	stdout   string
	stderr   string
}

// startInit re-executes the test binary with the init socket and runs the
// handshake on msg. It waits for every process it caused to exit.
func startInit(t *testing.T, msg []byte, onReady func(cmd *exec.Cmd, pid int) error, setup func(*exec.Cmd)) *run {
	t.Helper()
	return startInitThen(t, msg, onReady, setup, nil)
}

// startInitThen is startInit that, after FINAL, lets after talk to init
// (C init) before the socket is closed.
func startInitThen(t *testing.T, msg []byte, onReady func(cmd *exec.Cmd, pid int) error, setup func(*exec.Cmd), after func(parent *os.File, pid int)) *run {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	parent := os.NewFile(uintptr(fds[0]), "init-parent")
	child := os.NewFile(uintptr(fds[1]), "init-child")
	defer parent.Close()

	var stdout, stderr bytes.Buffer
	r := &run{initExit: -1}
	r.cmd = exec.Command(os.Args[0], "-test.run=^$")
	r.cmd.Env = append(os.Environ(), EnvInitPipe+"=3")
	r.cmd.ExtraFiles = []*os.File{child}
	r.cmd.Stdout, r.cmd.Stderr = &stdout, &stderr
	if setup != nil {
		setup(r.cmd)
	}
	if err := r.cmd.Start(); err != nil {
		child.Close()
		t.Fatalf("start init: %v", err)
	}
	child.Close()
	// Never hang the test run on a protocol bug.
	timer := time.AfterFunc(30*time.Second, func() { _ = r.cmd.Process.Kill() })
	defer timer.Stop()

	var ready func(int) error
	if onReady != nil {
		ready = func(pid int) error { return onReady(r.cmd, pid) }
	}
	r.pid, r.err = handshake(parent, msg, ready)
	if r.err == nil && after != nil {
		after(parent, r.pid)
	}
	parent.Close() // init sees EOF if it is still waiting for us
	var exitErr *exec.ExitError
	if werr := r.cmd.Wait(); werr != nil && !errors.As(werr, &exitErr) {
		t.Fatalf("wait init: %v", werr)
	}
	r.exit = r.cmd.ProcessState.ExitCode() // -1 when killed by a signal
	if r.err == nil && r.pid != r.cmd.Process.Pid {
		var ws unix.WaitStatus
		if _, err := unix.Wait4(r.pid, &ws, 0, nil); err != nil {
			t.Fatalf("wait4 forked init %d: %v", r.pid, err)
		}
		r.initExit = ws.ExitStatus()
	}
	r.stdout, r.stderr = stdout.String(), stderr.String()
	return r
}

func mustEncode(t *testing.T, b Bootstrap) []byte {
	t.Helper()
	msg, err := b.Encode()
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return msg
}

// succeed checks that init ran and returns its report.
func (r *run) succeed(t *testing.T, wantFork bool) report {
	t.Helper()
	if r.err != nil {
		t.Fatalf("Handshake: %v (stderr %q)", r.err, r.stderr)
	}
	if r.exit != 0 {
		t.Fatalf("direct child exit %d, want 0 (stderr %q)", r.exit, r.stderr)
	}
	if forked := r.pid != r.cmd.Process.Pid; forked != wantFork {
		t.Fatalf("FINAL pid %d, child pid %d: forked=%v, want %v", r.pid, r.cmd.Process.Pid, forked, wantFork)
	}
	if wantFork && r.initExit != 0 {
		t.Fatalf("forked init exit %d, want 0 (stderr %q)", r.initExit, r.stderr)
	}
	var rep report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("init report %q: %v", r.stdout, err)
	}
	if rep.Env != "3" {
		t.Errorf("init saw %s=%q, want it left set to 3", EnvInitPipe, rep.Env)
	}
	return rep
}

// fail checks that init reported an error containing want and never ran Go init.
func (r *run) fail(t *testing.T, want string) {
	t.Helper()
	var ce *ChildError
	if !errors.As(r.err, &ce) || !strings.Contains(ce.Msg, want) {
		t.Fatalf("Handshake error = %v, want ChildError containing %q", r.err, want)
	}
	if r.exit != 1 {
		t.Errorf("init exit %d, want 1", r.exit)
	}
	if r.stdout != "" {
		t.Errorf("Go init ran after an error: stdout %q", r.stdout)
	}
}

func selfNS(t *testing.T, pid string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, n := range nsFiles {
		l, err := os.Readlink("/proc/" + pid + "/ns/" + n)
		if err != nil {
			t.Fatalf("readlink ns %s of %s: %v", n, pid, err)
		}
		m[n] = l
	}
	return m
}

func checkNS(t *testing.T, got, ref map[string]string, differ map[string]bool) {
	t.Helper()
	for _, n := range nsFiles {
		if same := got[n] == ref[n]; same == differ[n] {
			t.Errorf("ns %s: init %s, reference %s, want different=%v", n, got[n], ref[n], differ[n])
		}
	}
}

func TestCreateNamespaces(t *testing.T) {
	tests := []struct {
		name  string
		flags uint32
		fork  bool
		new   map[string]bool
	}{
		{"pid forks", unix.CLONE_NEWUTS | unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP, true,
			map[string]bool{"uts": true, "pid": true, "mnt": true, "ipc": true, "net": true, "cgroup": true}},
		{"no pid no fork", unix.CLONE_NEWUTS | unix.CLONE_NEWNET, false,
			map[string]bool{"uts": true, "net": true}},
		{"nothing", 0, false, map[string]bool{}},
	}
	host := selfNS(t, "self")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			readyPid := 0
			r := startInit(t, mustEncode(t, Bootstrap{CloneFlags: tt.flags}), func(cmd *exec.Cmd, pid int) error {
				readyPid = pid
				return nil
			}, nil)
			rep := r.succeed(t, tt.fork)
			if readyPid != r.cmd.Process.Pid {
				t.Errorf("READY pid %d, want the direct child %d", readyPid, r.cmd.Process.Pid)
			}
			checkNS(t, rep.NS, host, tt.new)
			wantPid := r.pid
			if tt.new["pid"] {
				wantPid = 1
			}
			if rep.Pid != wantPid {
				t.Errorf("init getpid() = %d, want %d", rep.Pid, wantPid)
			}
			if tt.fork && rep.Pdeathsig != 0 {
				t.Errorf("forked init has parent-death signal %d, want none", rep.Pdeathsig)
			}
		})
	}
}

func writeMaps(pid int, setgroups string) error {
	p := "/proc/" + strconv.Itoa(pid) + "/"
	if setgroups != "" {
		if err := os.WriteFile(p+"setgroups", []byte(setgroups), 0); err != nil {
			return err
		}
	}
	if err := os.WriteFile(p+"uid_map", []byte("0 1000 1\n"), 0); err != nil {
		return err
	}
	return os.WriteFile(p+"gid_map", []byte("0 1000 1\n"), 0)
}

func TestUserNamespace(t *testing.T) {
	tests := []struct {
		name      string
		flags     uint32
		idmap     bool
		setgroups string
		fork      bool
		wantUID   int
	}{
		{"maps no fork", unix.CLONE_NEWUSER | unix.CLONE_NEWUTS, true, "", false, 0},
		{"maps setgroups denied", unix.CLONE_NEWUSER | unix.CLONE_NEWUTS, true, "deny", false, 0},
		{"maps with pid ns", unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNS, true, "", true, 0},
		{"no maps stays overflow", unix.CLONE_NEWUSER, false, "", false, 65534},
	}
	host := selfNS(t, "self")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Bootstrap{CloneFlags: tt.flags, IDMap: tt.idmap}
			r := startInit(t, mustEncode(t, b), func(cmd *exec.Cmd, pid int) error {
				if !tt.idmap {
					return nil
				}
				return writeMaps(pid, tt.setgroups)
			}, func(cmd *exec.Cmd) {
				// setresuid clears it; the constructor must restore it.
				cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGUSR2}
			})
			rep := r.succeed(t, tt.fork)
			if rep.UID != tt.wantUID || rep.GID != tt.wantUID {
				t.Errorf("init uid/gid = %d/%d, want %d", rep.UID, rep.GID, tt.wantUID)
			}
			if rep.NS["user"] == host["user"] {
				t.Errorf("init still in the host user namespace %s", rep.NS["user"])
			}
			if tt.idmap && strings.Join(strings.Fields(rep.UIDMap), " ") != "0 1000 1" {
				t.Errorf("init uid_map = %q, want 0 1000 1", rep.UIDMap)
			}
			if !tt.fork && rep.Pdeathsig != int(syscall.SIGUSR2) {
				t.Errorf("init parent-death signal %d, want SIGUSR2 kept", rep.Pdeathsig)
			}
		})
	}
}

func TestTimeNamespace(t *testing.T) {
	const mono, boot = 86400, 2 * 86400
	b := Bootstrap{
		CloneFlags:  unix.CLONE_NEWTIME,
		TimeOffsets: fmt.Sprintf("monotonic %d 0\nboottime %d 0\n", mono, boot),
	}
	before := map[int32]int64{unix.CLOCK_MONOTONIC: clockNs(unix.CLOCK_MONOTONIC), unix.CLOCK_BOOTTIME: clockNs(unix.CLOCK_BOOTTIME)}
	r := startInit(t, mustEncode(t, b), nil, nil)
	rep := r.succeed(t, true)
	host := selfNS(t, "self")
	checkNS(t, rep.NS, host, map[string]bool{"time": true})
	for _, c := range []struct {
		name   string
		got    int64
		clock  int32
		offset int64
	}{
		{"monotonic", rep.Monotonic, unix.CLOCK_MONOTONIC, mono},
		{"boottime", rep.Boottime, unix.CLOCK_BOOTTIME, boot},
	} {
		lo := before[c.clock] + c.offset*1e9
		hi := clockNs(c.clock) + c.offset*1e9
		if c.got < lo || c.got > hi {
			t.Errorf("%s in init = %d, want within [%d, %d] (offset %ds)", c.name, c.got, lo, hi, c.offset)
		}
	}
}

// startHolder starts a process holding new namespaces for the test to join.
func startHolder(t *testing.T, attr *syscall.SysProcAttr) int {
	t.Helper()
	cmd := exec.Command("sleep", "infinity")
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start namespace holder: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd.Process.Pid
}

func TestJoinNamespaces(t *testing.T) {
	holder := startHolder(t, &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS,
	})
	userHolder := startHolder(t, &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWUTS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 1000, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 1000, Size: 1}},
	})
	path := func(pid int, ns string) string { return fmt.Sprintf("/proc/%d/ns/%s", pid, ns) }
	host := selfNS(t, "self")
	tests := []struct {
		name    string
		b       Bootstrap
		ref     int
		joined  []string
		created []string
		fork    bool
		uid     int
	}{
		{"uts ipc net mnt pid", Bootstrap{Join: []Join{
			{unix.CLONE_NEWUTS, path(holder, "uts")},
			{unix.CLONE_NEWIPC, path(holder, "ipc")},
			{unix.CLONE_NEWNET, path(holder, "net")},
			{unix.CLONE_NEWPID, path(holder, "pid")},
			{unix.CLONE_NEWNS, path(holder, "mnt")},
		}}, holder, []string{"uts", "ipc", "net", "pid", "mnt"}, nil, true, 0},
		// User listed last but joined first; then uid 0 inside it.
		{"user listed last", Bootstrap{Join: []Join{
			{unix.CLONE_NEWUTS, path(userHolder, "uts")},
			{unix.CLONE_NEWUSER, path(userHolder, "user")},
		}}, userHolder, []string{"uts", "user"}, nil, false, 0},
		{"join net create uts", Bootstrap{CloneFlags: unix.CLONE_NEWUTS, Join: []Join{
			{unix.CLONE_NEWNET, path(holder, "net")},
		}}, holder, []string{"net"}, []string{"uts"}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := selfNS(t, strconv.Itoa(tt.ref))
			rep := startInit(t, mustEncode(t, tt.b), nil, nil).succeed(t, tt.fork)
			for _, n := range tt.joined {
				if rep.NS[n] != ref[n] {
					t.Errorf("ns %s: init %s, want joined %s", n, rep.NS[n], ref[n])
				}
			}
			for _, n := range tt.created {
				if rep.NS[n] == ref[n] || rep.NS[n] == host[n] {
					t.Errorf("ns %s: init %s, want a new one", n, rep.NS[n])
				}
			}
			if rep.UID != tt.uid {
				t.Errorf("init uid %d, want %d", rep.UID, tt.uid)
			}
			if tt.fork && rep.Pid <= 1 {
				t.Errorf("init pid %d in the joined pid ns, want > 1 (holder is 1)", rep.Pid)
			}
		})
	}
}

func TestInitErrors(t *testing.T) {
	tests := []struct {
		name string
		msg  []byte
		want string
	}{
		{"missing join path", mustEncode(t, Bootstrap{Join: []Join{{unix.CLONE_NEWNET, "/nonexistent/ns/net"}}}),
			"open net /nonexistent/ns/net: No such file or directory"},
		{"wrong namespace type", mustEncode(t, Bootstrap{Join: []Join{{unix.CLONE_NEWNET, "/proc/self/ns/uts"}}}),
			"setns net /proc/self/ns/uts: Invalid argument"},
		{"bad magic", append(u32(0xdeadbeef), u32(0)...), "bootstrap: bad magic 0xdeadbeef"},
		{"length over limit", append(u32(magic), u32(maxBody+1)...), "exceeds 65536"},
		{"unknown attribute", (&msgBuilder{}).attr(42, 0, []byte("x")).bytes(), "unknown attribute type 42"},
		{"join two flags", (&msgBuilder{}).attr(attrJoin, 0, joinVal(unix.CLONE_NEWNET|unix.CLONE_NEWIPC, "/x")).bytes(),
			"not a single namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			startInit(t, tt.msg, nil, nil).fail(t, tt.want)
		})
	}
}

func TestOnReadyError(t *testing.T) {
	boom := errors.New("cgroup apply failed")
	r := startInit(t, mustEncode(t, Bootstrap{CloneFlags: unix.CLONE_NEWPID}), func(*exec.Cmd, int) error { return boom }, nil)
	if !errors.Is(r.err, boom) {
		t.Fatalf("Handshake error = %v, want the onReady error", r.err)
	}
	if r.exit != 1 || r.stdout != "" {
		t.Fatalf("init exit %d stdout %q, want exit 1 and Go init not run", r.exit, r.stdout)
	}
}

func TestInitDiesDuringSetup(t *testing.T) {
	r := startInit(t, mustEncode(t, Bootstrap{CloneFlags: unix.CLONE_NEWUTS}), func(cmd *exec.Cmd, pid int) error {
		if err := cmd.Process.Kill(); err != nil {
			return err
		}
		// Wait for death without reaping, so the socket is surely closed.
		var info unix.Siginfo
		return unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
	}, nil)
	if !errors.Is(r.err, ErrInitExited) {
		t.Fatalf("Handshake error = %v, want ErrInitExited", r.err)
	}
	if r.stdout != "" {
		t.Fatalf("Go init ran: %q", r.stdout)
	}
}

func TestBadInitPipeEnv(t *testing.T) {
	for _, v := range []string{"abc", "", "99", "-1", "99999999999"} {
		t.Run(v, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), EnvInitPipe+"="+v)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1 {
				t.Fatalf("run with %s=%q: %v, want exit 1", EnvInitPipe, v, err)
			}
			if !strings.Contains(stderr.String(), "is not an open fd") || stdout.Len() != 0 {
				t.Fatalf("stdout %q stderr %q, want only the fd error on stderr", stdout.String(), stderr.String())
			}
		})
	}
}

// C init (CINIT) makes the procfs of its pid namespace for berth, and
// refuses to wait for start unless its root is the one berth says it
// pivoted into (a chrooted berth would otherwise leave it on the host).
func TestCInit(t *testing.T) {
	var root unix.Stat_t
	if err := unix.Stat("/", &root); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		rootID  [2]uint64
		wantErr string
	}{
		{"its root is the container's", [2]uint64{root.Dev, root.Ino}, ""},
		{"its root did not move", [2]uint64{root.Dev, root.Ino + 1}, "not the container's"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := mustEncode(t, Bootstrap{CloneFlags: unix.CLONE_NEWNS | unix.CLONE_NEWPID, CInit: true, Proc: []string{"hidepid=2"}})
			var mounts []int
			var readyErr error
			r := startInitThen(t, msg, nil, nil, func(parent *os.File, pid int) {
				var err error
				if mounts, err = ReadMounts(parent); err != nil {
					t.Errorf("ReadMounts: %v", err)
					return
				}
				fifo := uint32(0) // never reached: init is killed or fails first
				p := Process{Args: []string{"/bin/true"}, Cwd: "/", Path: "/bin/true", FIFO: &fifo, RootID: &tt.rootID}
				b, err := p.Encode()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := parent.Write(b); err != nil {
					t.Fatal(err)
				}
				readyErr = WaitInitReady(parent)
				unix.Kill(pid, unix.SIGKILL)
			})
			if r.err != nil {
				t.Fatalf("handshake: %v (stderr %q)", r.err, r.stderr)
			}
			defer func() {
				for _, fd := range mounts {
					unix.Close(fd)
				}
			}()
			if len(mounts) != 1 {
				t.Fatalf("got %d procfs fds, want 1", len(mounts))
			}
			var st unix.Statfs_t
			if err := unix.Fstatfs(mounts[0], &st); err != nil || st.Type != unix.PROC_SUPER_MAGIC {
				t.Fatalf("fd is not a procfs: type %#x, %v", st.Type, err)
			}
			if tt.wantErr == "" {
				if readyErr != nil {
					t.Fatalf("WaitInitReady: %v (stderr %q)", readyErr, r.stderr)
				}
				return
			}
			var ce *ChildError
			if !errors.As(readyErr, &ce) || !strings.Contains(ce.Msg, tt.wantErr) {
				t.Fatalf("WaitInitReady = %v, want an error containing %q", readyErr, tt.wantErr)
			}
		})
	}
}
