package specconv

import (
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/configs"
)

// convertNetDevices checks linux.netDevices: each host link goes into the
// container's own network namespace under a valid, unique name.
func convertNetDevices(in map[string]specs.LinuxNetDevice, c *configs.Config) error {
	if len(in) == 0 {
		return nil
	}
	if !c.Has(configs.NEWNET) {
		return fieldErr("linux.netDevices", "needs a network namespace: linux.namespaces has no \"network\" entry, and berth does not move host links within the host's namespace")
	}
	hosts := make([]string, 0, len(in))
	for h := range in {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	seen := make(map[string]string, len(in))
	for _, h := range hosts {
		f := "linux.netDevices[" + h + "]"
		if m := ifnameMsg(h); m != "" {
			return fieldErr(f, "host link name %q: %s", h, m)
		}
		name := in[h].Name
		if name == "" {
			name = h
		}
		if m := ifnameMsg(name); m != "" {
			return fieldErr(f+".name", "%q: %s", name, m)
		}
		if name == "lo" {
			return fieldErr(f+".name", "\"lo\" is the loopback link every network namespace already has")
		}
		if strings.Count(name, "%") > 1 || (strings.Contains(name, "%") && !strings.Contains(name, "%d")) {
			return fieldErr(f+".name", "%q: the only template the kernel expands is one %%d", name)
		}
		if other, dup := seen[name]; dup && !strings.Contains(name, "%d") {
			return fieldErr(f+".name", "%q is also the name of linux.netDevices[%s] in the container", name, other)
		}
		seen[name] = h
		c.NetDevices = append(c.NetDevices, configs.NetDevice{HostName: h, Name: name})
	}
	return nil
}

// ifnameMsg says what is wrong with a link name, "" if nothing
// (dev_valid_name in the kernel).
func ifnameMsg(n string) string {
	switch {
	case n == "":
		return "empty"
	case len(n) > 15:
		return "longer than 15 bytes (IFNAMSIZ)"
	case n == "." || n == "..":
		return "not a link name"
	case strings.ContainsAny(n, "/: \t\n\x00"):
		return "contains '/', ':' or whitespace"
	}
	return ""
}
