package cgroups

import (
	"fmt"
	"path"
	"strings"
)

// DefaultPath is the cgroupsPath berth uses for a container whose
// config.json has no linux.cgroupsPath: "/<id>", directly under each
// hierarchy's root, like runc's cgroupfs driver. No shared parent means
// Destroy never has an empty parent cgroup to clean up.
func DefaultPath(id string) string { return "/" + id }

// relPath turns cgroupsPath p into a cgroup path below a hierarchy's root
// (always starting with "/", never the root itself).
//
// Absolute paths are taken relative to the mount point, as the spec
// requires. Relative paths are taken relative to the caller's own cgroup
// in that hierarchy (base, from /proc/self/cgroup): that is where a
// runtime started by a delegating manager is allowed to create cgroups,
// and it nests the container under whatever limits the caller runs with.
// mountRoot is the cgroup the mount shows at its mount point ("/" unless
// a sub-tree is bind-mounted); base is made relative to it.
//
// Cleaning a path that starts with "/" removes every "..", so the result
// cannot leave the mount.
func relPath(p, base, mountRoot string) (string, error) {
	if strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("cgroupsPath %q: contains a NUL byte", p)
	}
	if p == "" {
		return "", fmt.Errorf("cgroupsPath %q: names no cgroup of its own", p)
	}
	if strings.ContainsRune(base, 0) || strings.ContainsRune(mountRoot, 0) {
		return "", fmt.Errorf("cgroupsPath %q: the caller's cgroup path %q is malformed", p, base)
	}
	var rel string
	if strings.HasPrefix(p, "/") {
		rel = path.Clean(p)
	} else {
		if base == "" {
			return "", fmt.Errorf("cgroupsPath %q is relative but the caller's cgroup is unknown", p)
		}
		if mountRoot != "" && mountRoot != "/" {
			if b, ok := strings.CutPrefix(base, mountRoot); ok && (b == "" || b[0] == '/') {
				base = b
			}
		}
		rel = path.Clean("/" + base + "/" + p)
		if rel == path.Clean("/"+base) {
			return "", fmt.Errorf("cgroupsPath %q: resolves to the caller's own cgroup", p)
		}
	}
	if rel == "/" {
		return "", fmt.Errorf("cgroupsPath %q: resolves to the root cgroup, which a container must not own", p)
	}
	return rel, nil
}
