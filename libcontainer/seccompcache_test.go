package libcontainer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/libcontainer/seccomp"
)

func TestSeccompCache(t *testing.T) {
	root := t.TempDir()
	profile := func(errno uint) *configs.Config {
		return &configs.Config{Seccomp: &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir", "berth_no_such_syscall"}, Action: specs.ActErrno, ErrnoRet: &errno}},
		}}
	}
	first, err := compileSeccomp(root, profile(1))
	if err != nil {
		t.Fatal(err)
	}
	path, _ := seccompCachePath(root, profile(1))
	var entry cachedFilter
	if !readCache(path, &entry) || !reflect.DeepEqual(entry.Filter, first) ||
		!reflect.DeepEqual(entry.Skipped, []string{"berth_no_such_syscall"}) {
		t.Fatalf("cache entry %s = %+v, want the compiled filter and the skipped name", path, entry)
	}
	// A second compile of the same profile comes from the entry: plant
	// one that differs to see it taken.
	planted := &seccomp.Compiled{BPF: append([]byte(nil), first.BPF...), Flags: 1}
	b, _ := json.Marshal(cachedFilter{Filter: planted})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := compileSeccomp(root, profile(1)); err != nil || !reflect.DeepEqual(got, planted) {
		t.Errorf("second compile = %+v, %v; want the cached entry", got, err)
	}
	// An entry others may write is not trusted.
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	if got, err := compileSeccomp(root, profile(1)); err != nil || !reflect.DeepEqual(got, first) {
		t.Errorf("compile with a world-writable entry = %+v, %v; want a fresh compile", got, err)
	}
	// Another profile, another entry.
	other, _ := seccompCachePath(root, profile(2))
	if other == path || filepath.Dir(other) != filepath.Join(root, CacheDir, "seccomp") {
		t.Errorf("entries %s and %s", path, other)
	}
	if f, err := compileSeccomp(root, &configs.Config{}); f != nil || err != nil {
		t.Errorf("no linux.seccomp: %v, %v", f, err)
	}
	if err := ValidateID(CacheDir); err == nil {
		t.Errorf("ValidateID(%q) accepted berth's cache directory", CacheDir)
	}
}
