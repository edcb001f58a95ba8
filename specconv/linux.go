package specconv

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/berth-runtime/berth/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// convertLinux handles the linux section after namespaces and mappings.
func convertLinux(lx *specs.Linux, c *configs.Config, o Options, userNew bool) error {
	var err error
	if c.Devices, err = convertDevices(lx.Devices, c, userNew); err != nil {
		return err
	}
	if lx.RootfsPropagation != "" {
		fl, ok := propagation[lx.RootfsPropagation]
		if !ok {
			return fieldErr("linux.rootfsPropagation", "unknown propagation %q", lx.RootfsPropagation)
		}
		c.RootPropagation = fl
	}
	if err := checkSysctl(lx.Sysctl, c); err != nil {
		return err
	}
	c.Sysctl = lx.Sysctl
	if c.MaskedPaths, err = absPaths("linux.maskedPaths", lx.MaskedPaths); err != nil {
		return err
	}
	if c.ReadonlyPaths, err = absPaths("linux.readonlyPaths", lx.ReadonlyPaths); err != nil {
		return err
	}

	path := lx.CgroupsPath
	if path == "" {
		path = o.DefaultCgroupPath
	} else if err := checkCgroupsPath(path, o.Systemd); err != nil {
		return err
	}
	// Every container gets a device list, even when the spec has none:
	// without one the cgroup keeps the host's allow-all.
	var res specs.LinuxResources
	if lx.Resources != nil {
		res = *lx.Resources
	}
	if res.Devices, err = DeviceRules(res.Devices); err != nil {
		return err
	}
	c.Cgroup = configs.CgroupConfig{Path: path, Systemd: o.Systemd, Rootless: o.Rootless, Disabled: o.NoCgroup, Resources: &res}

	if pe := lx.Personality; pe != nil {
		if pe.Domain != specs.PerLinux && pe.Domain != specs.PerLinux32 {
			return fieldErr("linux.personality.domain", "unknown domain %q (want LINUX or LINUX32)", pe.Domain)
		}
		if len(pe.Flags) > 0 {
			return fieldErr("linux.personality.flags", "not supported (the spec defines no flags)")
		}
	}
	if lx.IntelRdt != nil {
		if err := checkIntelRdt(lx.IntelRdt); err != nil {
			return err
		}
		c.IntelRdt = lx.IntelRdt
	}
	if err := convertNetDevices(lx.NetDevices, c); err != nil {
		return err
	}
	if lx.MemoryPolicy != nil {
		if c.MemoryPolicy, err = convertMemoryPolicy(lx.MemoryPolicy); err != nil {
			return err
		}
	}
	c.Seccomp, c.Personality, c.MountLabel = lx.Seccomp, lx.Personality, lx.MountLabel
	c.Seccomp = keepEmptySeccompFlags(c.Seccomp)
	return nil
}

// keepEmptySeccompFlags: an absent linux.seccomp.flags means SPEC_ALLOW, an
// empty one no flags, but the stored config.json (omitempty) cannot tell
// them apart, and exec compiles from it. TSYNC alone means no flags to
// berth (init always syncs), and survives the round trip.
func keepEmptySeccompFlags(s *specs.LinuxSeccomp) *specs.LinuxSeccomp {
	if s == nil || s.Flags == nil || len(s.Flags) > 0 {
		return s
	}
	c := *s
	c.Flags = []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_TSYNC"}
	return &c
}

func convertDevices(in []specs.LinuxDevice, c *configs.Config, userNew bool) ([]configs.Device, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]configs.Device, 0, len(in))
	for i, d := range in {
		f := elem{"linux.devices", i}
		if m := absMsg(d.Path); m != "" {
			return nil, msgErr(f.at(".path"), m)
		}
		dev := configs.Device{Path: filepath.Clean(d.Path), FileMode: 0o666}
		for j := range out {
			if out[j].Path == dev.Path {
				return nil, fieldErr(f.at(".path"), "duplicate device %q (also linux.devices[%d])", dev.Path, j)
			}
		}
		switch d.Type {
		case "c", "b", "u":
			// major/minor are plain int64 in specs-go, so "missing" reads as 0.
			if d.Major < 0 {
				return nil, fieldErr(f.at(".major"), "%d is negative", d.Major)
			}
			if d.Minor < 0 {
				return nil, fieldErr(f.at(".minor"), "%d is negative", d.Minor)
			}
			dev.Major, dev.Minor = d.Major, d.Minor
		case "p":
		default:
			return nil, fieldErr(f.at(".type"), "unknown device type %q (want c, b, u or p)", d.Type)
		}
		dev.Type = rune(d.Type[0])
		if d.FileMode != nil {
			// Only permission bits: some callers pass stat's S_IFCHR too.
			dev.FileMode = *d.FileMode & os.ModePerm
		}
		if d.UID != nil {
			dev.UID = *d.UID
		}
		if d.GID != nil {
			dev.GID = *d.GID
		}
		if userNew {
			if !idMapped(c.UIDMappings, dev.UID) {
				return nil, fieldErr(f.at(".uid"), "%d is not mapped by linux.uidMappings", dev.UID)
			}
			if !idMapped(c.GIDMappings, dev.GID) {
				return nil, fieldErr(f.at(".gid"), "%d is not mapped by linux.gidMappings", dev.GID)
			}
		}
		out = append(out, dev)
	}
	return out, nil
}

func absPaths(field string, in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(in))
	for i, p := range in {
		if m := absMsg(p); m != "" {
			return nil, msgErr(elem{field, i}.String(), m)
		}
		// A path listed twice is masked (or made read-only) once: a
		// second mount on it would only stack another one.
		if p = filepath.Clean(p); !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// ipcSysctls are the kernel.* sysctls owned by the ipc namespace
// (fs.mqueue.* is too).
var ipcSysctls = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true,
	"kernel.sem": true, "kernel.shmall": true, "kernel.shmmax": true,
	"kernel.shmmni": true, "kernel.shm_rmid_forced": true,
	"kernel.msg_next_id": true, "kernel.sem_next_id": true, "kernel.shm_next_id": true,
}

// checkSysctl allows only sysctls that belong to a namespace the container
// has, so that setting them cannot change the host.
func checkSysctl(sysctl map[string]string, c *configs.Config) error {
	if len(sysctl) == 0 {
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(sysctl)) {
		if msg := sysctlMsg(k, sysctl[k], c); msg != "" {
			return msgErr(member{"linux.sysctl", k}.String(), msg)
		}
	}
	return nil
}

func sysctlMsg(k, v string, c *configs.Config) string {
	if !validSysctlKey(k) {
		return strconv.Quote(k) + " is not a valid sysctl name"
	}
	if m := nulMsg(v); m != "" {
		return m
	}
	// "net/ipv4/ip_forward" is the same key as "net.ipv4.ip_forward".
	name := strings.ReplaceAll(k, "/", ".")
	switch {
	case ipcSysctls[name] || strings.HasPrefix(name, "fs.mqueue."):
		if !c.Has(configs.NEWIPC) {
			return "needs an ipc namespace (linux.namespaces ipc)"
		}
	case strings.HasPrefix(name, "net."):
		if !c.Has(configs.NEWNET) {
			return "needs a network namespace (linux.namespaces network)"
		}
		if p := c.NamespacePath(configs.NEWNET); p != "" && sameFile(p, "/proc/self/ns/net") {
			return "linux.namespaces network path " + strconv.Quote(p) + " is the host's network namespace"
		}
	case strings.HasPrefix(name, "user."):
		// The ucount limits under /proc/sys/user belong to a user
		// namespace: init sets its own (runc 1.4 accepts them too).
		if !c.Has(configs.NEWUSER) {
			return "needs a user namespace (linux.namespaces user)"
		}
	case name == "kernel.hostname" || name == "kernel.domainname":
		if !c.Has(configs.NEWUTS) {
			return "needs a uts namespace (linux.namespaces uts)"
		}
	default:
		return "not namespaced: berth only sets ipc, network, uts and user sysctls"
	}
	return ""
}

// validSysctlKey keeps keys to plain names so that init's /proc/sys path
// built from them cannot escape /proc/sys.
func validSysctlKey(k string) bool {
	sep := "."
	if strings.Contains(k, "/") {
		sep = "/"
	}
	for _, part := range strings.Split(k, sep) {
		if part == "" || part == "." || part == ".." || strings.IndexByte(part, 0) >= 0 {
			return false
		}
	}
	return true
}

func sameFile(a, b string) bool {
	var sa, sb syscall.Stat_t
	if syscall.Stat(a, &sa) != nil || syscall.Stat(b, &sb) != nil {
		return false
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// checkCgroupsPath rejects paths that leave the cgroup hierarchy and, for
// systemd, anything but "slice:prefix:name".
func checkCgroupsPath(p string, systemd bool) error {
	if err := noNUL("linux.cgroupsPath", p); err != nil {
		return err
	}
	if systemd {
		parts := strings.Split(p, ":")
		if len(parts) != 3 || parts[2] == "" {
			return fieldErr("linux.cgroupsPath", "%q is not slice:prefix:name (needed with --systemd-cgroup)", p)
		}
		return nil
	}
	if cl := filepath.Clean(p); cl == ".." || strings.HasPrefix(cl, "../") {
		return fieldErr("linux.cgroupsPath", "%q is outside the cgroup hierarchy", p)
	}
	return nil
}

// denyAllDevices is the base of every device list: what the spec's
// rules and the defaults do not allow is denied, as with runc, whatever
// the spec lists (a list of allow rules alone must not leave the host's
// allow-all underneath).
var denyAllDevices = specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}

// defaultDeviceRules follow the spec's list: the spec makes every
// runtime supply /dev/null, zero, full, random, urandom, tty, console and
// ptmx (with /dev/pts), so a deny rule in the list must not cut the
// container off them; mknod stays allowed so that init can create the
// linux.devices nodes after the cgroup is applied (opening a node still
// needs an allow rule).
var defaultDeviceRules = func() []specs.LinuxDeviceCgroup {
	dev := func(typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
		r := specs.LinuxDeviceCgroup{Allow: true, Type: typ, Access: access}
		if major >= 0 {
			r.Major = &major
		}
		if minor >= 0 {
			r.Minor = &minor
		}
		return r
	}
	const all = -1
	return []specs.LinuxDeviceCgroup{
		dev("c", all, all, "m"),
		dev("b", all, all, "m"),
		dev("c", 1, 3, "rwm"),     // null
		dev("c", 1, 5, "rwm"),     // zero
		dev("c", 1, 7, "rwm"),     // full
		dev("c", 1, 8, "rwm"),     // random
		dev("c", 1, 9, "rwm"),     // urandom
		dev("c", 5, 0, "rwm"),     // tty
		dev("c", 5, 1, "rwm"),     // console
		dev("c", 5, 2, "rwm"),     // ptmx
		dev("c", 136, all, "rwm"), // /dev/pts/*
	}
}()

// DeviceRules validates a linux.resources.devices list (empty is fine)
// and returns what the cgroup gets, at create and when `update` replaces
// the list: deny-all, the list in order, then the default rules.
func DeviceRules(rules []specs.LinuxDeviceCgroup) ([]specs.LinuxDeviceCgroup, error) {
	if err := checkDeviceRules(rules); err != nil {
		return nil, err
	}
	rules = deviceAccess(rules)
	out := make([]specs.LinuxDeviceCgroup, 0, 1+len(rules)+len(defaultDeviceRules))
	if len(rules) == 0 || !isDenyAll(rules[0]) {
		out = append(out, denyAllDevices)
	}
	out = append(out, rules...)
	return append(out, defaultDeviceRules...), nil
}

// isDenyAll reports whether r denies every device and access (unset
// fields match everything).
func isDenyAll(r specs.LinuxDeviceCgroup) bool {
	wild := func(n *int64) bool { return n == nil || *n == -1 }
	return !r.Allow && (r.Type == "" || r.Type == "a") && wild(r.Major) && wild(r.Minor) &&
		(r.Access == "" || (len(r.Access) == 3 && strings.ContainsRune(r.Access, 'r') &&
			strings.ContainsRune(r.Access, 'w') && strings.ContainsRune(r.Access, 'm')))
}

func checkDeviceRules(rules []specs.LinuxDeviceCgroup) error {
	for i, r := range rules {
		f := elem{"linux.resources.devices", i}
		switch r.Type {
		case "", "a", "c", "b":
		default:
			return fieldErr(f.at(".type"), "unknown device type %q (want a, c or b)", r.Type)
		}
		if r.Major != nil && *r.Major < -1 {
			return fieldErr(f.at(".major"), "%d is negative", *r.Major)
		}
		if r.Minor != nil && *r.Minor < -1 {
			return fieldErr(f.at(".minor"), "%d is negative", *r.Minor)
		}
	}
	return nil
}
