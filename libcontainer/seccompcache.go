package libcontainer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/internal/jsondec"
	"github.com/berth-runtime/berth/internal/logs"
	"github.com/berth-runtime/berth/internal/sysfile"
	"github.com/berth-runtime/berth/libcontainer/seccomp"
)

// CacheDir is the directory under --root where berth keeps compiled
// seccomp filters; it is not a container id (ValidateID refuses it).
const CacheDir = ".berth-cache"

// cachedFilter is one cache entry: the filter and what compiling it logged.
type cachedFilter struct {
	Filter  *seccomp.Compiled `json:"filter"`
	Skipped []string          `json:"skipped,omitempty"`
}

// compileSeccomp compiles linux.seccomp in the parent (init only loads the
// result), logging the syscall names libseccomp does not know. Compiling a
// Docker-sized profile takes ~9 ms, and every container of a host (and
// every exec) usually carries the same one: the result is kept in
// <root>/.berth-cache/seccomp, keyed by the profile and by berth's binary
// (another build may compile differently).
// agentFile dials the seccomp agent of a NOTIFY filter (nil otherwise):
// listenerPath is a host path, so it is dialled before init pivots. The
// caller closes the file once init holds its copy.
func agentFile(cfg *configs.Config, filter *seccomp.Compiled) (*os.File, error) {
	if filter == nil || !filter.Notify {
		return nil, nil
	}
	fd, err := seccomp.DialListener(cfg.Seccomp.ListenerPath)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "seccomp-listener"), nil
}

func compileSeccomp(root string, cfg *configs.Config) (*seccomp.Compiled, error) {
	if cfg.Seccomp == nil {
		return nil, nil
	}
	path, key := seccompCachePath(root, cfg)
	var entry cachedFilter
	if path != "" && readCache(path, &entry) && entry.Filter != nil {
		logSkipped(entry.Skipped)
		logFlags(entry.Filter)
		return entry.Filter, nil
	}
	f, skipped, err := seccomp.Compile(cfg.Seccomp)
	if err != nil {
		return nil, err
	}
	logSkipped(skipped)
	logFlags(f)
	if path != "" {
		if err := writeCache(path, &cachedFilter{Filter: f, Skipped: skipped}); err != nil {
			logs.Debugf("seccomp cache %s: %v", key, err)
		}
	}
	return f, nil
}

// logFlags names the SECCOMP_FILTER_FLAG_* bits init passes (besides the
// TSYNC it always adds), as runc's debug log does.
func logFlags(f *seccomp.Compiled) {
	logs.Debugf("seccomp filter flags: %d", f.Flags)
}

func logSkipped(skipped []string) {
	if len(skipped) > 0 {
		logs.Debugf("linux.seccomp: syscalls unknown to libseccomp skipped: %s", strings.Join(skipped, " "))
	}
}

// seccompCachePath returns the entry's path ("" when berth cannot
// identify its own binary) and its key.
func seccompCachePath(root string, cfg *configs.Config) (string, string) {
	self, ok := selfExe()
	if !ok || root == "" {
		return "", ""
	}
	profile, err := jsondec.MarshalOrJSON(cfg.Seccomp) // json.Marshal's bytes: the key is stable
	if err != nil {
		return "", ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "berth seccomp cache v2\x00%d:%d:%d:%d.%d\x00", self.Dev, self.Ino, self.Size, self.Mtim.Sec, self.Mtim.Nsec)
	h.Write(profile)
	// An absent flags field means SPEC_ALLOW, an empty one no flags; the
	// JSON above omits both alike.
	if cfg.Seccomp.Flags != nil {
		h.Write([]byte("\x00flags set"))
	}
	key := hex.EncodeToString(h.Sum(nil))
	return filepath.Join(root, CacheDir, "seccomp", key+".json"), key
}

// readCache decodes a cache entry written by this user and writable by
// no one else (a filter is trusted as if compiled here).
func readCache(path string, v any) bool {
	for _, p := range []string{filepath.Dir(filepath.Dir(path)), filepath.Dir(path), path} {
		var st unix.Stat_t
		if unix.Lstat(p, &st) != nil || st.Uid != uint32(os.Geteuid()) || st.Mode&0o022 != 0 {
			return false
		}
	}
	b, err := sysfile.Read(path)
	return err == nil && jsondec.Unmarshal(b, v) == nil
}

func writeCache(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := jsondec.MarshalOrJSON(v)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, b, 0o600)
}
