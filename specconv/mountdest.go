package specconv

import (
	"path/filepath"
	"strings"

	"github.com/berth-runtime/berth/configs"
)

// rootPaths are the host paths naming the rootfs: root.path made
// absolute, and c.Rootfs (symlinks resolved) when it differs.
func rootPaths(rootPath string, c *configs.Config) []string {
	p := rootPath
	if !filepath.IsAbs(p) {
		p = filepath.Join(c.Bundle, p)
	}
	p = filepath.Clean(p)
	if p == c.Rootfs {
		return []string{p}
	}
	return []string{p, c.Rootfs}
}

// containerDest is a mount destination as a clean absolute path inside
// the container. Relative ones are deprecated but mean relative to "/".
// One written as a host path below the rootfs (clients that build
// mount trees spell nested destinations that way) is lexically the part
// after the rootfs: no symlink is followed here.
func containerDest(dest string, roots []string) string {
	d := filepath.Clean("/" + dest)
	for _, r := range roots {
		if r == "/" {
			continue
		}
		if d == r {
			return "/"
		}
		if rest, ok := strings.CutPrefix(d, r+"/"); ok {
			return "/" + rest
		}
	}
	return d
}
