// Package fuzzcorpus writes the inputs of a Go fuzz target as raw files,
// for scripts/csan.sh to feed the C parsers built with the sanitizers.
// Only tests import it.
package fuzzcorpus

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Env names the directory to write into; without it Dump skips the test.
const Env = "BERTH_CSAN_CORPUS"

// CacheEnv names the Go build cache (`go env GOCACHE`), whose fuzz/
// directory holds what `go test -fuzz` found; optional.
const CacheEnv = "BERTH_CSAN_GOCACHE"

// Dump writes, under $BERTH_CSAN_CORPUS/<target>/, the seeds, then the
// target's testdata/fuzz corpus and its entries in the fuzz cache. pkg is
// the package's import path (the cache is keyed by it).
func Dump(t *testing.T, pkg, target string, seeds [][]byte) {
	t.Helper()
	root := os.Getenv(Env)
	if root == "" {
		t.Skipf("%s is not set", Env)
	}
	dir := filepath.Join(root, target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range seeds {
		write(t, filepath.Join(dir, fmt.Sprintf("seed-%d", i)), s)
	}
	sources := map[string]string{"testdata": filepath.Join("testdata", "fuzz", target)}
	if cache := os.Getenv(CacheEnv); cache != "" {
		sources["cache"] = filepath.Join(cache, "fuzz", pkg, target)
	}
	for prefix, src := range sources {
		entries, err := os.ReadDir(src)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			in, err := Decode(b)
			if err != nil {
				t.Fatalf("%s/%s: %v", src, e.Name(), err)
			}
			write(t, filepath.Join(dir, prefix+"-"+e.Name()), in)
		}
	}
}

func write(t *testing.T, path string, b []byte) {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Decode reads a corpus file of a one-argument target ("go test fuzz v1",
// then one []byte(...) or string(...) line).
func Decode(b []byte) ([]byte, error) {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) != 2 || string(lines[0]) != "go test fuzz v1" {
		return nil, errors.New("not a one-value go test fuzz v1 file")
	}
	v := string(lines[1])
	for _, typ := range []string{"[]byte(", "string("} {
		if len(v) > len(typ) && v[:len(typ)] == typ && v[len(v)-1] == ')' {
			s, err := strconv.Unquote(v[len(typ) : len(v)-1])
			if err != nil {
				return nil, fmt.Errorf("value %q: %w", v, err)
			}
			return []byte(s), nil
		}
	}
	return nil, fmt.Errorf("value %q is not []byte or string", v)
}
