package cgroups

import (
	"path"
	"strings"
	"testing"
)

// FuzzRelPath: whatever cgroupsPath a config gives, the resolved path stays
// below the hierarchy's root, is clean, and is never the root itself.
func FuzzRelPath(f *testing.F) {
	for _, s := range []string{"/a/b", "a/b", "../../etc", "/..", "slice:prefix:name", "a\x00b", "", "/"} {
		f.Add(s, "/user.slice/session-1.scope", "/")
	}
	f.Fuzz(func(t *testing.T, p, base, mountRoot string) {
		rel, err := relPath(p, base, mountRoot)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if rel == "/" || !strings.HasPrefix(rel, "/") || path.Clean(rel) != rel {
			t.Fatalf("relPath(%q, %q, %q) = %q: not a clean path below the root", p, base, mountRoot, rel)
		}
		if strings.Contains(rel, "\x00") {
			t.Fatalf("relPath(%q) = %q keeps a NUL", p, rel)
		}
	})
}
