package specconv

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-runtime/berth/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Options carries what the command line adds to config.json.
type Options struct {
	// Bundle is the absolute bundle directory.
	Bundle string
	// NoPivot and NoNewKeyring are --no-pivot and --no-new-keyring.
	NoPivot      bool
	NoNewKeyring bool
	// Systemd (--systemd-cgroup) and Rootless go to Config.Cgroup.
	Systemd  bool
	Rootless bool
	// NoCgroup (--cgroup-manager=disabled): the container stays in
	// berth's cgroup.
	NoCgroup bool
	// DefaultCgroupPath is used when linux.cgroupsPath is empty.
	DefaultCgroupPath string
}

// minVersion is the oldest ociVersion accepted; the newest is specs.Version.
const minVersion = "1.0.0"

// Convert validates s and converts it to a configs.Config. It returns the
// first problem found, checking fields in a fixed order, as a *FieldError
// whose message starts with the JSON path of the field.
func Convert(s *specs.Spec, o Options) (*configs.Config, error) {
	if s == nil {
		return nil, fieldErr("config.json", "missing")
	}
	if err := checkVersion(s.Version); err != nil {
		return nil, err
	}
	if !filepath.IsAbs(o.Bundle) {
		return nil, fieldErr("bundle", "%q is not an absolute path", o.Bundle)
	}
	c := &configs.Config{
		OCIVersion:   s.Version,
		Bundle:       filepath.Clean(o.Bundle),
		NoPivot:      o.NoPivot,
		NoNewKeyring: o.NoNewKeyring,
	}
	if err := convertRoot(s.Root, c); err != nil {
		return nil, err
	}
	lx := s.Linux
	if lx == nil {
		lx = &specs.Linux{}
	}
	if err := convertNamespaces(lx, c); err != nil {
		return nil, err
	}
	userNew := c.Has(configs.NEWUSER) && c.NamespacePath(configs.NEWUSER) == ""

	if s.Process == nil {
		return nil, fieldErr("process", "missing")
	}
	p, err := convertProcess(s.Process, c, userNew)
	if err != nil {
		return nil, err
	}
	c.Process = p

	if err := checkUTSName("hostname", s.Hostname, c); err != nil {
		return nil, err
	}
	if err := checkUTSName("domainname", s.Domainname, c); err != nil {
		return nil, err
	}
	c.Hostname, c.Domainname = s.Hostname, s.Domainname

	if c.Mounts, err = convertMounts(s.Mounts, c.Bundle, rootPaths(s.Root.Path, c), c.Has(configs.NEWUSER)); err != nil {
		return nil, err
	}
	if err := convertLinux(lx, c, o, userNew); err != nil {
		return nil, err
	}
	if err := checkHooks(s.Hooks); err != nil {
		return nil, err
	}
	c.Hooks = s.Hooks
	c.Annotations = s.Annotations
	return c, nil
}

// checkVersion accepts any SemVer 1.x with x up to the spec version this
// build knows; patch releases add no fields, so the patch is not compared.
func checkVersion(v string) error {
	if v == "" {
		return fieldErr("ociVersion", "missing")
	}
	major, minor, ok := parseSemver(v)
	if !ok {
		return fieldErr("ociVersion", "%q is not a valid semantic version", v)
	}
	if major != specs.VersionMajor || minor > specs.VersionMinor {
		return fieldErr("ociVersion", "%q is not supported (berth supports %s to %s)", v, minVersion, specs.Version)
	}
	return nil
}

// parseSemver checks SemVer 2.0.0 syntax and returns major and minor.
func parseSemver(v string) (major, minor uint64, ok bool) {
	core, build, hasBuild := strings.Cut(v, "+")
	if hasBuild && !semverIdents(build, false) {
		return 0, 0, false
	}
	core, pre, hasPre := strings.Cut(core, "-")
	if hasPre && !semverIdents(pre, true) {
		return 0, 0, false
	}
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return 0, 0, false
	}
	var n [3]uint64
	for i, p := range parts {
		if !numericIdent(p) {
			return 0, 0, false
		}
		x, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		n[i] = x
	}
	return n[0], n[1], true
}

func numericIdent(p string) bool {
	if p == "" || (len(p) > 1 && p[0] == '0') {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// semverIdents checks dot-separated pre-release or build identifiers;
// numeric pre-release identifiers must not have leading zeros.
func semverIdents(s string, pre bool) bool {
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		digits := true
		for i := 0; i < len(id); i++ {
			ch := id[i]
			switch {
			case ch >= '0' && ch <= '9':
			case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch == '-':
				digits = false
			default:
				return false
			}
		}
		if pre && digits && !numericIdent(id) {
			return false
		}
	}
	return true
}

func convertRoot(r *specs.Root, c *configs.Config) error {
	if r == nil || r.Path == "" {
		return fieldErr("root.path", "missing")
	}
	if err := noNUL("root.path", r.Path); err != nil {
		return err
	}
	p := r.Path
	if !filepath.IsAbs(p) {
		p = filepath.Join(c.Bundle, p)
	}
	// Resolve symlinks once here so every later step works on the real path.
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return fieldErr("root.path", "%v", err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return fieldErr("root.path", "%v", err)
	}
	if !fi.IsDir() {
		return fieldErr("root.path", "%q is not a directory", p)
	}
	c.Rootfs, c.Readonly = real, r.Readonly
	return nil
}

func convertNamespaces(lx *specs.Linux, c *configs.Config) error {
	if len(lx.Namespaces) > 0 {
		c.Namespaces = make([]configs.Namespace, 0, len(lx.Namespaces))
	}
	for i, ns := range lx.Namespaces {
		f := elem{"linux.namespaces", i}
		t := string(ns.Type)
		if !knownNamespace(t) {
			return fieldErr(f.at(".type"), "unknown namespace type %q", t)
		}
		if c.Has(configs.NamespaceType(t)) {
			return fieldErr(f.at(".type"), "duplicate namespace type %q", t)
		}
		if ns.Path != "" {
			if m := absMsg(ns.Path); m != "" {
				return msgErr(f.at(".path"), m)
			}
		}
		c.Namespaces = append(c.Namespaces, configs.Namespace{Type: configs.NamespaceType(t), Path: ns.Path})
	}

	userNew := c.Has(configs.NEWUSER) && c.NamespacePath(configs.NEWUSER) == ""
	for _, m := range []struct {
		field string
		maps  []specs.LinuxIDMapping
	}{{"linux.uidMappings", lx.UIDMappings}, {"linux.gidMappings", lx.GIDMappings}} {
		if len(m.maps) > 0 && !c.Has(configs.NEWUSER) {
			return fieldErr(m.field, "need linux.namespaces user")
		}
		if userNew && len(m.maps) == 0 {
			return fieldErr(m.field, "missing (a new user namespace needs uid and gid mappings)")
		}
		if err := checkIDMappings(m.field, m.maps); err != nil {
			return err
		}
	}
	// Mappings next to a joined user namespace only describe it (idmap
	// mounts may use them); the parent writes maps only for a new one.
	c.UIDMappings, c.GIDMappings = lx.UIDMappings, lx.GIDMappings

	if len(lx.TimeOffsets) > 0 {
		if !c.Has(configs.NEWTIME) || c.NamespacePath(configs.NEWTIME) != "" {
			return fieldErr("linux.timeOffsets", "need linux.namespaces time without a path (offsets only apply to a new time namespace)")
		}
		for _, k := range slices.Sorted(maps.Keys(lx.TimeOffsets)) {
			f := member{"linux.timeOffsets", k}
			if k != "monotonic" && k != "boottime" {
				return fieldErr(f.String(), "unknown clock %q (want monotonic or boottime)", k)
			}
			if lx.TimeOffsets[k].Nanosecs >= 1e9 {
				return fieldErr(f.String()+".nanosecs", "%d is not less than 1000000000", lx.TimeOffsets[k].Nanosecs)
			}
		}
		c.TimeOffsets = lx.TimeOffsets
	}
	return nil
}

// maxIDMapLines is the kernel's limit on uid_map/gid_map entries (4.15+).
const maxIDMapLines = 340

func checkIDMappings(field string, maps []specs.LinuxIDMapping) error {
	if len(maps) > maxIDMapLines {
		return fieldErr(field, "%d entries, the kernel accepts at most %d", len(maps), maxIDMapLines)
	}
	for i, m := range maps {
		f := elem{field, i}
		if m.Size == 0 {
			return fieldErr(f.at(".size"), "must be greater than 0")
		}
		if uint64(m.ContainerID)+uint64(m.Size) > 1<<32 {
			return fieldErr(f.String(), "containerID %d + size %d is beyond the 32-bit id range", m.ContainerID, m.Size)
		}
		if uint64(m.HostID)+uint64(m.Size) > 1<<32 {
			return fieldErr(f.String(), "hostID %d + size %d is beyond the 32-bit id range", m.HostID, m.Size)
		}
		// The kernel rejects overlapping ranges on either side.
		for j := 0; j < i; j++ {
			p := maps[j]
			if overlap(m.ContainerID, m.Size, p.ContainerID, p.Size) {
				return fieldErr(f.String(), "container range overlaps %s[%d]", field, j)
			}
			if overlap(m.HostID, m.Size, p.HostID, p.Size) {
				return fieldErr(f.String(), "host range overlaps %s[%d]", field, j)
			}
		}
	}
	return nil
}

func overlap(a, an, b, bn uint32) bool {
	return uint64(a) < uint64(b)+uint64(bn) && uint64(b) < uint64(a)+uint64(an)
}

// idMapped reports whether id (in the container) is covered by maps.
func idMapped(maps []specs.LinuxIDMapping, id uint32) bool {
	for _, m := range maps {
		if id >= m.ContainerID && uint64(id) < uint64(m.ContainerID)+uint64(m.Size) {
			return true
		}
	}
	return false
}

// hostNameMax is HOST_NAME_MAX, the limit of sethostname/setdomainname.
const hostNameMax = 64

func checkUTSName(field, v string, c *configs.Config) error {
	if v == "" {
		return nil
	}
	if !c.Has(configs.NEWUTS) {
		return fieldErr(field, "requires a uts namespace (linux.namespaces uts)")
	}
	if len(v) > hostNameMax {
		return fieldErr(field, "%d bytes long, the kernel allows at most %d", len(v), hostNameMax)
	}
	return noNUL(field, v)
}

func checkHooks(h *specs.Hooks) error {
	if h == nil {
		return nil
	}
	lists := [...][]specs.Hook{h.Prestart, h.CreateRuntime, h.CreateContainer, h.StartContainer, h.Poststart, h.Poststop}
	for li, list := range lists {
		for i, hk := range list {
			f := elem{"hooks." + hookNames[li], i}
			if m := absMsg(hk.Path); m != "" {
				return msgErr(f.at(".path"), m)
			}
			if hk.Timeout != nil && *hk.Timeout <= 0 {
				return fieldErr(f.at(".timeout"), "%d must be greater than zero", *hk.Timeout)
			}
			if err := checkStrings(f.at(".args"), hk.Args); err != nil {
				return err
			}
			if err := checkEnv(f.at(".env"), hk.Env); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkAbs requires an absolute path without NUL bytes.
func checkAbs(field, p string) error { return msgErr(field, absMsg(p)) }

func noNUL(field, s string) error { return msgErr(field, nulMsg(s)) }

// checkStrings rejects NUL bytes in a list of strings.
func checkStrings(field string, list []string) error {
	for i, s := range list {
		if m := nulMsg(s); m != "" {
			return msgErr(elem{field, i}.String(), m)
		}
	}
	return nil
}

func checkEnv(field string, env []string) error {
	for i, e := range env {
		if strings.IndexByte(e, '=') <= 0 {
			return fieldErr(elem{field, i}.String(), "%q is not in KEY=value form", e)
		}
		if m := nulMsg(e); m != "" {
			return msgErr(elem{field, i}.String(), m)
		}
	}
	return nil
}

var propagation = map[string]uintptr{
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}
