package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// resetProbes forgets memoized feature probes: fake trees differ from
// each other and from the host.
func resetProbes(t *testing.T) {
	t.Helper()
	probes.Clear()
	t.Cleanup(func() { probes.Clear() })
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readTestFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// v2Files are the control files a fake container cgroup starts with
// (a tmpdir, unlike cgroupfs, does not create them on mkdir).
var v2Files = map[string]string{
	"cgroup.procs": "", "cgroup.freeze": "0", "cgroup.events": "populated 0\nfrozen 0\n",
	"cgroup.controllers": "", "cgroup.subtree_control": "",
	"cpu.weight": "100", "cpu.max": "max 100000", "cpu.max.burst": "0", "cpu.idle": "0",
	"cpuset.cpus": "", "cpuset.mems": "",
	"memory.max": "max", "memory.swap.max": "max", "memory.low": "0", "memory.current": "1000", "memory.high": "max",
	"pids.max": "max", "io.weight": "default 100", "io.max": "", "hugetlb.2MB.max": "max", "rdma.max": "",
}

// fakeV2 builds a fake cgroup2 tree for cfgPath: every ancestor gets
// cgroup.controllers (ctrls) and an empty cgroup.subtree_control, the
// container cgroup gets files (nil means v2Files).
func fakeV2(t *testing.T, cfgPath, ctrls string, files map[string]string) *v2Manager {
	t.Helper()
	resetProbes(t)
	root := t.TempDir()
	m, err := newV2(Config{Path: cfgPath}, root, func() (map[string]string, error) {
		return map[string]string{"": "/self"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for d := filepath.Dir(m.dir); ; d = filepath.Dir(d) {
		writeTestFile(t, filepath.Join(d, "cgroup.controllers"), ctrls)
		writeTestFile(t, filepath.Join(d, "cgroup.subtree_control"), "")
		if d == root {
			break
		}
	}
	if files == nil {
		files = v2Files
	}
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for f, c := range files {
		writeTestFile(t, filepath.Join(m.dir, f), c)
	}
	return m
}

func TestV2PathsResolveBelowRoot(t *testing.T) {
	root := "/fake"
	self := func() (map[string]string, error) { return map[string]string{"": "/user.slice/me"}, nil }
	for _, tc := range []struct{ path, want string }{
		{"/c1", "/fake/c1"},
		{"c1", "/fake/user.slice/me/c1"},
		{"/a/../../b", "/fake/b"},
	} {
		m, err := newV2(Config{Path: tc.path}, root, self)
		if err != nil || m.dir != tc.want {
			t.Errorf("newV2(%q).dir = %v, %v; want %q", tc.path, m, err, tc.want)
		}
	}
}

func TestV2ApplyEnablesControllersInAncestors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		preset    string // subtree_control already there
		wantCtl   string
		pid       int
		wantProcs string
	}{
		{"enables everything offered", "", "+cpu +io +memory +pids", 4242, "4242"},
		{"writes only what is missing", "cpu memory", "+io +pids", 0, ""},
		{"no write when all are on", "cpu io memory pids", "cpu io memory pids", -1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := fakeV2(t, "/a/c1", "cpu io memory pids", nil)
			for _, d := range []string{m.root, filepath.Join(m.root, "a")} {
				writeTestFile(t, filepath.Join(d, "cgroup.subtree_control"), tc.preset)
			}
			if err := m.Apply(tc.pid); err != nil {
				t.Fatal(err)
			}
			for _, d := range []string{m.root, filepath.Join(m.root, "a")} {
				if got := readTestFile(t, filepath.Join(d, "cgroup.subtree_control")); got != tc.wantCtl {
					t.Errorf("%s/cgroup.subtree_control = %q, want %q", d, got, tc.wantCtl)
				}
			}
			if got := readTestFile(t, filepath.Join(m.dir, "cgroup.procs")); got != tc.wantProcs {
				t.Errorf("cgroup.procs = %q, want %q", got, tc.wantProcs)
			}
		})
	}
}

func TestV2ApplyCreatesMissingCgroup(t *testing.T) {
	m := fakeV2(t, "/c1", "cpu", nil)
	m.dir = filepath.Join(m.root, "fresh") // cgroupfs would fill it with files
	if err := m.Apply(-1); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(m.dir); err != nil || !st.IsDir() {
		t.Fatalf("cgroup dir not created: %v", err)
	}
}

func TestV2SetWritesConvertedFiles(t *testing.T) {
	haveHuge := slices.Contains(hugePageSizes(), "2MB")
	for _, tc := range []struct {
		name string
		r    specs.LinuxResources
		want map[string]string
	}{
		{"shares to weight", specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr[uint64](1024)}},
			map[string]string{"cpu.weight": "100"}},
		{"shares 0 is unset", specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr[uint64](0)}},
			map[string]string{"cpu.weight": "100"}},
		{"quota and period", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr[int64](50000), Period: ptr[uint64](100000)}},
			map[string]string{"cpu.max": "50000 100000"}},
		{"period keeps quota", specs.LinuxResources{CPU: &specs.LinuxCPU{Period: ptr[uint64](250000)}},
			map[string]string{"cpu.max": "max 250000"}},
		{"burst and idle", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr[int64](50000), Burst: ptr[uint64](1000), Idle: ptr[int64](1)}},
			map[string]string{"cpu.max": "50000", "cpu.max.burst": "1000", "cpu.idle": "1"}},
		{"cpuset", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0-1", Mems: "0"}},
			map[string]string{"cpuset.cpus": "0-1", "cpuset.mems": "0"}},
		{"memory and swap", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](1 << 20), Swap: ptr[int64](3 << 20), Reservation: ptr[int64](1 << 19)}},
			map[string]string{"memory.max": "1048576", "memory.swap.max": "2097152", "memory.low": "524288"}},
		{"unlimited memory", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](-1), Swap: ptr[int64](-1)}},
			map[string]string{"memory.max": "max", "memory.swap.max": "max"}},
		{"oom killer switch ignored", specs.LinuxResources{Memory: &specs.LinuxMemory{DisableOOMKiller: ptr(true)}},
			map[string]string{"memory.max": "max"}},
		{"pids limit", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](5)}}, map[string]string{"pids.max": "5"}},
		{"pids 0 is 1", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](0)}}, map[string]string{"pids.max": "1"}},
		{"pids -1 is max", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](-1)}}, map[string]string{"pids.max": "max"}},
		{"blkio weight converted", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr[uint16](500)}},
			map[string]string{"io.weight": "4950"}},
		{"blkio weight 0 is unset", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr[uint16](0)}},
			map[string]string{"io.weight": "default 100"}},
		{"throttle to io.max", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1000}}}},
			map[string]string{"io.max": "8:0 rbps=1000"}},
		{"rdma", specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx": {HcaHandles: ptr[uint32](2)}}},
			map[string]string{"rdma.max": "mlx hca_handle=2"}},
		{"unified verbatim, after conversions", specs.LinuxResources{
			CPU:     &specs.LinuxCPU{Shares: ptr[uint64](1024)},
			Unified: map[string]string{"cpu.weight": "77", "memory.high": "123456"}},
			map[string]string{"cpu.weight": "77", "memory.high": "123456"}},
		{"allow-all devices need no filter", specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}},
			map[string]string{"cgroup.procs": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := fakeV2(t, "/c1", "cpu", nil)
			if err := m.Set(&tc.r); err != nil {
				t.Fatal(err)
			}
			for f, want := range tc.want {
				if got := readTestFile(t, filepath.Join(m.dir, f)); got != want {
					t.Errorf("%s = %q, want %q", f, got, want)
				}
			}
		})
	}
	t.Run("hugetlb", func(t *testing.T) {
		if !haveHuge {
			t.Skip("host has no 2MB huge pages")
		}
		m := fakeV2(t, "/c1", "cpu", nil)
		writeTestFile(t, filepath.Join(m.dir, "hugetlb.2MB.rsvd.max"), "max")
		r := &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}}
		if err := m.Set(r); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"hugetlb.2MB.max", "hugetlb.2MB.rsvd.max"} {
			if got := readTestFile(t, filepath.Join(m.dir, f)); got != "4194304" {
				t.Errorf("%s = %q, want 4194304", f, got)
			}
		}
	})
}

func TestV2SetBFQWeightUnconverted(t *testing.T) {
	files := map[string]string{"io.bfq.weight": "100", "io.weight": "default 100"}
	m := fakeV2(t, "/c1", "io", files)
	if err := m.Set(&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr[uint16](500)}}); err != nil {
		t.Fatal(err)
	}
	if got := readTestFile(t, filepath.Join(m.dir, "io.bfq.weight")); got != "500" {
		t.Fatalf("io.bfq.weight = %q, want 500", got)
	}
}

// A fake tree is no cgroup: the filter compiles and loads, and attaching
// it fails with an error naming the field (or, without eBPF, "not
// supported"). The real kernel path is tested in devfilter and the VM.
func TestV2SetDevicesNeedsACgroup(t *testing.T) {
	docker := []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: ptr[int64](1), Minor: ptr[int64](3), Access: "rwm"}}
	m := fakeV2(t, "/c1", "cpu", nil)
	err := m.Set(&specs.LinuxResources{Devices: docker})
	if err == nil {
		t.Fatal("Set attached a device filter to a plain directory")
	}
	if !strings.HasPrefix(err.Error(), "linux.resources.devices: ") ||
		!(errors.Is(err, ErrNotSupported) || strings.Contains(err.Error(), "attach device filter to "+m.dir)) {
		t.Fatalf("unexpected error %q", err)
	}
}

func TestV2SetErrorsNameField(t *testing.T) {
	for _, tc := range []struct {
		name     string
		files    map[string]string // nil: v2Files
		r        specs.LinuxResources
		has      []string
		notSuppd bool
	}{
		{"device rule with a bad type", nil, specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "x", Access: "r"}}},
			[]string{"linux.resources.devices[0].type"}, false},
		{"device rule with a bad access", nil, specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Access: "rx"}}},
			[]string{"linux.resources.devices[0].access"}, false},
		{"unified key with a path", nil, specs.LinuxResources{Unified: map[string]string{"../cgroup.procs": "1"}},
			[]string{`linux.resources.unified["../cgroup.procs"]`}, false},
		{"unified file missing", nil, specs.LinuxResources{Unified: map[string]string{"misc.max": "1"}},
			[]string{`linux.resources.unified["misc.max"]`, "misc.max"}, true},
		{"realtime", nil, specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptr[int64](1000)}},
			[]string{"linux.resources.cpu.realtimeRuntime"}, true},
		{"swappiness", nil, specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr[uint64](10)}},
			[]string{"linux.resources.memory.swappiness"}, true},
		{"net_cls", nil, specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptr[uint32](1)}},
			[]string{"linux.resources.network"}, true},
		{"leaf weight", nil, specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{LeafWeight: ptr[uint16](100)}},
			[]string{"linux.resources.blockIO.leafWeight"}, true},
		{"shares out of range", nil, specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr[uint64](1)}},
			[]string{"linux.resources.cpu.shares"}, false},
		{"burst above quota", nil, specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr[int64](100), Burst: ptr[uint64](200)}},
			[]string{"linux.resources.cpu.burst"}, false},
		{"check before update", nil, specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](500), CheckBeforeUpdate: ptr(true)}},
			[]string{"linux.resources.memory.limit", "below the current usage 1000"}, false},
		{"no io files", map[string]string{"cgroup.procs": ""}, specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr[uint16](100)}},
			[]string{"linux.resources.blockIO.weight"}, true},
		{"no pids file", map[string]string{"cgroup.procs": ""}, specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](3)}},
			[]string{"linux.resources.pids.limit", "pids.max"}, true},
		{"bad page size", nil, specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2M/..", Limit: 1}}},
			[]string{"linux.resources.hugepageLimits[0].pageSize"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := fakeV2(t, "/c1", "cpu", tc.files)
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

func TestV2FreezeWaitsForFrozenEvent(t *testing.T) {
	m := fakeV2(t, "/c1", "cpu", nil)
	writeTestFile(t, filepath.Join(m.dir, "cgroup.events"), "populated 1\nfrozen 1\n")
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if got := readTestFile(t, filepath.Join(m.dir, "cgroup.freeze")); got != "1" {
		t.Fatalf("cgroup.freeze = %q after Freeze, want 1", got)
	}
	if f, err := m.Frozen(); err != nil || !f {
		t.Fatalf("Frozen = %v, %v; want true", f, err)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if f, err := m.Frozen(); err != nil || f {
		t.Fatalf("Frozen = %v, %v after Thaw; want false", f, err)
	}
}

func TestV2FreezeTimesOutAndRollsBack(t *testing.T) {
	old := freezeTimeout
	freezeTimeout = 50 * time.Millisecond
	t.Cleanup(func() { freezeTimeout = old })
	m := fakeV2(t, "/c1", "cpu", nil) // cgroup.events says frozen 0, forever
	start := time.Now()
	err := m.Freeze()
	if err == nil || !strings.Contains(err.Error(), "frozen") {
		t.Fatalf("Freeze = %v, want a timeout naming frozen", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Freeze took %v, not bounded by the timeout", d)
	}
	if got := readTestFile(t, filepath.Join(m.dir, "cgroup.freeze")); got != "0" {
		t.Fatalf("cgroup.freeze = %q after a failed freeze, want 0", got)
	}
}

func TestV2KillUsesCgroupKill(t *testing.T) {
	files := map[string]string{"cgroup.kill": "", "cgroup.procs": ""}
	m := fakeV2(t, "/c1", "cpu", files)
	if err := m.Kill(9); err != nil {
		t.Fatal(err)
	}
	if got := readTestFile(t, filepath.Join(m.dir, "cgroup.kill")); got != "1" {
		t.Fatalf("cgroup.kill = %q, want 1", got)
	}
}

func TestV2PidsRecursive(t *testing.T) {
	m := fakeV2(t, "/c1", "cpu", map[string]string{"cgroup.procs": "10\n11\n", "sub/cgroup.procs": "12\n"})
	pids, err := m.Pids()
	slices.Sort(pids)
	if err != nil || !slices.Equal(pids, []int{10, 11, 12}) {
		t.Fatalf("Pids = %v, %v; want [10 11 12]", pids, err)
	}
}

func TestV2Stats(t *testing.T) {
	files := map[string]string{
		"cpu.stat":            "usage_usec 100\nuser_usec 60\nsystem_usec 40\nnr_periods 5\nnr_throttled 2\nthrottled_usec 7\n",
		"memory.current":      "4096",
		"memory.peak":         "8192",
		"memory.max":          "65536",
		"memory.events":       "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
		"memory.swap.current": "100",
		"memory.swap.max":     "1000",
		"memory.stat":         "anon 10\nfile 20\n",
		"pids.current":        "3",
		"pids.max":            "max",
		"io.stat":             "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n",
	}
	m := fakeV2(t, "/c1", "cpu", files)
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want uint64
	}{
		{"cpu total ns", s.CPU.Usage.Total, 100000},
		{"cpu user ns", s.CPU.Usage.User, 60000},
		{"cpu kernel ns", s.CPU.Usage.Kernel, 40000},
		{"throttled periods", s.CPU.Throttling.ThrottledPeriods, 2},
		{"throttled time ns", s.CPU.Throttling.ThrottledTime, 7000},
		{"memory usage", s.Memory.Usage.Usage, 4096},
		{"memory max", s.Memory.Usage.Max, 8192},
		{"memory limit", s.Memory.Usage.Limit, 65536},
		{"memory failcnt", s.Memory.Usage.Failcnt, 3},
		{"memsw usage", s.Memory.Swap.Usage, 4196},
		{"memsw limit", s.Memory.Swap.Limit, 66536},
		{"cache", s.Memory.Cache, 20},
		{"pids current", s.Pids.Current, 3},
		{"pids max is 0", s.Pids.Limit, 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	wantIO := []BlkioEntry{{8, 0, "Read", 1}, {8, 0, "Write", 2}}
	if !slices.Equal(s.Blkio.IoServiceBytesRecursive, wantIO) {
		t.Errorf("io bytes = %v, want %v", s.Blkio.IoServiceBytesRecursive, wantIO)
	}
}

func TestV2DestroyMissingCgroupIsFine(t *testing.T) {
	m := fakeV2(t, "/c1", "cpu", nil)
	m.dir = filepath.Join(m.root, "gone")
	if err := m.Destroy(); err != nil {
		t.Fatalf("Destroy of a missing cgroup = %v", err)
	}
}

func TestLoadRoundTrip(t *testing.T) {
	for _, st := range []State{
		{Driver: DriverV2, Paths: map[string]string{"": "/sys/fs/cgroup/c1"}, Config: Config{Path: "/c1", ID: "c1"}},
		{Driver: DriverV1, Paths: map[string]string{"memory": "/sys/fs/cgroup/memory/c1", "cpu": "/sys/fs/cgroup/cpu/c1"}, Config: Config{Path: "/c1"}},
	} {
		m, err := Load(st)
		if err != nil {
			t.Fatalf("Load(%s): %v", st.Driver, err)
		}
		got := m.State()
		if got.Driver != st.Driver || got.Config != st.Config || len(got.Paths) != len(st.Paths) {
			t.Fatalf("Load(%v).State() = %v", st, got)
		}
		for k, v := range st.Paths {
			if got.Paths[k] != v {
				t.Errorf("path %q = %q, want %q", k, got.Paths[k], v)
			}
		}
	}
	for _, bad := range []State{{Driver: "v9"}, {Driver: DriverV2}, {Driver: DriverV1, Paths: map[string]string{"cpu": "rel"}}} {
		if _, err := Load(bad); err == nil {
			t.Errorf("Load(%v) succeeded", bad)
		}
	}
}

func TestProbeFileMemoized(t *testing.T) {
	resetProbes(t)
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "b"), "")
	if got := probeFile("k", dir, "a", "b"); got != "b" {
		t.Fatalf("probeFile = %q, want b", got)
	}
	writeTestFile(t, filepath.Join(dir, "a"), "")
	if got := probeFile("k", dir, "a", "b"); got != "b" {
		t.Fatalf("second probeFile = %q, want the memoized b", got)
	}
}
