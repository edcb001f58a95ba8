package rootfs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestUnmountBelowRemovesNestedMountsOnly(t *testing.T) {
	dir := tmpfsDir(t)
	a, b, other := filepath.Join(dir, "a"), filepath.Join(dir, "a", "b c"), filepath.Join(dir, "ab")
	for _, d := range []string{a, other} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := mountTmpfs(a); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{b, other} {
		if err := mountTmpfs(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := UnmountBelow(a); err != nil {
		t.Fatal(err)
	}
	if isMountRoot(t, a) {
		t.Errorf("%s is still a mount point", a)
	}
	if !isMountRoot(t, other) {
		t.Errorf("%s (a sibling with a common prefix) was unmounted", other)
	}
}
