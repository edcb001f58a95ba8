package cgroups

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseSystemdPath(t *testing.T) {
	for _, tc := range []struct {
		in               string
		unit, slice, dir string
		err              string
	}{
		{in: "system.slice:berth:c1", unit: "berth-c1.scope", slice: "system.slice", dir: "/system.slice/berth-c1.scope"},
		{in: ":berth:c1", unit: "berth-c1.scope", slice: "system.slice", dir: "/system.slice/berth-c1.scope"},
		{in: "machine-a.slice:p:x", unit: "p-x.scope", slice: "machine-a.slice", dir: "/machine.slice/machine-a.slice/p-x.scope"},
		{in: "-.slice::c1", unit: "c1.scope", slice: "-.slice", dir: "/c1.scope"},
		{in: "system.slice:berth:test-x.slice", unit: "test-x.slice", slice: "system.slice", dir: "/test.slice/test-x.slice"},
		{in: "a:b:c", err: "not a slice unit name"},
		{in: "a:b", err: "not slice:prefix:name"},
		{in: "a:b:c:d", err: "not slice:prefix:name"},
		{in: "system.slice:berth:", err: "empty name"},
		{in: "system.slice:berth:a/b", err: `character '/'`},
		{in: "system.slice:be rth:x", err: `character ' '`},
		{in: "a--b.slice:p:x", err: "dashes"},
		{in: "-a.slice:p:x", err: "dashes"},
		{in: "a/b.slice:p:x", err: "invalid character"},
		{in: "system.slice:p:-.slice", err: "root slice"},
		{in: "system.slice:p:" + strings.Repeat("x", 250), err: "longer than 255"},
	} {
		unit, slice, dir, err := parseSystemdPath(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || unit != tc.unit || slice != tc.slice || dir != tc.dir {
			t.Errorf("%q: got %q %q %q %v, want %q %q %q", tc.in, unit, slice, dir, err, tc.unit, tc.slice, tc.dir)
		}
	}
}

func TestResourceProps(t *testing.T) {
	i64p := func(v int64) *int64 { return &v }
	u64p := func(v uint64) *uint64 { return &v }
	u16p := func(v uint16) *uint16 { return &v }
	for _, tc := range []struct {
		name   string
		r      specs.LinuxResources
		cur    cpuMax
		want   []unitProp
		cpuset bool
		err    string
	}{
		{name: "nothing", r: specs.LinuxResources{}},
		{name: "memory", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64p(32 << 20), Reservation: i64p(16 << 20), Swap: i64p(64 << 20)}},
			want: []unitProp{{"MemoryMax", uint64(32 << 20)}, {"MemoryLow", uint64(16 << 20)}, {"MemorySwapMax", uint64(32 << 20)}}},
		{name: "memory unlimited", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64p(-1), Swap: i64p(-1)}},
			want: []unitProp{{"MemoryMax", infinity}, {"MemorySwapMax", infinity}}},
		{name: "swap below limit", r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64p(64), Swap: i64p(32)}}, err: "memory.swap"},
		{name: "pids", r: specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64p(10)}}, want: []unitProp{{"TasksMax", uint64(10)}}},
		{name: "pids 0 means 1", r: specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64p(0)}}, want: []unitProp{{"TasksMax", uint64(1)}}},
		{name: "pids unlimited", r: specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64p(-1)}}, want: []unitProp{{"TasksMax", infinity}}},
		{name: "shares", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64p(1024)}}, want: []unitProp{{"CPUWeight", uint64(100)}}},
		{name: "shares out of range", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64p(1)}}, err: "cpu.shares"},
		{name: "quota and period", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64p(20000), Period: u64p(50000)}},
			want: []unitProp{{"CPUQuotaPerSecUSec", uint64(400000)}, {"CPUQuotaPeriodUSec", uint64(50000)}}},
		{name: "quota keeps the current period", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64p(10000)}}, cur: parseCPUMax("max 200000"),
			want: []unitProp{{"CPUQuotaPerSecUSec", uint64(50000)}, {"CPUQuotaPeriodUSec", uint64(200000)}}},
		{name: "period keeps the current quota", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Period: u64p(200000)}}, cur: parseCPUMax("20000 50000"),
			want: []unitProp{{"CPUQuotaPerSecUSec", uint64(100000)}, {"CPUQuotaPeriodUSec", uint64(200000)}}},
		{name: "quota rounds up", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64p(1), Period: u64p(3)}},
			want: []unitProp{{"CPUQuotaPerSecUSec", uint64(333334)}, {"CPUQuotaPeriodUSec", uint64(3)}}},
		{name: "no quota", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64p(-1)}},
			want: []unitProp{{"CPUQuotaPerSecUSec", infinity}, {"CPUQuotaPeriodUSec", uint64(100000)}}},
		{name: "cpuset", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0-2,9", Mems: "0"}}, cpuset: true,
			want: []unitProp{{"AllowedCPUs", []byte{0x07, 0x02}}, {"AllowedMemoryNodes", []byte{0x01}}}},
		{name: "bad cpus", r: specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "3-1"}}, err: "cpu.cpus"},
		{name: "blkio weight", r: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16p(1000)}}, want: []unitProp{{"IOWeight", uint64(10000)}}},
	} {
		got, cpuset, err := resourceProps(&tc.r, tc.cur)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) || cpuset != tc.cpuset {
			t.Errorf("%s: got %v %v %v, want %v %v", tc.name, got, cpuset, err, tc.want, tc.cpuset)
		}
	}
}

func TestParseCPUMaxAndVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want cpuMax
	}{
		{"max 100000", cpuMax{-1, 100000, true}},
		{"20000 50000\n", cpuMax{20000, 50000, true}},
		{"20000", cpuMax{}},
		{"x 1", cpuMax{}},
		{"1 0", cpuMax{}},
	} {
		if got := parseCPUMax(tc.in); got != tc.want {
			t.Errorf("parseCPUMax(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	for in, want := range map[string]int{`"252.39-1~deb12u2"`: 252, `"v245"`: 245, `"249"`: 249, `""`: 0, `"x"`: 0} {
		if got := parseSystemdVersion(in); got != want {
			t.Errorf("parseSystemdVersion(%s) = %d, want %d", in, got, want)
		}
	}
}

// Without systemd as PID 1 the driver refuses up front; with it, the VM
// lane (tests/systemd) covers the rest.
func TestNewSystemdWithoutSystemd(t *testing.T) {
	if isDir(systemdRunDir) {
		t.Skip("systemd runs here")
	}
	_, err := New(Config{Path: "system.slice:berth:x", Systemd: true, ID: "x"})
	want := "systemd cgroup driver: systemd is not running (no /run/systemd/system): not supported"
	if !errors.Is(err, ErrNotSupported) || err.Error() != want {
		t.Fatalf("New = %v, want %q", err, want)
	}
}

// Load needs no systemd: later commands rebuild the manager from state.
func TestLoadSystemdState(t *testing.T) {
	for _, tc := range []struct {
		name    string
		paths   map[string]string
		v2      bool
		started bool // a state saved before the unit started is not its owner
	}{
		{"v2", map[string]string{"": "/sys/fs/cgroup/system.slice/berth-x.scope"}, true, true},
		{"v1", map[string]string{"memory": "/sys/fs/cgroup/memory/system.slice/berth-x.scope", "": "/sys/fs/cgroup/unified/system.slice/berth-x.scope"}, false, true},
		{"not started", map[string]string{"": "/sys/fs/cgroup/system.slice/berth-x.scope"}, true, false},
	} {
		st := State{Driver: DriverSystemd, Unit: "berth-x.scope", Paths: tc.paths, UnitStarted: tc.started,
			Config: Config{Path: "system.slice:berth:x", Systemd: true, ID: "x"}}
		m, err := Load(st)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		sm := m.(*systemdManager)
		if _, isV2 := sm.fs.(*v2Manager); isV2 != tc.v2 || sm.own != tc.started || sm.bus != nil {
			t.Errorf("%s: fs %T, own %v, bus %v", tc.name, sm.fs, sm.own, sm.bus)
		}
		if got := m.State(); !reflect.DeepEqual(got, st) {
			t.Errorf("%s: State() = %+v, want %+v", tc.name, got, st)
		}
	}
	if _, err := Load(State{Driver: DriverSystemd, Config: Config{Path: "bad"}}); err == nil {
		t.Error("Load of a state with a bad cgroupsPath and no unit succeeded")
	}
}

// update -r with devices goes through under systemd as without it.
func TestSystemdDevicesUpdatable(t *testing.T) {
	for _, tc := range []struct {
		fs   Manager
		want bool
	}{
		{&v2Manager{}, true},
		{&v1Manager{}, true},
		{&noneManager{}, false},
	} {
		if got := DevicesUpdatable(&systemdManager{fs: tc.fs}); got != tc.want {
			t.Errorf("DevicesUpdatable(systemd over %T) = %v, want %v", tc.fs, got, tc.want)
		}
	}
}
