package sigfwd

import (
	"strings"
	"testing"

	"github.com/berth-runtime/berth/internal/fuzzcorpus"
)

var commandSeeds = []string{"--root\x00/r\x00run\x00x", "--log=\x00exec", "-\x00--\x00run"}

func TestCommandIndex(t *testing.T) {
	for _, tc := range []struct {
		args string
		want int
	}{
		{"berth run x", 1},
		{"berth --root /r run -d x", 3},
		{"berth --root=/r --log /l --log-format json exec x sh", 6},
		{"berth -root /r --debug --systemd-cgroup --cgroup-manager disabled --rootless false --criu c run x", 11},
		{"berth --root", -1},     // value missing
		{"berth --help run", -1}, // a flag it does not know
		{"berth --debug=true run", -1},
		{"berth", -1},
		{"berth --log", -1},
		{"berth --logx run", -1},
	} {
		if got := commandIndex(strings.Fields(tc.args)); got != tc.want {
			t.Errorf("%q: got %d, want %d", tc.args, got, tc.want)
		}
	}
}

// FuzzCommandIndex: the scan never reads past argv, and the word it finds
// is an argument that is not a flag.
func FuzzCommandIndex(f *testing.F) {
	for _, a := range commandSeeds {
		f.Add(a)
	}
	f.Fuzz(func(t *testing.T, joined string) {
		args := append([]string{"berth"}, strings.Split(joined, "\x00")...)
		i := commandIndex(args)
		if i == -1 {
			return
		}
		if i < 1 || i >= len(args) || strings.HasPrefix(args[i], "-") {
			t.Fatalf("%q: index %d", args, i)
		}
	})
}

// TestCSanCorpus writes the inputs of FuzzCommandIndex for scripts/csan.sh
// (only when BERTH_CSAN_CORPUS is set).
func TestCSanCorpus(t *testing.T) {
	var seeds [][]byte
	for _, a := range commandSeeds {
		seeds = append(seeds, []byte(a))
	}
	fuzzcorpus.Dump(t, "github.com/berth-runtime/berth/internal/sigfwd", "FuzzCommandIndex", seeds)
}
