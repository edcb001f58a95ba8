package fastcmd

import (
	"reflect"
	"strings"
	"testing"

	"github.com/berth-runtime/berth/internal/fuzzcorpus"
)

var seeds = []Record{
	{Pid: 1, StartTime: 0},
	{Pid: 4242, StartTime: 123456789, FreezeFile: "/sys/fs/cgroup/freezer/c/freezer.state", Thawed: "THAWED",
		Dirs: []string{"/sys/fs/cgroup/blkio/c", "/sys/fs/cgroup/cpu/c", "/sys/fs/cgroup/unified/c"}},
	{Pid: 7, StartTime: 1 << 63, FreezeFile: "/sys/fs/cgroup/c/cgroup.freeze", Thawed: "0", Dirs: []string{"/sys/fs/cgroup/c"}},
}

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range seeds {
		b, err := r.Encode()
		if err != nil {
			t.Fatalf("Encode(%+v): %v", r, err)
		}
		got, err := parse(b)
		if err != nil {
			t.Fatalf("parse(Encode(%+v)): %v", r, err)
		}
		if !reflect.DeepEqual(*got, r) {
			t.Errorf("round trip: got %+v, want %+v", *got, r)
		}
	}
}

func TestEncodeRefuses(t *testing.T) {
	tooMany := make([]string, maxDirs+1)
	for i := range tooMany {
		tooMany[i] = "/d"
	}
	for name, r := range map[string]Record{
		"no pid":              {},
		"negative pid":        {Pid: -1},
		"relative dir":        {Pid: 1, Dirs: []string{"sys/fs/cgroup"}},
		"empty dir":           {Pid: 1, Dirs: []string{""}},
		"NUL in dir":          {Pid: 1, Dirs: []string{"/a\x00b"}},
		"freeze file alone":   {Pid: 1, FreezeFile: "/f"},
		"thawed alone":        {Pid: 1, Thawed: "0"},
		"relative freeze":     {Pid: 1, FreezeFile: "f", Thawed: "0"},
		"long thawed":         {Pid: 1, FreezeFile: "/f", Thawed: strings.Repeat("x", thawedMax+1)},
		"long dir":            {Pid: 1, Dirs: []string{"/" + strings.Repeat("x", pathMax)}},
		"too many dirs":       {Pid: 1, Dirs: tooMany},
		"pid above int32 max": {Pid: 1 << 31},
	} {
		if b, err := r.Encode(); err == nil {
			t.Errorf("%s: Encode accepted %+v as %q", name, r, b)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	good, err := seeds[1].Encode()
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), good...))
	}
	for name, b := range map[string][]byte{
		"empty":           nil,
		"header only":     good[:8],
		"bad magic":       mutate(func(b []byte) []byte { b[0] ^= 1; return b }),
		"length too long": mutate(func(b []byte) []byte { b[4]++; return b }),
		"trailing byte":   mutate(func(b []byte) []byte { b[4]++; return append(b, 0) }),
		"truncated":       mutate(func(b []byte) []byte { b[4]--; return b[:len(b)-1] }),
		"zero pid":        mutate(func(b []byte) []byte { copy(b[8:12], []byte{0, 0, 0, 0}); return b }),
		"relative dir":    mutate(func(b []byte) []byte { i := strings.Index(string(b), "/sys/fs/cgroup/blkio"); b[i] = 's'; return b }),
		"NUL in path":     mutate(func(b []byte) []byte { i := strings.Index(string(b), "blkio"); b[i] = 0; return b }),
	} {
		if r, err := parse(b); err == nil {
			t.Errorf("%s: parse accepted %q as %+v", name, b, r)
		}
	}
}

// FuzzParseRecord feeds arbitrary bytes to the C parser of the record that
// start, kill and delete trust: it must never crash, and what it accepts
// must encode back to the same bytes.
func FuzzParseRecord(f *testing.F) {
	for _, b := range encodedSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parse(b)
		if err != nil {
			return
		}
		again, err := r.Encode()
		if err != nil {
			t.Fatalf("C parser accepted %q as %+v, Encode refuses it: %v", b, r, err)
		}
		if string(again) != string(b) {
			t.Fatalf("round trip changed %q into %q", b, again)
		}
	})
}

func encodedSeeds(tb testing.TB) [][]byte {
	var out [][]byte
	for _, r := range seeds {
		b, err := r.Encode()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// TestCSanCorpus writes the inputs of the C parsers' fuzz targets for
// scripts/csan.sh (only when BERTH_CSAN_CORPUS is set).
func TestCSanCorpus(t *testing.T) {
	const pkg = "github.com/berth-runtime/berth/internal/fastcmd"
	fuzzcorpus.Dump(t, pkg, "FuzzParseRecord", encodedSeeds(t))
	var args [][]byte
	for _, a := range argSeeds {
		args = append(args, []byte(a))
	}
	fuzzcorpus.Dump(t, pkg, "FuzzParseArgs", args)
}
