package libcontainer

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/configs"
)

// processFor puts each fd init holds where the C process stage looks for
// it, and nothing where there is none.
func TestProcessForPlacesFDs(t *testing.T) {
	cfg := &configs.Config{Process: &configs.Process{
		Args: []string{"sh"}, Cwd: "/", ConsoleSize: &specs.Box{Height: 24, Width: 80},
		Capabilities: &configs.Capabilities{Bounding: []int{0, 21}, Ambient: []int{64, -1}},
	}}
	for _, tc := range []struct {
		name string
		fds  procFDs
	}{
		{"none", procFDs{agent: -1, console: -1, root: -1}},
		{"console", procFDs{agent: -1, console: 5, root: -1}},
		{"root fd", procFDs{agent: -1, console: -1, root: 7}},
		{"both, with preserved fds", procFDs{preserve: 2, agent: -1, console: 6, root: 8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := processFor(cfg, nil, nil, tc.fds)
			if err != nil {
				t.Fatal(err)
			}
			if (m.Console != nil) != (tc.fds.console >= 0) || (m.Console != nil && (m.Console.FD != uint32(tc.fds.console) || m.Console.Rows != 24 || m.Console.Cols != 80)) {
				t.Errorf("Console = %+v, want fd %d 24x80", m.Console, tc.fds.console)
			}
			if (m.RootFD != nil) != (tc.fds.root >= 0) || (m.RootFD != nil && *m.RootFD != uint32(tc.fds.root)) {
				t.Errorf("RootFD = %v, want %d", m.RootFD, tc.fds.root)
			}
			if m.Preserve != uint32(tc.fds.preserve) || m.Agent != nil || m.Seccomp != nil {
				t.Errorf("Preserve = %d, Agent = %v, Seccomp = %v", m.Preserve, m.Agent, m.Seccomp)
			}
			// Capabilities the kernel cannot hold in a 64-bit set are dropped.
			if m.Caps[0] != 1|1<<21 || m.Caps[4] != 0 {
				t.Errorf("Caps = %#x", m.Caps)
			}
		})
	}
}

func TestParseCPUList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		cpus []int
		bad  bool
	}{
		{in: "0", cpus: []int{0}},
		{in: "0-2,5", cpus: []int{0, 1, 2, 5}},
		{in: " 1 , 3-3", cpus: []int{1, 3}},
		{in: "1023", cpus: []int{1023}},
		{in: "1024", bad: true},
		{in: "3-1", bad: true},
		{in: "", bad: true},
		{in: "a", bad: true},
		{in: "1-", bad: true},
	} {
		set, err := parseCPUList(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("parseCPUList(%q) accepted", tc.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseCPUList(%q): %v", tc.in, err)
			continue
		}
		if set.Count() != len(tc.cpus) {
			t.Errorf("parseCPUList(%q) has %d CPUs, want %v", tc.in, set.Count(), tc.cpus)
		}
		for _, c := range tc.cpus {
			if !set.IsSet(c) {
				t.Errorf("parseCPUList(%q) lacks CPU %d", tc.in, c)
			}
		}
	}
}
