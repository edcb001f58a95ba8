package cgroups

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// These tests use the host's real cgroup v1 hierarchies. Each creates
// cgroups under a unique name, starts its own processes, and removes
// both in t.Cleanup even when it fails.

const helperEnv = "BERTH_CGROUPS_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "hog" {
		// Wait until the test has moved us into the cgroup, then touch
		// 64 MiB of anonymous memory.
		var b [1]byte
		_, _ = os.Stdin.Read(b[:])
		buf := make([]byte, 64<<20)
		for i := 0; i < len(buf); i += 4096 {
			buf[i] = 1
		}
		fmt.Println("survived", len(buf))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const busybox = "/bin/busybox"

func requireV1(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if mode, err := HostMode(); err != nil || mode == ModeUnified {
		t.Skipf("needs cgroup v1 hierarchies (mode %v, %v)", mode, err)
	}
}

func requireBusybox(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(busybox); err != nil {
		t.Skip("needs " + busybox)
	}
}

// testName is a cgroup name unique to this process and test.
func testName(t *testing.T) string {
	return fmt.Sprintf("berth-test-%d-%s", os.Getpid(), strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
}

// newV1Test returns a v1 manager for path whose cgroups are destroyed at
// the end of the test (directories removed directly if Destroy fails).
func newV1Test(t *testing.T, path string) *v1Manager {
	t.Helper()
	m, err := New(Config{Path: path, ID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	vm, ok := m.(*v1Manager)
	if !ok {
		t.Fatalf("New returned %T on a v1 host", m)
	}
	dirs := vm.dirs()
	t.Cleanup(func() {
		if err := vm.Destroy(); err != nil {
			t.Errorf("cleanup: Destroy: %v", err)
		}
		for _, d := range dirs {
			_ = removeCgroup(d)
		}
	})
	return vm
}

// proc is a process a test started; it is killed (by its pid, through
// os.Process) and reaped at cleanup.
type proc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bytes.Buffer
	once  sync.Once
	err   error
}

func (p *proc) wait() error {
	p.once.Do(func() { p.err = p.cmd.Wait() })
	return p.err
}

// release lets a process gated on `read` continue.
func (p *proc) release(t *testing.T) {
	t.Helper()
	if _, err := p.stdin.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
}

// startIn starts name args, moves it into m's cgroups with Apply, and
// returns it. Commands that fork must wait on stdin (release) so that
// they only fork once inside.
func startIn(t *testing.T, m Manager, env []string, name string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(name, args...), out: &bytes.Buffer{}}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		_ = p.wait()
	})
	if err := m.Apply(p.cmd.Process.Pid); err != nil {
		t.Fatalf("Apply(%d): %v", p.cmd.Process.Pid, err)
	}
	return p
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	s, err := readLine(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// eventually retries cond for up to 5s (test-side waiting only).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestV1ApplyPlacesProcessInEveryHierarchy(t *testing.T) {
	requireV1(t)
	name := testName(t)
	m := newV1Test(t, name) // relative: below our own cgroup in each hierarchy
	mounts, err := v1Mounts()
	if err != nil {
		t.Fatal(err)
	}
	self, err := selfCgroups()
	if err != nil {
		t.Fatal(err)
	}
	for ctrl, mnt := range mounts {
		want := filepath.Join(mnt.Mountpoint, self[ctrl], name)
		if m.paths[ctrl] != want {
			t.Errorf("path of %s = %q, want %q (relative to our own cgroup)", ctrl, m.paths[ctrl], want)
		}
	}
	if mode, _ := HostMode(); mode == ModeHybrid {
		if want := filepath.Join(cgroupRoot, "unified", self[""], name); m.paths[""] != want {
			t.Errorf("cgroup2 path = %q, want %q", m.paths[""], want)
		}
	}
	p := startIn(t, m, nil, "sleep", "100")
	pid := p.cmd.Process.Pid
	for _, dir := range m.dirs() {
		procs, err := readProcs(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(procs, pid) {
			t.Errorf("%s/cgroup.procs = %v, lacks %d", dir, procs, pid)
		}
	}
	pids, err := m.Pids()
	if err != nil || !slices.Equal(pids, []int{pid}) {
		t.Fatalf("Pids = %v, %v; want [%d]", pids, err, pid)
	}
}

// removeParentsLater removes, at the very end of the test (register it
// before the managers), the test's own parent cgroups named rel under
// every hierarchy; relative ones sit below our own cgroup.
func removeParentsLater(t *testing.T, rel ...string) {
	t.Helper()
	mounts, err := v1Mounts()
	if err != nil {
		t.Fatal(err)
	}
	self, err := selfCgroups()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, r := range rel {
			for ctrl, mnt := range mounts {
				base := ""
				if !strings.HasPrefix(r, "/") {
					base = self[ctrl]
				}
				_ = unix.Rmdir(filepath.Join(mnt.Mountpoint, base, r))
			}
			base := ""
			if !strings.HasPrefix(r, "/") {
				base = self[""]
			}
			_ = unix.Rmdir(filepath.Join(cgroupRoot, "unified", base, r))
		}
	})
}

func TestV1AbsolutePathIsBelowMountpoint(t *testing.T) {
	requireV1(t)
	name := testName(t)
	removeParentsLater(t, "/"+name)
	m := newV1Test(t, "/"+name+"/inner")
	mounts, _ := v1Mounts()
	for ctrl, mnt := range mounts {
		if want := filepath.Join(mnt.Mountpoint, name, "inner"); m.paths[ctrl] != want {
			t.Errorf("path of %s = %q, want %q", ctrl, m.paths[ctrl], want)
		}
	}
	if err := m.Apply(-1); err != nil {
		t.Fatal(err)
	}
	for _, d := range m.dirs() {
		if !dirExists(d) {
			t.Errorf("%s not created", d)
		}
	}
}

func TestV1CpusetFilledBeforeAttach(t *testing.T) {
	requireV1(t)
	removeParentsLater(t, testName(t)+"/a", testName(t))
	m := newV1Test(t, testName(t)+"/a/b")
	if _, ok := m.paths["cpuset"]; !ok {
		t.Skip("no cpuset hierarchy")
	}
	p := startIn(t, m, nil, "sleep", "100") // fails if cpus/mems stayed empty
	mounts, _ := v1Mounts()
	root := mounts["cpuset"].Mountpoint
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		want := readTrim(t, filepath.Join(filepath.Dir(filepath.Dir(m.paths["cpuset"])), f))
		for d := m.paths["cpuset"]; d != root; d = filepath.Dir(d) {
			if got := readTrim(t, filepath.Join(d, f)); got != want {
				t.Errorf("%s/%s = %q, want the parent's %q", d, f, got, want)
			}
		}
	}
	_ = p
}

// blockDevice returns "major:minor" of some block device of the host.
func blockDevice(t *testing.T) (int64, int64) {
	t.Helper()
	ents, _ := os.ReadDir("/sys/block")
	for _, e := range ents {
		s, err := readLine(filepath.Join("/sys/block", e.Name(), "dev"))
		if err != nil {
			continue
		}
		maj, min, _ := strings.Cut(s, ":")
		a, err1 := strconv.ParseInt(maj, 10, 64)
		b, err2 := strconv.ParseInt(min, 10, 64)
		if err1 == nil && err2 == nil {
			return a, b
		}
	}
	t.Skip("no block device")
	return 0, 0
}

type fileWant struct {
	ctrl, file, want string
	contains         bool // want is a substring, not the whole value
}

func TestV1SetWritesKernelFiles(t *testing.T) {
	requireV1(t)
	maj, min := blockDevice(t)
	mib := func(n int64) *int64 { return ptr(n << 20) }
	for _, tc := range []struct {
		name   string
		before *specs.LinuxResources // applied first, for ordering cases
		r      specs.LinuxResources
		want   []fileWant
		bfq    bool // needs a weight file: BFQ in the kernel
		memsw  bool // needs swap accounting (memory.memsw.*)
		rt     bool // needs RT group scheduling (cpu.rt_runtime_us)
	}{
		{name: "memory limit", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: mib(32)}},
			want: []fileWant{{"memory", "memory.limit_in_bytes", "33554432", false}}},
		{name: "memory limit and swap raised", memsw: true, r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: mib(32), Swap: mib(64)}},
			want: []fileWant{{"memory", "memory.limit_in_bytes", "33554432", false}, {"memory", "memory.memsw.limit_in_bytes", "67108864", false}}},
		{name: "memory limit and swap lowered", memsw: true,
			before: &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: mib(64), Swap: mib(128)}},
			r:      specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: mib(16), Swap: mib(16)}},
			want:   []fileWant{{"memory", "memory.limit_in_bytes", "16777216", false}, {"memory", "memory.memsw.limit_in_bytes", "16777216", false}}},
		{name: "memory limit and swap raised above old swap", memsw: true,
			before: &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: mib(16), Swap: mib(16)}},
			r:      specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: mib(64), Swap: mib(128)}},
			want:   []fileWant{{"memory", "memory.limit_in_bytes", "67108864", false}, {"memory", "memory.memsw.limit_in_bytes", "134217728", false}}},
		{name: "memory other fields", r: specs.LinuxResources{Memory: &specs.LinuxMemory{
			Reservation: mib(8), Swappiness: ptr[uint64](10), DisableOOMKiller: ptr(true), KernelTCP: mib(16), Kernel: mib(16)}},
			want: []fileWant{
				{"memory", "memory.soft_limit_in_bytes", "8388608", false},
				{"memory", "memory.swappiness", "10", false},
				{"memory", "memory.oom_control", "oom_kill_disable 1", true},
				{"memory", "memory.kmem.tcp.limit_in_bytes", "16777216", false},
			}},
		{name: "cpu shares", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr[uint64](512)}},
			want: []fileWant{{"cpu", "cpu.shares", "512", false}}},
		{name: "cpu shares 0 is unset", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr[uint64](0)}},
			want: []fileWant{{"cpu", "cpu.shares", "1024", false}}},
		{name: "cpu quota period burst idle", r: specs.LinuxResources{CPU: &specs.LinuxCPU{
			Quota: ptr[int64](50000), Period: ptr[uint64](200000), Burst: ptr[uint64](1000), Idle: ptr[int64](1)}},
			want: []fileWant{
				{"cpu", "cpu.cfs_quota_us", "50000", false}, {"cpu", "cpu.cfs_period_us", "200000", false},
				{"cpu", "cpu.cfs_burst_us", "1000", false}, {"cpu", "cpu.idle", "1", false},
			}},
		{name: "cpu quota lowered below old burst",
			before: &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr[int64](50000), Burst: ptr[uint64](40000)}},
			r:      specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr[int64](20000), Burst: ptr[uint64](10000)}},
			want:   []fileWant{{"cpu", "cpu.cfs_quota_us", "20000", false}, {"cpu", "cpu.cfs_burst_us", "10000", false}}},
		{name: "cpu period lowered below old quota",
			before: &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr[int64](150000), Period: ptr[uint64](200000)}},
			r:      specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr[int64](-1), Period: ptr[uint64](100000)}},
			want:   []fileWant{{"cpu", "cpu.cfs_quota_us", "-1", false}, {"cpu", "cpu.cfs_period_us", "100000", false}}},
		{name: "realtime", rt: true, r: specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimePeriod: ptr[uint64](1000000), RealtimeRuntime: ptr[int64](10000)}},
			want: []fileWant{{"cpu", "cpu.rt_period_us", "1000000", false}, {"cpu", "cpu.rt_runtime_us", "10000", false}}},
		{name: "cpuset", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0", Mems: "0"}},
			want: []fileWant{{"cpuset", "cpuset.cpus", "0", false}, {"cpuset", "cpuset.mems", "0", false}}},
		{name: "pids limit", r: specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](10)}},
			want: []fileWant{{"pids", "pids.max", "10", false}}},
		{name: "pids limit 0 means 1", r: specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](0)}},
			want: []fileWant{{"pids", "pids.max", "1", false}}},
		{name: "pids unlimited", before: &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](10)}},
			r:    specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](-1)}},
			want: []fileWant{{"pids", "pids.max", "max", false}}},
		{name: "blkio throttle", r: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
			ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{
				{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: maj, Minor: min}, Rate: 1 << 20}},
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{
				{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: maj, Minor: min}, Rate: 300}},
		}},
			want: []fileWant{
				{"blkio", "blkio.throttle.read_bps_device", fmt.Sprintf("%d:%d 1048576", maj, min), false},
				{"blkio", "blkio.throttle.write_iops_device", fmt.Sprintf("%d:%d 300", maj, min), false},
			}},
		{name: "blkio weight", bfq: true, r: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr[uint16](500)}},
			want: []fileWant{{"blkio", "<weight>", "500", false}}},
		{name: "blkio weight 0 is unset", bfq: true, r: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr[uint16](0)}},
			want: []fileWant{{"blkio", "<weight>", "100", false}}},
		{name: "devices deny all then allow", r: specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: true, Type: "c", Major: ptr[int64](1), Minor: ptr[int64](3), Access: "rwm"},
			{Allow: true, Type: "c", Major: ptr[int64](136), Access: "rw"},
		}},
			want: []fileWant{{"devices", "devices.list", "c 1:3 rwm\nc 136:* rw", false}}},
		{name: "allow rules alone start from deny-all", r: specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
			{Allow: true, Type: "c", Major: ptr[int64](10), Minor: ptr[int64](200), Access: "rwm"},
		}},
			want: []fileWant{{"devices", "devices.list", "c 10:200 rwm", false}}},
		{name: "an update without device rules keeps the rules",
			before: &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
				{Allow: true, Type: "c", Major: ptr[int64](1), Minor: ptr[int64](3), Access: "rwm"}}},
			r:    specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](10)}},
			want: []fileWant{{"devices", "devices.list", "c 1:3 rwm", false}}},
		{name: "an update of the rules writes the new list over deny-all",
			before: &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
				{Allow: true, Type: "c", Major: ptr[int64](1), Minor: ptr[int64](3), Access: "rwm"},
				{Allow: true, Type: "c", Major: ptr[int64](1), Minor: ptr[int64](11), Access: "w"}}},
			r: specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
				{Allow: true, Type: "c", Major: ptr[int64](1), Minor: ptr[int64](3), Access: "rw"},
				{Allow: true, Type: "c", Major: ptr[int64](10), Minor: ptr[int64](200), Access: "rwm"}}},
			want: []fileWant{{"devices", "devices.list", "c 1:3 rw\nc 10:200 rwm", false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newV1Test(t, testName(t))
			if err := m.Apply(-1); err != nil {
				t.Fatal(err)
			}
			if tc.bfq {
				requireBlkioWeight(t, m)
			}
			if tc.memsw {
				requireFile(t, m, "memory", "memory.memsw.limit_in_bytes", "no swap accounting in this kernel (swapaccount)")
			}
			if tc.rt {
				requireFile(t, m, "cpu", "cpu.rt_runtime_us", "no RT group scheduling in this kernel (CONFIG_RT_GROUP_SCHED)")
			}
			if tc.before != nil {
				if err := m.Set(tc.before); err != nil {
					t.Fatalf("Set(before): %v", err)
				}
			}
			if err := m.Set(&tc.r); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				dir, ok := m.paths[w.ctrl]
				if !ok {
					t.Skipf("no %s hierarchy", w.ctrl)
				}
				file := w.file
				if file == "<weight>" {
					file = blkioWeightFile(dir)
				}
				got := readTrim(t, filepath.Join(dir, file))
				if w.want == "<parent>" {
					w.want = readTrim(t, filepath.Join(filepath.Dir(dir), file))
				}
				if (w.contains && !strings.Contains(got, w.want)) || (!w.contains && got != w.want) {
					t.Errorf("%s = %q, want %q", file, got, w.want)
				}
			}
		})
	}
}

// requireFile skips unless the controller's cgroup of m has file.
func requireFile(t *testing.T, m *v1Manager, ctrl, file, why string) {
	t.Helper()
	dir, ok := m.paths[ctrl]
	if !ok {
		t.Skipf("no %s hierarchy", ctrl)
	}
	if _, err := os.Stat(filepath.Join(dir, file)); err != nil {
		t.Skipf("%s: %s", file, why)
	}
}

// blkioWeightFile: the weight file in a v1 blkio cgroup, looked up
// without probeFile's memo (the root cgroup has none, so a probe there
// would be memoized wrong). "" when the kernel has no BFQ loaded.
func blkioWeightFile(dir string) string {
	for _, f := range []string{"blkio.weight", "blkio.bfq.weight"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return f
		}
	}
	return ""
}

const noBFQ = "no disk scheduler here is BFQ (not in this kernel, or not loaded)"

func requireBlkioWeight(t *testing.T, m *v1Manager) {
	t.Helper()
	if dir, ok := m.paths["blkio"]; ok && blkioWeightFile(dir) == "" {
		t.Skipf("%s has neither blkio.weight nor blkio.bfq.weight: %s; "+
			"the cgroup2 VM lane loads BFQ for its disk and checks io.bfq.weight, "+
			"TestV1BlkioWeightWithoutBFQIsNotSupported checks the error here", dir, noBFQ)
	}
}

// Without BFQ a weight cannot be honoured: the error names the field and
// the cgroup and is ErrNotSupported (the other half of the weight tests).
func TestV1BlkioWeightWithoutBFQIsNotSupported(t *testing.T) {
	requireV1(t)
	maj, min := blockDevice(t)
	for _, tc := range []struct {
		name  string
		b     specs.LinuxBlockIO
		field string
	}{
		{"weight", specs.LinuxBlockIO{Weight: ptr[uint16](500)}, "linux.resources.blockIO.weight: "},
		{"weight device", specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: maj, Minor: min}, Weight: ptr[uint16](300)}}},
			"linux.resources.blockIO.weightDevice[0].weight: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newV1Test(t, testName(t))
			if err := m.Apply(-1); err != nil {
				t.Fatal(err)
			}
			dir, ok := m.paths["blkio"]
			if !ok {
				t.Skip("no blkio hierarchy")
			}
			if f := blkioWeightFile(dir); f != "" {
				t.Skipf("the kernel has BFQ (%s exists): TestV1SetWritesKernelFiles writes it", f)
			}
			err := m.Set(&specs.LinuxResources{BlockIO: &tc.b})
			if err == nil {
				t.Fatal("Set succeeded without a weight file")
			}
			want := tc.field + dir + ": neither blkio.weight nor blkio.bfq.weight exists: "
			if !strings.HasPrefix(err.Error(), want) || !errors.Is(err, ErrNotSupported) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line starting %q, ErrNotSupported", err, want)
			}
		})
	}
}

// The kernel refuses an "a" write to a devices cgroup with children (a
// nested runtime's, an exec --cgroup one): an update of the rules of a
// running container writes only the exceptions that change.
func TestV1UpdateDevicesWithAChildCgroup(t *testing.T) {
	requireV1(t)
	m := newV1Test(t, testName(t))
	if err := m.Apply(-1); err != nil {
		t.Fatal(err)
	}
	dir, ok := m.paths["devices"]
	if !ok {
		t.Skip("no devices hierarchy")
	}
	null := specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr[int64](1), Minor: ptr[int64](3), Access: "rwm"}
	if err := m.Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{null}}); err != nil {
		t.Fatal(err)
	}
	child := filepath.Join(dir, "child")
	if err := os.Mkdir(child, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(child)
	tun := specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr[int64](10), Minor: ptr[int64](200), Access: "rw"}
	if err := m.Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{null, tun}}); err != nil {
		t.Fatalf("update with a child cgroup: %v", err)
	}
	if got := readTrim(t, filepath.Join(dir, "devices.list")); got != "c 1:3 rwm\nc 10:200 rw" {
		t.Errorf("devices.list = %q", got)
	}
	// The child keeps deny-all and null (an allow is not pushed down).
	if got := readTrim(t, filepath.Join(child, "devices.list")); got != "c 1:3 rwm" {
		t.Errorf("child devices.list = %q", got)
	}
}

func TestV1SetErrorsNameFieldAndFile(t *testing.T) {
	requireV1(t)
	mounts, _ := v1Mounts()
	for _, tc := range []struct {
		name     string
		running  bool // with a process in the cgroup
		skip     bool
		r        specs.LinuxResources
		has      []string
		notSuppd bool
	}{
		{name: "cpus outside the parent", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "99"}},
			has: []string{"linux.resources.cpu.cpus: write 99 to ", "/cpuset.cpus: "}},
		{name: "limit below usage refused by the kernel", running: true,
			r:   specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](4096)}},
			has: []string{"linux.resources.memory.limit: write 4096 to ", "/memory.limit_in_bytes: device or resource busy"}},
		{name: "limit below usage refused by checkBeforeUpdate", running: true,
			r:   specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](4096), CheckBeforeUpdate: ptr(true)}},
			has: []string{"linux.resources.memory.limit: 4096 is below the current usage"}},
		{name: "swap below limit", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](2 << 20), Swap: ptr[int64](1 << 20)}},
			has: []string{"linux.resources.memory.swap"}},
		{name: "shares out of range", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr[uint64](300000)}},
			has: []string{"linux.resources.cpu.shares"}},
		{name: "swappiness above 100", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr[uint64](101)}},
			has: []string{"linux.resources.memory.swappiness"}},
		{name: "useHierarchy off refused", r: specs.LinuxResources{Memory: &specs.LinuxMemory{UseHierarchy: ptr(false)}},
			has: []string{"linux.resources.memory.useHierarchy: write 0 to ", "memory.use_hierarchy"}},
		{name: "net_cls not mounted", skip: mounts["net_cls"] != nil,
			r:   specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptr[uint32](0x100001)}},
			has: []string{"linux.resources.network.classID", "net_cls"}, notSuppd: true},
		{name: "rdma not mounted", skip: mounts["rdma"] != nil,
			r:   specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx": {HcaHandles: ptr[uint32](1)}}},
			has: []string{"linux.resources.rdma"}, notSuppd: true},
		{name: "unified v1 controller", r: specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}},
			has: []string{"linux.resources.unified"}, notSuppd: true},
		{name: "unknown huge page size", r: specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "3MB", Limit: 1}}},
			has: []string{"linux.resources.hugepageLimits[0].pageSize"}, notSuppd: true},
		{name: "leaf weight gone with CFQ", skip: probeFile("v1:blkio.leaf_weight", filepath.Join(mounts["blkio"].Mountpoint), "blkio.leaf_weight") != "",
			r:   specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{LeafWeight: ptr[uint16](100)}},
			has: []string{"linux.resources.blockIO.leafWeight", "blkio.leaf_weight"}, notSuppd: true},
		{name: "bad device type", r: specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Type: "x"}}},
			has: []string{"linux.resources.devices[0].type"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skip {
				t.Skip("host has the feature")
			}
			m := newV1Test(t, testName(t))
			if tc.running {
				// exec after the move so the new pages are charged here.
				requireBusybox(t)
				p := startIn(t, m, nil, busybox, "sh", "-c", "read x; exec "+busybox+" sleep 100")
				p.release(t)
				eventually(t, "memory charged to the cgroup", func() bool {
					u, err := readUint(filepath.Join(m.paths["memory"], "memory.usage_in_bytes"))
					return err == nil && u > 64<<10
				})
			} else if err := m.Apply(-1); err != nil {
				t.Fatal(err)
			}
			err := m.Set(&tc.r)
			if err == nil {
				t.Fatal("Set succeeded")
			}
			for _, h := range tc.has {
				if !strings.Contains(err.Error(), h) {
					t.Errorf("error %q does not contain %q", err, h)
				}
			}
			if errors.Is(err, ErrNotSupported) != tc.notSuppd {
				t.Errorf("errors.Is(%q, ErrNotSupported) = %v, want %v", err, !tc.notSuppd, tc.notSuppd)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestV1PidsLimitStopsForks(t *testing.T) {
	requireV1(t)
	requireBusybox(t)
	m := newV1Test(t, testName(t))
	if err := m.Apply(-1); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](2)}}); err != nil {
		t.Fatal(err)
	}
	p := startIn(t, m, nil, busybox, "sh", "-c", "read x; for i in 1 2 3 4 5; do sleep 1 & done; wait")
	p.release(t)
	// The shell counts as one, the first sleep as the second: the
	// remaining forks must fail.
	eventually(t, "a refused fork in pids.events", func() bool {
		ev, err := readKV(filepath.Join(m.paths["pids"], "pids.events"))
		return err == nil && ev["max"] > 0
	})
	if cur := readTrim(t, filepath.Join(m.paths["pids"], "pids.current")); cur != "1" && cur != "2" {
		t.Errorf("pids.current = %s, want at most the limit 2", cur)
	}
	_ = p.wait() // let the shell finish its message
	if out := p.out.String(); !strings.Contains(out, "fork") {
		t.Errorf("shell output %q does not report a failed fork", out)
	}
}

func TestV1MemoryLimitOOMKillsHog(t *testing.T) {
	requireV1(t)
	m := newV1Test(t, testName(t))
	if err := m.Apply(-1); err != nil {
		t.Fatal(err)
	}
	// With swap on, the hog would be swapped out rather than killed
	// unless swap is limited too.
	mem := &specs.LinuxMemory{Limit: ptr[int64](16 << 20)}
	if _, err := os.Stat(filepath.Join(m.paths["memory"], "memory.memsw.limit_in_bytes")); err == nil {
		mem.Swap = mem.Limit
	} else if swaps, _ := os.ReadFile("/proc/swaps"); strings.Count(string(swaps), "\n") > 1 {
		t.Skip("swap is on and the kernel has no swap accounting: a memory limit alone does not kill the hog")
	}
	if err := m.Set(&specs.LinuxResources{Memory: mem}); err != nil {
		t.Fatal(err)
	}
	p := startIn(t, m, []string{helperEnv + "=hog"}, os.Args[0])
	p.release(t)
	err := p.wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("hog exited with %v (output %q), want killed", err, p.out)
	}
	if ws := ee.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("hog status %v, want killed by SIGKILL", ws)
	}
	oom, err := readKV(filepath.Join(m.paths["memory"], "memory.oom_control"))
	if err != nil {
		t.Fatal(err)
	}
	if oom["oom_kill"] < 1 {
		t.Errorf("memory.oom_control oom_kill = %d, want >= 1", oom["oom_kill"])
	}
}

// cpuTicks is utime+stime of pid from /proc/<pid>/stat.
func cpuTicks(t *testing.T, pid int) uint64 {
	t.Helper()
	s := readTrim(t, fmt.Sprintf("/proc/%d/stat", pid))
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseUint(f[11], 10, 64)
	k, _ := strconv.ParseUint(f[12], 10, 64)
	return u + k
}

func TestV1FreezeStopsAndThawResumes(t *testing.T) {
	requireV1(t)
	requireBusybox(t)
	m := newV1Test(t, testName(t))
	if _, ok := m.paths["freezer"]; !ok {
		t.Skip("no freezer hierarchy")
	}
	p := startIn(t, m, nil, busybox, "sh", "-c", "read x; while :; do :; done")
	p.release(t)
	pid := p.cmd.Process.Pid
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if s := readTrim(t, filepath.Join(m.paths["freezer"], "freezer.state")); s != "FROZEN" {
		t.Fatalf("freezer.state = %s after Freeze", s)
	}
	if f, err := m.Frozen(); err != nil || !f {
		t.Fatalf("Frozen = %v, %v; want true", f, err)
	}
	before := cpuTicks(t, pid)
	time.Sleep(100 * time.Millisecond)
	if after := cpuTicks(t, pid); after != before {
		t.Fatalf("frozen busy loop used CPU: %d -> %d ticks", before, after)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if f, err := m.Frozen(); err != nil || f {
		t.Fatalf("Frozen = %v, %v after Thaw; want false", f, err)
	}
	eventually(t, "the thawed loop to use CPU", func() bool { return cpuTicks(t, pid) > before })
}

func TestV1KillSignalsEveryProcess(t *testing.T) {
	requireV1(t)
	requireBusybox(t)
	m := newV1Test(t, testName(t))
	p := startIn(t, m, nil, busybox, "sh", "-c", "read x; sleep 100 & sleep 100 & sleep 100 & wait")
	p.release(t)
	eventually(t, "4 processes", func() bool { pids, _ := m.Pids(); return len(pids) == 4 })
	if err := m.Kill(int(unix.SIGTERM)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every process gone", func() bool { pids, err := m.Pids(); return err == nil && len(pids) == 0 })
	if f, _ := m.Frozen(); f {
		t.Error("Kill left a running cgroup frozen")
	}
}

func TestV1KillKeepsPausedCgroupPaused(t *testing.T) {
	requireV1(t)
	m := newV1Test(t, testName(t))
	p := startIn(t, m, nil, "sleep", "100")
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if err := m.Kill(int(unix.SIGTERM)); err != nil {
		t.Fatal(err)
	}
	if f, err := m.Frozen(); err != nil || !f {
		t.Fatalf("Frozen = %v, %v after Kill(SIGTERM); want still paused", f, err)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	// The pending SIGTERM is delivered on resume.
	var ee *exec.ExitError
	if err := p.wait(); !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Fatalf("sleep ended with %v, want SIGTERM", err)
	}
}

func TestV1PidsIncludesChildCgroups(t *testing.T) {
	requireV1(t)
	name := testName(t)
	m := newV1Test(t, name)
	sub := newV1Test(t, name+"/sub")
	a := startIn(t, m, nil, "sleep", "100")
	b := startIn(t, sub, nil, "sleep", "100")
	pids, err := m.Pids()
	slices.Sort(pids)
	want := []int{a.cmd.Process.Pid, b.cmd.Process.Pid}
	slices.Sort(want)
	if err != nil || !slices.Equal(pids, want) {
		t.Fatalf("Pids = %v, %v; want %v", pids, err, want)
	}
}

func TestV1Stats(t *testing.T) {
	requireV1(t)
	requireBusybox(t)
	m := newV1Test(t, testName(t))
	if err := m.Apply(-1); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(&specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr[int64](64 << 20)},
		Pids:   &specs.LinuxPids{Limit: ptr[int64](10)},
	}); err != nil {
		t.Fatal(err)
	}
	// exec after the move so the new pages are charged here.
	p := startIn(t, m, nil, busybox, "sh", "-c", "read x; exec "+busybox+" sh -c 'while :; do :; done'")
	p.release(t)
	eventually(t, "CPU use", func() bool { return cpuTicks(t, p.cmd.Process.Pid) > 5 })
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"cpu total > 0", s.CPU.Usage.Total > 0},
		{"cpu user > 0", s.CPU.Usage.User > 0},
		{"percpu has every cpu", len(s.CPU.Usage.PerCPU) >= runtime.NumCPU()},
		{"memory usage > 0", s.Memory.Usage.Usage > 0},
		{"memory limit 64MiB", s.Memory.Usage.Limit == 64<<20},
		{"memory.stat read", len(s.Memory.Raw) > 0 && s.Memory.Raw["hierarchical_memory_limit"] == 64<<20},
		{"pids current 1", s.Pids.Current == 1},
		{"pids limit 10", s.Pids.Limit == 10},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: stats %+v", c.name, s)
		}
	}
}

func TestV1DestroyRemovesEverything(t *testing.T) {
	requireV1(t)
	requireBusybox(t)
	name := testName(t)
	m := newV1Test(t, name)
	sub := newV1Test(t, name+"/nested")
	p := startIn(t, m, nil, busybox, "sh", "-c", "read x; sleep 100 & sleep 100 & wait")
	p.release(t)
	q := startIn(t, sub, nil, "sleep", "100")
	eventually(t, "4 processes", func() bool { pids, _ := m.Pids(); return len(pids) == 4 })
	if err := m.Freeze(); err != nil { // a paused container can be deleted too
		t.Fatal(err)
	}
	dirs := append(m.dirs(), sub.dirs()...)
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s still there after Destroy (%v)", d, err)
		}
	}
	for _, pr := range []*proc{p, q} {
		var ee *exec.ExitError
		if err := pr.wait(); !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Errorf("process ended with %v, want SIGKILL", err)
		}
	}
	if err := m.Destroy(); err != nil {
		t.Errorf("second Destroy = %v, want nil", err)
	}
}

func TestV1LoadRebuildsFromState(t *testing.T) {
	requireV1(t)
	m := newV1Test(t, testName(t))
	p := startIn(t, m, nil, "sleep", "100")
	b, err := json.Marshal(m.State())
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	l, err := Load(st)
	if err != nil {
		t.Fatal(err)
	}
	pids, err := l.Pids()
	if err != nil || !slices.Equal(pids, []int{p.cmd.Process.Pid}) {
		t.Fatalf("loaded Pids = %v, %v; want [%d]", pids, err, p.cmd.Process.Pid)
	}
	if err := l.Destroy(); err != nil {
		t.Fatal(err)
	}
	for _, d := range m.dirs() {
		if dirExists(d) {
			t.Errorf("%s survived the loaded manager's Destroy", d)
		}
	}
}

func TestHybridHugetlbUsesCgroup2(t *testing.T) {
	requireV1(t)
	mode, _ := HostMode()
	mounts, _ := v1Mounts()
	unified := filepath.Join(cgroupRoot, "unified")
	avail, _ := readControllers(unified)
	if mode != ModeHybrid || mounts["hugetlb"] != nil || !avail["hugetlb"] || !slices.Contains(hugePageSizes(), "2MB") {
		t.Skip("needs a hybrid host with hugetlb bound to cgroup2 and 2MB pages")
	}
	// Enabling hugetlb for our cgroup turns it on in the ancestors; put
	// the host back as it was once the cgroup is gone.
	rootCtl := filepath.Join(unified, "cgroup.subtree_control")
	on, _ := readSet(rootCtl)
	if !on["hugetlb"] {
		t.Cleanup(func() { _ = writeFile(rootCtl, "-hugetlb") })
	}
	m := newV1Test(t, "/"+testName(t))
	if err := m.Apply(-1); err != nil {
		t.Fatal(err)
	}
	r := &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	if got := readTrim(t, filepath.Join(m.paths[""], "hugetlb.2MB.max")); got != "4194304" {
		t.Fatalf("hugetlb.2MB.max = %s, want 4194304", got)
	}
	// linux.resources.unified reaches the controllers bound to cgroup2.
	if err := m.Set(&specs.LinuxResources{Unified: map[string]string{"hugetlb.2MB.max": "2097152"}}); err != nil {
		t.Fatal(err)
	}
	if got := readTrim(t, filepath.Join(m.paths[""], "hugetlb.2MB.max")); got != "2097152" {
		t.Fatalf("hugetlb.2MB.max = %s after unified, want 2097152", got)
	}
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Hugetlb["2MB"]; !ok {
		t.Errorf("Stats().Hugetlb = %v, lacks 2MB", s.Hugetlb)
	}
}
