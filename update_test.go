package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/berth-runtime/berth/libcontainer"
)

// parseUpdate runs the update command's flag definitions over args and
// returns the linux.resources the action would apply.
func parseUpdate(t *testing.T, stdin string, args ...string) (*specs.LinuxResources, error) {
	t.Helper()
	var got *specs.LinuxResources
	var perr error
	cmd := *updateCommand
	cmd.Action = func(ctx *cli.Context) error {
		flags := map[string]string{}
		for _, name := range append([]string{"resources"}, updateValueFlags...) {
			if ctx.IsSet(name) {
				flags[name] = ctx.String(name)
			}
		}
		got, perr = updateResources(flags, strings.NewReader(stdin))
		return nil
	}
	app := &cli.App{Name: "berth", Commands: []*cli.Command{&cmd}, ExitErrHandler: func(*cli.Context, error) {}}
	if err := app.Run(append([]string{"berth", "update"}, append(args, "ctr")...)); err != nil {
		return nil, err
	}
	return got, perr
}

func js(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestUpdateFlagsToResources(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--memory", "512m"}, `{"memory":{"limit":536870912}}`},
		{[]string{"--memory=1g"}, `{"memory":{"limit":1073741824}}`},
		{[]string{"--memory", "-1", "--memory-swap=-1"}, `{"memory":{"limit":-1,"swap":-1}}`},
		{[]string{"--memory-reservation", "100k", "--kernel-memory", "1m", "--kernel-memory-tcp=2m"},
			`{"memory":{"reservation":102400,"kernel":1048576,"kernelTCP":2097152}}`},
		{[]string{"--cpu-share", "512", "--cpu-period=100000", "--cpu-quota", "-1"},
			`{"cpu":{"shares":512,"quota":-1,"period":100000}}`},
		{[]string{"--cpu-rt-period", "1000000", "--cpu-rt-runtime=950000"},
			`{"cpu":{"realtimeRuntime":950000,"realtimePeriod":1000000}}`},
		{[]string{"--cpuset-cpus", "0-1", "--cpuset-mems=0"}, `{"cpu":{"cpus":"0-1","mems":"0"}}`},
		{[]string{"--pids-limit", "20"}, `{"pids":{"limit":20}}`},
		{[]string{"--pids-limit=-1"}, `{"pids":{"limit":-1}}`},
		{[]string{"--blkio-weight", "500"}, `{"blockIO":{"weight":500}}`},
		// Empty RDT schemas are no request.
		{[]string{"--l3-cache-schema", "", "--mem-bw-schema="}, `{}`},
		{nil, `{}`},
	}
	for _, tt := range tests {
		r, err := parseUpdate(t, "", tt.args...)
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if got := js(t, r); got != tt.want {
			t.Errorf("%q: got %s, want %s", tt.args, got, tt.want)
		}
	}
}

func TestUpdateResourcesJSON(t *testing.T) {
	// stdin, with flags laid over the JSON.
	r, err := parseUpdate(t, `{"memory":{"limit":1000},"cpu":{"shares":0},"blockIO":{"weight":0}}`,
		"-r", "-", "--pids-limit", "7", "--memory", "2k")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := js(t, r), `{"memory":{"limit":2048},"cpu":{"shares":0},"pids":{"limit":7},"blockIO":{"weight":0}}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// A device list gets the default rules appended, as in config.json.
	r, err = parseUpdate(t, `{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":1,"access":"r"}]}`, "-r", "-")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(r.Devices); n < 3 || r.Devices[1].Minor == nil || *r.Devices[1].Minor != 1 ||
		r.Devices[n-1].Major == nil || *r.Devices[n-1].Major != 136 {
		t.Errorf("devices: %s", js(t, r.Devices))
	}
	// Burst and idle, where 0 means something.
	r, err = parseUpdate(t, "", "--cpu-burst", "0", "--cpu-idle", "1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := js(t, r), `{"cpu":{"burst":0,"idle":1}}`; got != want {
		t.Errorf("burst/idle: got %s, want %s", got, want)
	}
	f := filepath.Join(t.TempDir(), "r.json")
	if err := os.WriteFile(f, []byte(`{"pids":{"limit":3}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err = parseUpdate(t, "", "--resources="+f)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := js(t, r), `{"pids":{"limit":3}}`; got != want {
		t.Errorf("file: got %s, want %s", got, want)
	}
}

func TestUpdateErrors(t *testing.T) {
	tests := []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"--memory", "12x"}, "", `invalid value "12x" for --memory`},
		{[]string{"--memory", "-2"}, "", `invalid value "-2" for --memory`},
		{[]string{"--memory-swap", "m"}, "", `for --memory-swap`},
		{[]string{"--cpu-period", "-1"}, "", `invalid value "-1" for --cpu-period: invalid syntax`},
		{[]string{"--cpu-quota", "1.5"}, "", `for --cpu-quota`},
		{[]string{"--cpu-share", "99999999999999999999"}, "", `for --cpu-share: value out of range`},
		{[]string{"--pids-limit", "x"}, "", `for --pids-limit`},
		{[]string{"--blkio-weight", "70000"}, "", `for --blkio-weight: value out of range`},
		{[]string{"--blkio-weight", "5"}, "", `for --blkio-weight: out of range 10-1000`},
		{[]string{"--cpu-idle", "2"}, "", `invalid value "2" for --cpu-idle: want 0 or 1`},
		{[]string{"--cpu-burst", "-1"}, "", `for --cpu-burst`},
		{[]string{"-r", "-"}, `{"devices":[{"allow":false,"type":"x","access":"rwm"}]}`, `--resources: linux.resources.devices[0].type`},
		{[]string{"--l3-cache-schema", "L3:0=f"}, "", `--l3-cache-schema: not supported: no Intel RDT`},
		{[]string{"--mem-bw-schema=MB:0=50"}, "", `--mem-bw-schema: not supported: no Intel RDT`},
		{[]string{"-r", "-"}, `{"memory":`, `--resources: decode JSON linux.resources from stdin`},
		{[]string{"-r", "-"}, `{"pids":{"limit":"x"}}`, `--resources: decode JSON`},
		{[]string{"-r", "/nonexistent/r.json"}, "", `/nonexistent/r.json`},
	}
	for _, tt := range tests {
		_, err := parseUpdate(t, tt.stdin, tt.args...)
		if err == nil {
			t.Errorf("%q: no error", tt.args)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %q, want one line containing %q", tt.args, err, tt.want)
		}
	}
}

func TestParseMemory(t *testing.T) {
	ok := map[string]int64{
		"-1": -1, "0": 0, "512": 512, "512b": 512, "1k": 1024, "1K": 1024, "1kb": 1024, "1KiB": 1024,
		"512m": 512 << 20, "512 m": 512 << 20, "512MB": 512 << 20, "1g": 1 << 30, "1.5g": 3 << 29,
		"2t": 2 << 40, "1p": 1 << 50, "4GiB": 4 << 30, "1 ": 1, "7ib": 7,
	}
	for in, want := range ok {
		got, err := parseMemory(in)
		if err != nil || got != want {
			t.Errorf("parseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-2", "-1k", "m", "1x", "1.g", ".5g", "1..5g", "1  m", "1mm", "1bi", "1bb", "1e3", "9000000p", "0x10"} {
		if got, err := parseMemory(in); err == nil {
			t.Errorf("parseMemory(%q) = %d, want an error", in, got)
		}
	}
}

func FuzzParseMemory(f *testing.F) {
	for _, s := range []string{"-1", "512m", "1.5 GiB", "x", "9999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseMemory(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if v < -1 || (v == -1 && s != "-1") {
			t.Fatalf("parseMemory(%q) = %d", s, v)
		}
	})
}

func TestMergeResources(t *testing.T) {
	var base, upd specs.LinuxResources
	mustJSON := func(s string, v any) {
		if err := json.Unmarshal([]byte(s), v); err != nil {
			t.Fatal(err)
		}
	}
	mustJSON(`{"devices":[{"allow":false,"access":"rwm"}],
		"memory":{"limit":1000,"swappiness":10},"cpu":{"shares":512,"quota":5000,"cpus":"0"},
		"pids":{"limit":5},"blockIO":{"weight":100,"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1}]},
		"hugepageLimits":[{"pageSize":"2MB","limit":1}],"unified":{"a.b":"1"}}`, &base)
	baseJSON := js(t, &base)
	// Docker's zeros mean unset; swappiness 0 and pids 0 (runc 1.5: 1) are
	// values; devices are ignored.
	mustJSON(`{"devices":[{"allow":true,"access":"rwm"}],
		"memory":{"limit":2000,"swap":0,"swappiness":0},"cpu":{"shares":0,"quota":0,"period":100000,"mems":"0"},
		"pids":{"limit":0},"blockIO":{"weight":0,"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":2},{"major":8,"minor":16,"rate":3}]},
		"hugepageLimits":[{"pageSize":"1GB","limit":4}],"unified":{"c.d":"2"}}`, &upd)
	got := libcontainer.MergeResources(&base, &upd)
	want := `{"devices":[{"allow":false,"access":"rwm"}],"memory":{"limit":2000,"swappiness":0},` +
		`"cpu":{"shares":512,"quota":5000,"period":100000,"cpus":"0","mems":"0"},"pids":{"limit":0},` +
		`"blockIO":{"weight":100,"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":2},{"major":8,"minor":16,"rate":3}]},` +
		`"hugepageLimits":[{"pageSize":"2MB","limit":1},{"pageSize":"1GB","limit":4}],"unified":{"a.b":"1","c.d":"2"}}`
	if s := js(t, got); s != want {
		t.Errorf("merge:\n got %s\nwant %s", s, want)
	}
	if s := js(t, &base); s != baseJSON {
		t.Errorf("merge changed its base: %s", s)
	}
	// The update alone, as written to the cgroup: zeros and devices dropped.
	delta := libcontainer.MergeResources(nil, &upd)
	wantDelta := `{"memory":{"limit":2000,"swappiness":0},"cpu":{"period":100000,"mems":"0"},"pids":{"limit":0},` +
		`"blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":2},{"major":8,"minor":16,"rate":3}]},` +
		`"hugepageLimits":[{"pageSize":"1GB","limit":4}],"unified":{"c.d":"2"}}`
	if s := js(t, delta); s != wantDelta {
		t.Errorf("delta:\n got %s\nwant %s", s, wantDelta)
	}
	// An all-zero Docker update changes nothing.
	var zero specs.LinuxResources
	mustJSON(`{"cpu":{"shares":0},"blockIO":{"weight":0},"pids":{},"memory":{"limit":0}}`, &zero)
	if s := js(t, libcontainer.MergeResources(&base, &zero)); s != baseJSON {
		t.Errorf("zero update: got %s, want %s", s, baseJSON)
	}
	if s := js(t, libcontainer.MergeResources(nil, nil)); s != `{}` {
		t.Errorf("nil merge: %s", s)
	}
}
