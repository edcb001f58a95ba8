package specconv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/configs"
)

// FuzzLoadConvert feeds arbitrary bytes as config.json of a bundle with a
// real rootfs: Load and Convert must not panic, errors must be one line,
// and a successful result must hold what the rest of berth relies on.
func FuzzLoadConvert(f *testing.F) {
	for _, rootless := range []bool{false, true} {
		s, _ := Example(rootless)
		data, _ := json.Marshal(s)
		f.Add(data)
	}
	if data, err := os.ReadFile("testdata/rich-config.json"); err == nil {
		f.Add(data)
	}
	bundle := newBundle(f)
	cfg := filepath.Join(bundle, "config.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(cfg, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Load(bundle)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") || !strings.HasPrefix(err.Error(), "config.json: ") {
				t.Fatalf("bad Load error %q", err)
			}
			return
		}
		c, err := Convert(s, Options{Bundle: bundle, DefaultCgroupPath: "/berth/fuzz"})
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("multi-line Convert error %q", err)
			}
			if _, ok := err.(*FieldError); !ok {
				t.Fatalf("Convert error %T is not a *FieldError", err)
			}
			return
		}
		if c.Process == nil || len(c.Process.Args) == 0 || !filepath.IsAbs(c.Process.Cwd) {
			t.Fatalf("bad process %+v", c.Process)
		}
		if !filepath.IsAbs(c.Rootfs) {
			t.Fatalf("rootfs %q not absolute", c.Rootfs)
		}
		for i, m := range c.Mounts {
			if !filepath.IsAbs(m.Destination) {
				t.Fatalf("mounts[%d] destination %q not absolute", i, m.Destination)
			}
			if m.IsBind() && !filepath.IsAbs(m.Source) {
				t.Fatalf("mounts[%d] bind source %q not absolute", i, m.Source)
			}
		}
		for _, p := range append(c.MaskedPaths, c.ReadonlyPaths...) {
			if !filepath.IsAbs(p) {
				t.Fatalf("path %q not absolute", p)
			}
		}
	})
}

// FuzzParseMountOptions splits the input on newlines into options.
func FuzzParseMountOptions(f *testing.F) {
	f.Add("ro\nnosuid\nmode=755")
	f.Add("rbind\nrro\nrnoatime\nrstrictatime\nrrw")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		opts := strings.Split(in, "\n")
		m, err := ParseMountOptions(opts)
		bad := false
		for _, o := range opts {
			if o == "" || strings.IndexByte(o, 0) >= 0 {
				bad = true
			}
		}
		if err != nil {
			if !bad {
				t.Fatalf("error %v for valid options %q", err, opts)
			}
			if strings.ContainsAny(err.Error(), "\n\r") || !strings.HasPrefix(err.Error(), "options[") {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		if bad {
			t.Fatalf("no error for %q", opts)
		}
		if m.Flags&m.ClearedFlags != 0 {
			t.Fatalf("flags %#x both set and cleared (%#x)", m.Flags, m.ClearedFlags)
		}
		if m.RecAttrSet&^unix.MOUNT_ATTR__ATIME&m.RecAttrClr != 0 {
			t.Fatalf("recursive attrs %#x both set and cleared (%#x)", m.RecAttrSet, m.RecAttrClr)
		}
		// The kernel needs the whole atime field cleared to set an atime mode.
		if m.RecAttrSet&unix.MOUNT_ATTR__ATIME != 0 && m.RecAttrClr&unix.MOUNT_ATTR__ATIME != unix.MOUNT_ATTR__ATIME {
			t.Fatalf("atime mode %#x set without clearing MOUNT_ATTR__ATIME", m.RecAttrSet)
		}
		var data []string
		for _, o := range opts {
			if _, known := mountOpts[o]; !known {
				data = append(data, o)
			}
		}
		if m.Data != strings.Join(data, ",") {
			t.Fatalf("data %q, want the unknown options %q", m.Data, data)
		}
	})
}

// FuzzConvertProcess feeds arbitrary bytes as exec's --process JSON: the
// conversion must not panic, errors are one line, and an accepted process
// has what init relies on.
func FuzzConvertProcess(f *testing.F) {
	f.Add([]byte(`{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0}}`))
	f.Add([]byte(`{"args":["true"],"cwd":"/tmp","env":["A=1"],"capabilities":{"bounding":["CAP_KILL"]},"rlimits":[{"type":"RLIMIT_NOFILE","hard":10,"soft":5}]}`))
	f.Add([]byte(`{"args":[],"cwd":"rel"}`))
	cfg := &configs.Config{}
	f.Fuzz(func(t *testing.T, data []byte) {
		var sp specs.Process
		if json.Unmarshal(data, &sp) != nil {
			return
		}
		p, err := ConvertProcess(&sp, cfg)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if len(p.Args) == 0 || !strings.HasPrefix(p.Cwd, "/") {
			t.Fatalf("accepted a process init cannot run: %+v", p)
		}
	})
}
