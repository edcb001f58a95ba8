package specconv

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/configs"
)

func TestConvertNetDevices(t *testing.T) {
	withNet := func() *configs.Config {
		return &configs.Config{Namespaces: []configs.Namespace{{Type: configs.NEWNET}}}
	}
	for _, tc := range []struct {
		name string
		in   map[string]specs.LinuxNetDevice
		cfg  *configs.Config
		want []configs.NetDevice
		err  string
	}{
		{"renamed and kept, sorted", map[string]specs.LinuxNetDevice{"eth1": {}, "eth0": {Name: "c0"}}, withNet(),
			[]configs.NetDevice{{HostName: "eth0", Name: "c0"}, {HostName: "eth1", Name: "eth1"}}, ""},
		{"template twice is fine", map[string]specs.LinuxNetDevice{"a": {Name: "n%d"}, "b": {Name: "n%d"}}, withNet(),
			[]configs.NetDevice{{HostName: "a", Name: "n%d"}, {HostName: "b", Name: "n%d"}}, ""},
		{"no network namespace", map[string]specs.LinuxNetDevice{"a": {}}, &configs.Config{}, nil, "linux.netDevices: needs a network namespace"},
		{"same name twice", map[string]specs.LinuxNetDevice{"a": {Name: "x"}, "b": {Name: "x"}}, withNet(), nil, "linux.netDevices[b].name: \"x\" is also the name of linux.netDevices[a]"},
		{"host name with a space", map[string]specs.LinuxNetDevice{"a b": {}}, withNet(), nil, "linux.netDevices[a b]: host link name"},
		{"too long", map[string]specs.LinuxNetDevice{"a": {Name: "0123456789abcdef"}}, withNet(), nil, "longer than 15 bytes"},
		{"lo", map[string]specs.LinuxNetDevice{"a": {Name: "lo"}}, withNet(), nil, "loopback"},
		{"other template", map[string]specs.LinuxNetDevice{"a": {Name: "n%s"}}, withNet(), nil, "one %d"},
		{"colon", map[string]specs.LinuxNetDevice{"a": {Name: "eth0:1"}}, withNet(), nil, "contains '/', ':'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := convertNetDevices(tc.in, tc.cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.cfg.NetDevices) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", tc.cfg.NetDevices, tc.want)
			}
			for i := range tc.want {
				if g := tc.cfg.NetDevices[i]; g.HostName != tc.want[i].HostName || g.Name != tc.want[i].Name {
					t.Errorf("[%d] = %+v, want %+v", i, g, tc.want[i])
				}
			}
		})
	}
}
