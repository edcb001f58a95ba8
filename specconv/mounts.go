package specconv

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/rootfs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

type optKind uint8

const (
	optSet      optKind = iota // MS_* flag to set
	optClear                   // MS_* flag to clear
	optProp                    // propagation, applied after the mount
	optRecSet                  // MOUNT_ATTR_* to set recursively
	optRecClear                // MOUNT_ATTR_* to clear recursively
	optRecAtime                // MOUNT_ATTR_ atime mode (an enum, not a bit)
	optNoop                    // recognised, nothing to do ("defaults")
	optCopyUp                  // "tmpcopyup": fill a tmpfs from the rootfs
	optIDMap
	optRIDMap
)

type optDef struct {
	kind optKind
	val  uint64
}

// mountOpts is every option berth understands; anything else is
// filesystem data. Features derives its mountOptions list from it.
var mountOpts = map[string]optDef{
	"defaults": {optNoop, 0},

	"ro":            {optSet, unix.MS_RDONLY},
	"rw":            {optClear, unix.MS_RDONLY},
	"nosuid":        {optSet, unix.MS_NOSUID},
	"suid":          {optClear, unix.MS_NOSUID},
	"nodev":         {optSet, unix.MS_NODEV},
	"dev":           {optClear, unix.MS_NODEV},
	"noexec":        {optSet, unix.MS_NOEXEC},
	"exec":          {optClear, unix.MS_NOEXEC},
	"sync":          {optSet, unix.MS_SYNCHRONOUS},
	"async":         {optClear, unix.MS_SYNCHRONOUS},
	"dirsync":       {optSet, unix.MS_DIRSYNC},
	"remount":       {optSet, unix.MS_REMOUNT},
	"mand":          {optSet, unix.MS_MANDLOCK},
	"nomand":        {optClear, unix.MS_MANDLOCK},
	"noatime":       {optSet, unix.MS_NOATIME},
	"atime":         {optClear, unix.MS_NOATIME},
	"nodiratime":    {optSet, unix.MS_NODIRATIME},
	"diratime":      {optClear, unix.MS_NODIRATIME},
	"relatime":      {optSet, unix.MS_RELATIME},
	"norelatime":    {optClear, unix.MS_RELATIME},
	"strictatime":   {optSet, unix.MS_STRICTATIME},
	"nostrictatime": {optClear, unix.MS_STRICTATIME},
	"lazytime":      {optSet, unix.MS_LAZYTIME},
	"nolazytime":    {optClear, unix.MS_LAZYTIME},
	"silent":        {optSet, unix.MS_SILENT},
	"loud":          {optClear, unix.MS_SILENT},
	"iversion":      {optSet, unix.MS_I_VERSION},
	"noiversion":    {optClear, unix.MS_I_VERSION},
	"nosymfollow":   {optSet, unix.MS_NOSYMFOLLOW},
	"symfollow":     {optClear, unix.MS_NOSYMFOLLOW},
	"bind":          {optSet, unix.MS_BIND},
	"rbind":         {optSet, unix.MS_BIND | unix.MS_REC},

	"shared":      {optProp, unix.MS_SHARED},
	"rshared":     {optProp, unix.MS_SHARED | unix.MS_REC},
	"private":     {optProp, unix.MS_PRIVATE},
	"rprivate":    {optProp, unix.MS_PRIVATE | unix.MS_REC},
	"slave":       {optProp, unix.MS_SLAVE},
	"rslave":      {optProp, unix.MS_SLAVE | unix.MS_REC},
	"unbindable":  {optProp, unix.MS_UNBINDABLE},
	"runbindable": {optProp, unix.MS_UNBINDABLE | unix.MS_REC},

	"rro":          {optRecSet, unix.MOUNT_ATTR_RDONLY},
	"rrw":          {optRecClear, unix.MOUNT_ATTR_RDONLY},
	"rnosuid":      {optRecSet, unix.MOUNT_ATTR_NOSUID},
	"rsuid":        {optRecClear, unix.MOUNT_ATTR_NOSUID},
	"rnodev":       {optRecSet, unix.MOUNT_ATTR_NODEV},
	"rdev":         {optRecClear, unix.MOUNT_ATTR_NODEV},
	"rnoexec":      {optRecSet, unix.MOUNT_ATTR_NOEXEC},
	"rexec":        {optRecClear, unix.MOUNT_ATTR_NOEXEC},
	"rnodiratime":  {optRecSet, unix.MOUNT_ATTR_NODIRATIME},
	"rdiratime":    {optRecClear, unix.MOUNT_ATTR_NODIRATIME},
	"rnosymfollow": {optRecSet, unix.MOUNT_ATTR_NOSYMFOLLOW},
	"rsymfollow":   {optRecClear, unix.MOUNT_ATTR_NOSYMFOLLOW},
	// mount_setattr(2) takes one atime mode, so the "no" forms clear the
	// field, which is the kernel's default mode, relatime (as runc: "not
	// relatime" is relatime too, not strictatime).
	"rrelatime":      {optRecAtime, unix.MOUNT_ATTR_RELATIME},
	"ratime":         {optRecAtime, unix.MOUNT_ATTR_RELATIME},
	"rnostrictatime": {optRecAtime, unix.MOUNT_ATTR_RELATIME},
	"rnoatime":       {optRecAtime, unix.MOUNT_ATTR_NOATIME},
	"rstrictatime":   {optRecAtime, unix.MOUNT_ATTR_STRICTATIME},
	"rnorelatime":    {optRecAtime, unix.MOUNT_ATTR_RELATIME},

	"idmap":     {optIDMap, 0},
	"ridmap":    {optRIDMap, 0},
	"tmpcopyup": {optCopyUp, 0},
}

// ParseMountOptions turns fstab-style options into configs.Mount flags.
// Later options win over earlier ones ("ro,rw" is rw). Unknown options are
// filesystem data, comma-joined into Data in their original order.
// "ridmap" sets IDMapRecursive; Convert gives "idmap" and "ridmap" their
// mappings; "tmpcopyup" sets CopyUp.
func ParseMountOptions(opts []string) (configs.Mount, error) {
	m, _, err := parseMountOptions(opts)
	return m, err
}

// parseMountOptions also reports whether "idmap" or "ridmap" was given.
func parseMountOptions(opts []string) (m configs.Mount, idmap bool, err error) {
	var data []string
	for i, o := range opts {
		if o == "" {
			return m, false, fieldErr(elem{"options", i}.String(), "empty mount option")
		}
		if strings.IndexByte(o, 0) >= 0 {
			return m, false, fieldErr(elem{"options", i}.String(), "%q contains a NUL byte", o)
		}
		d, ok := mountOpts[o]
		if !ok {
			data = append(data, o)
			continue
		}
		switch d.kind {
		case optSet:
			m.Flags |= uintptr(d.val)
			m.ClearedFlags &^= uintptr(d.val)
		case optClear:
			m.ClearedFlags |= uintptr(d.val)
			m.Flags &^= uintptr(d.val)
		case optProp:
			m.PropagationFlags = append(m.PropagationFlags, uintptr(d.val))
		case optRecSet:
			m.RecAttrSet |= d.val
			m.RecAttrClr &^= d.val
		case optRecClear:
			m.RecAttrClr |= d.val
			m.RecAttrSet &^= d.val
		case optRecAtime:
			// The kernel wants the whole atime field cleared and one mode set.
			m.RecAttrClr |= unix.MOUNT_ATTR__ATIME
			m.RecAttrSet = m.RecAttrSet&^unix.MOUNT_ATTR__ATIME | d.val
		case optIDMap:
			idmap = true
		case optRIDMap:
			idmap, m.IDMapRecursive = true, true
		case optCopyUp:
			m.CopyUp = true
		}
	}
	m.Data = strings.Join(data, ",")
	return m, idmap, nil
}

// knownMountOptions is the sorted list of options for the features document.
func knownMountOptions(idmap bool) []string {
	out := make([]string, 0, len(mountOpts))
	for name, d := range mountOpts {
		if (d.kind == optIDMap || d.kind == optRIDMap) && !idmap {
			continue
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// convertMounts converts the mounts in order. roots are the rootfs's
// host paths (as configured, and resolved): a destination below one is
// taken as that path inside the container, as runc does. userns: the
// container has a user namespace (new or joined), whose mapping "idmap"
// mounts without mappings of their own use.
func convertMounts(mounts []specs.Mount, bundle string, roots []string, userns bool) ([]configs.Mount, error) {
	if len(mounts) == 0 {
		return nil, nil
	}
	out := make([]configs.Mount, 0, len(mounts))
	for i := range mounts {
		sm := &mounts[i]
		f := elem{"mounts", i}
		if sm.Destination == "" {
			return nil, fieldErr(f.at(".destination"), "missing")
		}
		if msg := nulMsg(sm.Destination); msg != "" {
			return nil, msgErr(f.at(".destination"), msg)
		}
		m, idmap, err := parseMountOptions(sm.Options)
		if err != nil {
			return nil, prefixErr(f.String(), err)
		}
		m.Destination = containerDest(sm.Destination, roots)
		m.Type = sm.Type
		if sm.Type == "bind" {
			m.Flags |= unix.MS_BIND
		}
		if msg := nulMsg(sm.Type); msg != "" {
			return nil, msgErr(f.at(".type"), msg)
		}
		if msg := nulMsg(sm.Source); msg != "" {
			return nil, msgErr(f.at(".source"), msg)
		}
		if m.IsBind() {
			if sm.Source == "" {
				return nil, fieldErr(f.at(".source"), "missing (bind mounts need a source)")
			}
			// Bind sources are absolute or relative to the bundle.
			if filepath.IsAbs(sm.Source) {
				m.Source = filepath.Clean(sm.Source)
			} else {
				m.Source = filepath.Join(bundle, sm.Source)
			}
		} else {
			m.Source = sm.Source
			if sm.Type == "" && m.Flags&unix.MS_REMOUNT == 0 && len(m.PropagationFlags) == 0 {
				return nil, fieldErr(f.at(".type"), "missing (only bind, remount and propagation-only mounts may omit it)")
			}
		}

		if err := checkProcMount(f, &m); err != nil {
			return nil, err
		}
		if err := checkOptionsApply(f, sm, &m); err != nil {
			return nil, err
		}

		if (len(sm.UIDMappings) == 0) != (len(sm.GIDMappings) == 0) {
			if len(sm.UIDMappings) == 0 {
				return nil, fieldErr(f.at(".uidMappings"), "missing (gidMappings must come with uidMappings)")
			}
			return nil, fieldErr(f.at(".gidMappings"), "missing (uidMappings must come with gidMappings)")
		}
		if idmap || len(sm.UIDMappings) > 0 {
			if !m.IsBind() {
				return nil, fieldErr(f.at(".options"), "id-mapped mounts must be bind mounts")
			}
			switch {
			case len(sm.UIDMappings) > 0:
				if err := checkIDMappings(f.at(".uidMappings"), sm.UIDMappings); err != nil {
					return nil, err
				}
				if err := checkIDMappings(f.at(".gidMappings"), sm.GIDMappings); err != nil {
					return nil, err
				}
				m.UIDMappings, m.GIDMappings = sm.UIDMappings, sm.GIDMappings
			case userns:
				// The spec lets idmap without mappings use the container's.
				m.IDMapUserns = true
			default:
				return nil, fieldErr(f.at(".options"), "idmap without uidMappings and gidMappings on the mount needs a user namespace (linux.namespaces user) to take them from")
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// checkProcMount applies rootfs.CheckProcDest to the destination the
// config names, so that create refuses it before anything is made; rootfs
// checks again where a symlink in the image leads the mount. Only a bind
// on /proc itself needs a syscall: its source must be on a procfs.
func checkProcMount(f elem, m *configs.Mount) error {
	rel := m.Destination[1:]
	if !rootfs.IsProcDest(rel) {
		return nil
	}
	procfs := m.Type == "proc" && !m.IsBind()
	if rel == "proc" && m.IsBind() {
		var sfs unix.Statfs_t
		if err := unix.Statfs(m.Source, &sfs); err != nil {
			return fieldErr(f.at(".source"), "bind on /proc: statfs %s: %v", m.Source, err)
		}
		procfs = sfs.Type == unix.PROC_SUPER_MAGIC
	}
	if err := rootfs.CheckProcDest(rel, procfs); err != nil {
		return fieldErr(f.at(".destination"), "%q: %v (type %q, source %q)", m.Destination, err, m.Type, m.Source)
	}
	return nil
}
