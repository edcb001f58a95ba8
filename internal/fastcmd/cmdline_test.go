package fastcmd

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args string
		want *command // nil: left to Go
	}{
		{"berth start x", &command{Kind: 1, ID: "x", Sig: 15, ValidID: true}},
		{"berth --root /r kill x KILL", &command{Kind: 2, ID: "x", Sig: 9, HasRoot: true, Root: "/r", ValidID: true, CleanRoot: true}},
		{"berth --root=/r/ kill x sigusr1", &command{Kind: 2, ID: "x", Sig: 10, HasRoot: true, Root: "/r/", ValidID: true}},
		{"berth kill x 64", &command{Kind: 2, ID: "x", Sig: 64, ValidID: true}},
		{"berth --log /l --log-format json delete -f x", &command{Kind: 3, ID: "x", Sig: 15, Force: true, Log: "/l", ValidID: true}},
		{"berth delete ..", &command{Kind: 3, ID: "..", Sig: 15}},
		{"berth kill x 65", nil},
		{"berth kill x 0", nil},
		{"berth kill x NOSUCH", nil},
		{"berth kill x SIGVERYLONGNAMEINDEED", nil},
		{"berth start", nil},
		{"berth start x y", nil},
		{"berth start -x x", nil},
		{"berth start help", nil},
		{"berth --debug start x", nil},
		{"berth --root", nil},
		{"berth --log-format yaml start x", nil},
		{"berth --rootless maybe start x", nil},
		{"berth run x", nil},
		{"berth", nil},
	} {
		got := parseArgs(strings.Fields(tc.args))
		if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
			t.Errorf("%q: got %+v, want %+v", tc.args, got, tc.want)
		}
	}
}

var argSeeds = []string{
	"start\x00x",
	"--root\x00/r\x00kill\x00x\x00SIGKILL",
	"--root=/r/./a\x00--log=\x00delete\x00--force\x00x",
	"-log-format\x00text\x00--criu\x00c\x00kill\x00x\x0012",
	"-\x00--\x00start\x00-",
}

// FuzzParseArgs feeds arbitrary command lines (NUL-separated words) to the
// constructor's parser: it never reads past argv, and what it takes is a
// start, kill or delete of one id that is not a flag, with a signal in
// 1-64; an id or --root it calls valid is one Go would accept as is.
func FuzzParseArgs(f *testing.F) {
	for _, a := range argSeeds {
		f.Add(a)
	}
	f.Fuzz(func(t *testing.T, joined string) {
		args := append([]string{"berth"}, strings.Split(joined, "\x00")...)
		c := parseArgs(args)
		if c == nil {
			return
		}
		if c.Kind < 1 || c.Kind > 3 || c.Sig < 1 || c.Sig > 64 || strings.HasPrefix(c.ID, "-") {
			t.Fatalf("%q: parsed as %+v", args, c)
		}
		if c.Force && c.Kind != 3 {
			t.Fatalf("%q: --force on %+v", args, c)
		}
		if c.ValidID && (c.ID == "" || strings.ContainsAny(c.ID, "/\x7f") || c.ID == "." || c.ID == "..") {
			t.Fatalf("%q: id %q called valid", args, c.ID)
		}
		if c.CleanRoot && c.Root != "" && filepath.Clean(c.Root) != c.Root {
			t.Fatalf("%q: --root %q called clean, filepath.Clean makes %q", args, c.Root, filepath.Clean(c.Root))
		}
	})
}
