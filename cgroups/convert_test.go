package cgroups

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/cgroups/internal/devfilter"
	"github.com/berth-runtime/berth/internal/mountinfo"
)

func ptr[T any](v T) *T { return &v }

func TestSharesToWeight(t *testing.T) {
	for _, tc := range []struct {
		shares, want uint64
	}{
		{0, 0},          // unset stays unset
		{2, 1},          // v1 minimum -> v2 minimum
		{1024, 100},     // the v1 default -> the v2 default
		{262144, 10000}, // v1 maximum -> v2 maximum
		{1, 1},          // below range clamps
		{1 << 20, 10000},
		{512, 59},   // 10^(1080/612) = 58.2, rounded up
		{2048, 174}, // 10^(1386/612) = 173.3
		{4096, 303},
		{3, 2},
		{100, 17},
	} {
		if got := SharesToWeight(tc.shares); got != tc.want {
			t.Errorf("SharesToWeight(%d) = %d, want %d", tc.shares, got, tc.want)
		}
	}
}

func TestBlkioWeightToIOWeight(t *testing.T) {
	for _, tc := range []struct {
		w    uint16
		want uint64
	}{
		{0, 0}, {10, 1}, {500, 4950}, {1000, 10000}, {5, 1}, {2000, 10000},
	} {
		if got := BlkioWeightToIOWeight(tc.w); got != tc.want {
			t.Errorf("BlkioWeightToIOWeight(%d) = %d, want %d", tc.w, got, tc.want)
		}
	}
}

func TestSwapV2ConvertsMemoryPlusSwap(t *testing.T) {
	for _, tc := range []struct {
		name        string
		limit, swap *int64
		want        string
		ok          bool
		errHas      string
	}{
		{"unset", ptr[int64](100), nil, "", false, ""},
		{"zero is unset", ptr[int64](100), ptr[int64](0), "", false, ""},
		{"unlimited", nil, ptr[int64](-1), "max", true, ""},
		{"difference", ptr[int64](100), ptr[int64](300), "200", true, ""},
		{"equal means no swap", ptr[int64](100), ptr[int64](100), "0", true, ""},
		{"below limit", ptr[int64](300), ptr[int64](100), "", false, "below memory.limit 300"},
		{"without limit", nil, ptr[int64](100), "", false, "needs memory.limit"},
		{"unlimited limit", ptr[int64](-1), ptr[int64](100), "", false, "unlimited"},
		{"negative", ptr[int64](100), ptr[int64](-5), "", false, "neither -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := swapV2(tc.limit, tc.swap)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) || !strings.Contains(err.Error(), "linux.resources.memory.swap") {
					t.Fatalf("err = %v, want one naming the field and containing %q", err, tc.errHas)
				}
				return
			}
			if err != nil || got != tc.want || ok != tc.ok {
				t.Fatalf("swapV2 = %q, %v, %v; want %q, %v", got, ok, err, tc.want, tc.ok)
			}
		})
	}
}

func TestCPUMaxV2(t *testing.T) {
	for _, tc := range []struct {
		name   string
		quota  *int64
		period *uint64
		cur    string
		want   string
		ok     bool
	}{
		{"nothing", nil, nil, "", "", false},
		{"zeros are unset", ptr[int64](0), ptr[uint64](0), "", "", false},
		{"quota and period", ptr[int64](50000), ptr[uint64](100000), "", "50000 100000", true},
		{"unlimited quota", ptr[int64](-1), ptr[uint64](100000), "", "max 100000", true},
		{"quota only keeps period", ptr[int64](20000), nil, "", "20000", true},
		{"period only keeps quota", nil, ptr[uint64](250000), "30000 100000\n", "30000 250000", true},
		{"period only, no quota yet", nil, ptr[uint64](250000), "max 100000\n", "max 250000", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := cpuMaxV2(tc.quota, tc.period, tc.cur)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("cpuMaxV2 = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestIOMaxLinesMergesPerDevice(t *testing.T) {
	dev := func(maj, min int64, rate uint64) specs.LinuxThrottleDevice {
		d := specs.LinuxThrottleDevice{Rate: rate}
		d.Major, d.Minor = maj, min
		return d
	}
	b := &specs.LinuxBlockIO{
		ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{dev(8, 0, 1000), dev(8, 16, 0)},
		ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{dev(8, 0, 30)},
	}
	want := []string{"8:0 rbps=1000 wiops=30", "8:16 rbps=max"}
	if got := ioMaxLines(b); !slices.Equal(got, want) {
		t.Fatalf("ioMaxLines = %q, want %q", got, want)
	}
}

func TestRdmaLines(t *testing.T) {
	got, err := rdmaLines(map[string]specs.LinuxRdma{
		"mlx5_1": {HcaHandles: ptr[uint32](3), HcaObjects: ptr[uint32](10000)},
		"mlx4_0": {HcaObjects: ptr[uint32](1000)},
	})
	want := []string{"mlx4_0 hca_object=1000", "mlx5_1 hca_handle=3 hca_object=10000"}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("rdmaLines = %q, %v; want %q", got, err, want)
	}
	if _, err := rdmaLines(map[string]specs.LinuxRdma{"x": {}}); err == nil || !strings.Contains(err.Error(), "linux.resources.rdma") {
		t.Fatalf("empty entry: err = %v, want one naming linux.resources.rdma", err)
	}
}

func TestUnifiedKeyRejectsPaths(t *testing.T) {
	for _, tc := range []struct {
		key, ctrl string
		ok        bool
	}{
		{"memory.high", "memory", true},
		{"cgroup.max.depth", "cgroup", true},
		{"hugetlb.1GB.max", "hugetlb", true},
		{"../memory.high", "", false},
		{"a/b.c", "", false},
		{"memory..high", "", false},
		{"nodot", "", false},
		{".high", "", false},
		{"memory.", "", false},
	} {
		ctrl, err := unifiedKey(tc.key)
		if (err == nil) != tc.ok || ctrl != tc.ctrl {
			t.Errorf("unifiedKey(%q) = %q, %v; want ok=%v ctrl %q", tc.key, ctrl, err, tc.ok, tc.ctrl)
		}
	}
}

func TestV1DeviceWrites(t *testing.T) {
	dev := func(allow bool, typ string, maj, min *int64, acc string) specs.LinuxDeviceCgroup {
		return specs.LinuxDeviceCgroup{Allow: allow, Type: typ, Major: maj, Minor: min, Access: acc}
	}
	for _, tc := range []struct {
		name   string
		rules  []specs.LinuxDeviceCgroup
		want   []devWrite
		errHas string
	}{
		{"deny all then allow null", []specs.LinuxDeviceCgroup{
			dev(false, "", nil, nil, "rwm"),
			dev(true, "c", ptr[int64](1), ptr[int64](3), "rwm"),
		}, []devWrite{{0, "devices.deny", "a"}, {1, "devices.allow", "c 1:3 rwm"}}, ""},
		{"allow rules alone start from deny-all", []specs.LinuxDeviceCgroup{
			dev(true, "c", ptr[int64](10), ptr[int64](200), "rwm"),
		}, []devWrite{{-1, "devices.deny", "a"}, {0, "devices.allow", "c 10:200 rwm"}}, ""},
		{"allow-all first is the base", []specs.LinuxDeviceCgroup{
			dev(true, "", nil, nil, ""),
			dev(false, "c", ptr[int64](1), ptr[int64](7), "w"),
		}, []devWrite{{0, "devices.allow", "a"}, {1, "devices.deny", "c 1:7 w"}}, ""},
		{"wildcards and default access", []specs.LinuxDeviceCgroup{
			dev(true, "b", ptr[int64](8), nil, ""),
			dev(true, "c", ptr[int64](-1), ptr[int64](-1), "m"),
		}, []devWrite{{-1, "devices.deny", "a"}, {0, "devices.allow", "b 8:* rwm"}, {1, "devices.allow", "c *:* m"}}, ""},
		{"narrow type-a rule expands", []specs.LinuxDeviceCgroup{
			dev(false, "a", ptr[int64](5), nil, "w"),
		}, []devWrite{{-1, "devices.deny", "a"}, {0, "devices.deny", "c 5:* w"}, {0, "devices.deny", "b 5:* w"}}, ""},
		{"bad type", []specs.LinuxDeviceCgroup{dev(true, "u", nil, nil, "")}, nil, "devices[0].type"},
		{"bad access", []specs.LinuxDeviceCgroup{dev(true, "c", nil, nil, "rx")}, nil, "devices[0].access"},
		{"repeated access", []specs.LinuxDeviceCgroup{dev(true, "c", nil, nil, "rr")}, nil, "devices[0].access"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v1DeviceWrites(tc.rules)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("err = %v, want one containing %q", err, tc.errHas)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("v1DeviceWrites = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestBpfDeviceRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   specs.LinuxDeviceCgroup
		want devfilter.Rule
	}{
		{"defaults: all types, any number, every access", specs.LinuxDeviceCgroup{Allow: true},
			devfilter.Rule{Allow: true, Type: 'a', Major: -1, Minor: -1, Access: 7}},
		{"char 1:3 read-write", specs.LinuxDeviceCgroup{Type: "c", Major: ptr[int64](1), Minor: ptr[int64](3), Access: "rw"},
			devfilter.Rule{Type: 'c', Major: 1, Minor: 3, Access: devfilter.AccRead | devfilter.AccWrite}},
		{"block, major only, mknod", specs.LinuxDeviceCgroup{Allow: true, Type: "b", Major: ptr[int64](8), Access: "m"},
			devfilter.Rule{Allow: true, Type: 'b', Major: 8, Minor: -1, Access: devfilter.AccMknod}},
		{"-1 is a wildcard", specs.LinuxDeviceCgroup{Type: "c", Major: ptr[int64](-1), Minor: ptr[int64](5), Access: "wm"},
			devfilter.Rule{Type: 'c', Major: -1, Minor: 5, Access: devfilter.AccWrite | devfilter.AccMknod}},
	} {
		got, err := bpfDeviceRules([]specs.LinuxDeviceCgroup{tc.in})
		if err != nil || len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s: bpfDeviceRules = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	if _, err := bpfDeviceRules([]specs.LinuxDeviceCgroup{{Allow: true}, {Access: "rwmr"}}); err == nil ||
		!strings.Contains(err.Error(), "linux.resources.devices[1].access") {
		t.Errorf("repeated access letter: err = %v", err)
	}
}

func TestRelPath(t *testing.T) {
	for _, tc := range []struct {
		name, p, base, root, want, errHas string
	}{
		{"absolute", "/berth/c1", "/ignored", "/", "/berth/c1", ""},
		{"absolute cleaned", "/a/../../b//c/", "", "/", "/b/c", ""},
		{"relative to own cgroup", "c1", "/user.slice/me", "/", "/user.slice/me/c1", ""},
		{"relative from root", "c1", "/", "/", "/c1", ""},
		{"relative under bind-mounted subtree", "c1", "/docker/x/y", "/docker/x", "/y/c1", ""},
		{"relative cannot escape mount", "../../../../c1", "/a", "/", "/c1", ""},
		{"root refused", "/", "", "/", "", "root cgroup"},
		{"dotdot to root refused", "/a/..", "", "/", "", "root cgroup"},
		{"relative needs own cgroup", "c1", "", "/", "", "caller's cgroup is unknown"},
		{"nul refused", "/a\x00b", "", "/", "", "NUL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := relPath(tc.p, tc.base, tc.root)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("relPath = %q, %v; want error containing %q", got, err, tc.errHas)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("relPath = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestDefaultPathIsAbsolutePerID(t *testing.T) {
	if got := DefaultPath("c1"); got != "/c1" {
		t.Fatalf("DefaultPath = %q, want /c1", got)
	}
}

func TestParseProcCgroup(t *testing.T) {
	got := parseProcCgroup("9:name=systemd:/\n4:memory:/a/b\n2:cpu,cpuacct:/c\n0::/u\n")
	want := map[string]string{"name=systemd": "/", "memory": "/a/b", "cpu": "/c", "cpuacct": "/c", "": "/u"}
	if len(got) != len(want) {
		t.Fatalf("parseProcCgroup = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("parseProcCgroup[%q] = %q, want %q", k, got[k], v)
		}
	}
}

func TestV1MountOf(t *testing.T) {
	known := map[string]bool{"cpu": true, "cpuacct": true, "memory": true}
	for _, tc := range []struct {
		name, line string
		ok         bool
		want       v1Mount
	}{
		{"comounted", "30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,xattr,cpu,cpuacct",
			true, v1Mount{"/sys/fs/cgroup/cpu,cpuacct", "/", []string{"cpu", "cpuacct"}}},
		{"named", "31 25 0:27 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd",
			true, v1Mount{"/sys/fs/cgroup/systemd", "/", []string{"name=systemd"}}},
		{"optional fields and escapes", "32 25 0:28 /sub /mnt/my\\040cg rw shared:5 - cgroup cg rw,memory",
			true, v1Mount{"/mnt/my cg", "/sub", []string{"memory"}}},
		{"cgroup2 is not v1", "33 25 0:29 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw", false, v1Mount{}},
		{"not cgroup", "34 25 0:30 / /tmp rw - tmpfs tmpfs rw", false, v1Mount{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got *v1Mount
			ok := false
			mountinfo.Parse([]byte(tc.line), func(e *mountinfo.Entry) bool { got, ok = v1MountOf(e, known); return true })
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if ok && (got.Mountpoint != tc.want.Mountpoint || got.Root != tc.want.Root || !slices.Equal(got.Controllers, tc.want.Controllers)) {
				t.Fatalf("got %+v, want %+v", *got, tc.want)
			}
		})
	}
}

func TestHugePageNameAndCheck(t *testing.T) {
	for _, tc := range []struct {
		bytes uint64
		want  string
	}{{64 << 10, "64KB"}, {2 << 20, "2MB"}, {1 << 30, "1GB"}, {32 << 30, "32GB"}, {1536 << 10, "1536KB"}} {
		if got := hugePageName(tc.bytes); got != tc.want {
			t.Errorf("hugePageName(%d) = %q, want %q", tc.bytes, got, tc.want)
		}
	}
	have := []string{"1GB", "2MB"}
	for _, tc := range []struct {
		size         string
		ok, notSuppd bool
	}{{"2MB", true, false}, {"1GB", true, false}, {"64KB", false, true}, {"2M", false, false}, {"../x", false, false}, {"MB", false, false}, {"2KMB", false, false}} {
		err := checkPageSize("f", tc.size, have)
		if (err == nil) != tc.ok || errors.Is(err, ErrNotSupported) != tc.notSuppd {
			t.Errorf("checkPageSize(%q) = %v; want ok=%v notSupported=%v", tc.size, err, tc.ok, tc.notSuppd)
		}
	}
}

func TestDetectModeLegacyOnPlainDir(t *testing.T) {
	// A tmpdir is neither cgroup2 nor has a cgroup2 "unified" below it.
	if m, err := detectMode(t.TempDir()); err != nil || m != ModeLegacy {
		t.Fatalf("detectMode = %v, %v; want legacy", m, err)
	}
	if _, err := detectMode("/nonexistent-berth"); err == nil {
		t.Fatal("detectMode of a missing dir succeeded")
	}
}

func TestJoinErrsOneLine(t *testing.T) {
	a, b := errors.New("a"), errors.New("b")
	err := joinErrs(a, nil, b)
	if err.Error() != "a; b" || !errors.Is(err, a) || !errors.Is(err, b) {
		t.Fatalf("joinErrs = %q, want \"a; b\" wrapping both", err)
	}
	if joinErrs(nil, nil) != nil {
		t.Fatal("joinErrs of nils is not nil")
	}
}

// The v1 kernel model: one exception per exact key, an allow adds access
// to it under deny-all, a deny takes access from it, "a" resets.
func TestV1DevTarget(t *testing.T) {
	w := func(file, line string) devWrite { return devWrite{0, "devices." + file, line} }
	for _, tc := range []struct {
		name   string
		writes []devWrite
		want   v1DevState
	}{
		{"deny all then allows merge per key", []devWrite{
			w("deny", "a"), w("allow", "c 1:3 r"), w("allow", "c 1:3 w"), w("allow", "c *:* m"), w("allow", "b 8:* rwm"),
		}, v1DevState{ex: map[string]uint8{"c 1:3": 6, "c *:*": 1, "b 8:*": 7}}},
		{"a deny takes access from its own key only", []devWrite{
			w("deny", "a"), w("allow", "c 1:3 rwm"), w("allow", "c 1:5 rwm"), w("deny", "c 1:3 w"), w("deny", "c 1:5 rwm"), w("deny", "c *:* r"),
		}, v1DevState{ex: map[string]uint8{"c 1:3": 3}}},
		{"a later reset drops what came before", []devWrite{
			w("deny", "a"), w("allow", "c 1:3 rwm"), w("allow", "a"), w("deny", "b 7:0 r"),
		}, v1DevState{allow: true, ex: map[string]uint8{"b 7:0": 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := v1DevTarget(tc.writes); got.allow != tc.want.allow || !maps.Equal(got.ex, tc.want.ex) {
				t.Errorf("v1DevTarget = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseV1DevList(t *testing.T) {
	for _, tc := range []struct {
		list string
		ok   bool
		ex   map[string]uint8
	}{
		{"a *:* rwm\n", false, nil}, // allow by default: exceptions hidden
		{"c 1:3 rwm\nc *:* m\nb *:* m\nc 136:* rw\n", true, map[string]uint8{"c 1:3": 7, "c *:*": 1, "b *:*": 1, "c 136:*": 6}},
		{"", true, map[string]uint8{}}, // deny all, no exceptions
		{"x 1:3 rwm\n", false, nil},
		{"c 1:3\n", false, nil},
	} {
		st, ok := parseV1DevList(tc.list)
		if ok != tc.ok || (ok && (st.allow || !maps.Equal(st.ex, tc.ex))) {
			t.Errorf("parseV1DevList(%q) = %+v, %v; want %v, %v", tc.list, st, ok, tc.ex, tc.ok)
		}
	}
}

// An update of a running container writes only what changes, removals
// first: nothing kept is ever cut off and nothing is wider in between.
func TestV1DeviceDiff(t *testing.T) {
	deny := func(ex map[string]uint8) v1DevState { return v1DevState{ex: ex} }
	for _, tc := range []struct {
		name     string
		cur, tgt v1DevState
		want     []devWrite
		ok       bool
	}{
		{"new allow rule only adds it", deny(map[string]uint8{"c 1:3": 7, "c 136:*": 7}), deny(map[string]uint8{"c 1:3": 7, "c 136:*": 7, "c 10:200": 7}),
			[]devWrite{{-1, "devices.allow", "c 10:200 rwm"}}, true},
		{"removals go before additions", deny(map[string]uint8{"c 1:3": 7, "c 1:11": 4}), deny(map[string]uint8{"c 1:3": 6, "c 10:200": 6}),
			[]devWrite{{-1, "devices.deny", "c 1:11 w"}, {-1, "devices.deny", "c 1:3 m"}, {-1, "devices.allow", "c 10:200 rw"}}, true},
		{"same rules write nothing", deny(map[string]uint8{"c 1:3": 7}), deny(map[string]uint8{"c 1:3": 7}), nil, true},
		{"from allow-all: no diff", v1DevState{allow: true}, deny(map[string]uint8{"c 1:3": 7}), nil, false},
		{"to allow-all: no diff", deny(map[string]uint8{"c 1:3": 7}), v1DevState{allow: true}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := v1DeviceDiff(tc.cur, tc.tgt)
			if ok != tc.ok || !slices.Equal(got, tc.want) {
				t.Errorf("v1DeviceDiff = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
