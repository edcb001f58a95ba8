package nsenter

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/fuzzcorpus"
)

var bootstrapSeeds = []Bootstrap{
	{},
	{CloneFlags: unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWNET},
	{CloneFlags: unix.CLONE_NEWUSER | unix.CLONE_NEWTIME, IDMap: true, TimeOffsets: "monotonic 1 0\n"},
	{Join: []Join{{unix.CLONE_NEWNET, "/proc/1/ns/net"}, {unix.CLONE_NEWUSER, "/proc/1/ns/user"}}},
	{CloneFlags: unix.CLONE_NEWNS | unix.CLONE_NEWPID, CInit: true, Proc: []string{"", "hidepid=2"}, Keyring: "_ses.x"},
	{Join: []Join{{unix.CLONE_NEWNET, "/proc/1/ns/net"}}, Exec: true},
	{JoinPidfdFD: 9, JoinPidfdFlags: unix.CLONE_NEWNET | unix.CLONE_NEWNS | unix.CLONE_NEWPID, Exec: true},
}

// encodeSeeds encodes each seed with enc, failing the test on an error.
func encodeSeeds[T any](tb testing.TB, seeds []T, enc func(*T) ([]byte, error)) [][]byte {
	var out [][]byte
	for i := range seeds {
		msg, err := enc(&seeds[i])
		if err != nil {
			tb.Fatalf("seed %+v: %v", seeds[i], err)
		}
		out = append(out, msg)
	}
	return out
}

// TestCSanCorpus writes the inputs of the C parsers' fuzz targets for
// scripts/csan.sh (only when BERTH_CSAN_CORPUS is set).
func TestCSanCorpus(t *testing.T) {
	fuzzcorpus.Dump(t, "github.com/berth-runtime/berth/nsenter", "FuzzParseBootstrap",
		encodeSeeds(t, bootstrapSeeds, (*Bootstrap).Encode))
	fuzzcorpus.Dump(t, "github.com/berth-runtime/berth/nsenter", "FuzzParseProcess",
		encodeSeeds(t, processSeeds, (*Process).Encode))
	var fds [][]byte
	for _, s := range fdSeeds {
		fds = append(fds, []byte(s))
	}
	fuzzcorpus.Dump(t, "github.com/berth-runtime/berth/nsenter", "FuzzParseFD", fds)
}

// FuzzParseBootstrap feeds arbitrary bytes to the constructor's C parser.
// It must never crash, and whatever it accepts the Go encoder must accept
// and re-encode into a message that parses to the same Bootstrap.
func FuzzParseBootstrap(f *testing.F) {
	for _, msg := range encodeSeeds(f, bootstrapSeeds, (*Bootstrap).Encode) {
		f.Add(msg)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		b, err := parseBootstrap(msg)
		if err != nil {
			return
		}
		again, err := b.Encode()
		if err != nil {
			t.Fatalf("C parser accepted %q as %+v, Encode rejects it: %v", msg, b, err)
		}
		b2, err := parseBootstrap(again)
		if err != nil {
			t.Fatalf("C parser rejects re-encoded %+v: %v", b, err)
		}
		if !sameBootstrap(b, b2) {
			t.Fatalf("round trip changed %+v into %+v", b, b2)
		}
	})
}

var fdSeeds = []string{"0", "3", "42", "2147483647", "2147483648", "", "-1", "+3", " 3", "3 ", "0x3", "007", "99999999999999999999", "3\x00"}

func TestParseFD(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"0", 0}, {"3", 3}, {"007", 7}, {"2147483647", 2147483647},
		{"2147483648", -1}, {"", -1}, {"-1", -1}, {"+3", -1}, {" 3", -1}, {"3 ", -1}, {"0x3", -1},
		{"99999999999999999999", -1},
	} {
		got, ok := ParseFD(tc.in)
		if got != tc.want || ok != (tc.want >= 0) {
			t.Errorf("ParseFD(%q) = %d, %v; want %d", tc.in, got, ok, tc.want)
		}
		if c := parseFDC(tc.in); c != tc.want {
			t.Errorf("berth_parse_fd(%q) = %d, want %d", tc.in, c, tc.want)
		}
	}
}

// FuzzParseFD: Go's ParseFD and the constructor's berth_parse_fd agree on
// every string (the C side sees it up to its first NUL, as in environ).
func FuzzParseFD(f *testing.F) {
	for _, s := range fdSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		env := s
		if i := strings.IndexByte(s, 0); i >= 0 {
			env = s[:i]
		}
		g, _ := ParseFD(env)
		if c := parseFDC(s); c != g {
			t.Fatalf("%q: berth_parse_fd %d, ParseFD %d", s, c, g)
		}
	})
}
