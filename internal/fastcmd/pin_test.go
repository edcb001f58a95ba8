package fastcmd_test

// The constructor's C parser re-states two Go rules so start, kill and
// delete can run before Go starts: the container id check and the signal
// names. Feed both sides the same words so they cannot drift.

import (
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/fastcmd"
	"github.com/berth-runtime/berth/internal/signame"
	"github.com/berth-runtime/berth/libcontainer"
)

// cID is the C verdict on id as the fast path sees it; ok is false when
// the command line is not one the C parser takes at all.
func cID(id string) (valid, ok bool) {
	c := fastcmd.ParseArgs([]string{"berth", "delete", id})
	if c == nil {
		return false, false
	}
	return c.ValidID, true
}

// cSignal is the signal the C parser reads, 0 when it leaves the word to Go.
func cSignal(s string) int {
	c := fastcmd.ParseArgs([]string{"berth", "kill", "x", s})
	if c == nil {
		return 0
	}
	return c.Sig
}

var idSeeds = []string{"a", "ctr-1", ".", "..", "...", ".berth-cache", ".berth-cache2", "a/b", "a\x01", "a\x7f",
	"a\x80", "é", "\xff\xfe", strings.Repeat("x", 1024), strings.Repeat("x", 1025), " ", "a b", "-"}

func checkID(t *testing.T, id string) {
	valid, ok := cID(id)
	if !ok {
		return // a flag-like word or an empty argument: Go's
	}
	goValid := libcontainer.ValidateID(id) == nil
	if valid != goValid {
		t.Fatalf("id %q: C says valid=%v, libcontainer.ValidateID says %v", id, valid, goValid)
	}
}

func TestIDRuleMatchesGo(t *testing.T) {
	for _, id := range idSeeds {
		checkID(t, id)
	}
}

func FuzzIDRuleMatchesGo(f *testing.F) {
	for _, id := range idSeeds {
		f.Add(id)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if strings.IndexByte(id, 0) >= 0 {
			return // cannot reach argv
		}
		checkID(t, id)
	})
}

var signalSeeds = []string{"KILL", "kill", "SIGKILL", "sigKill", "9", "09", "64", "65", "0", "00", "+9", " 9", "RTMIN+1",
	"SIGRTMAX", "IOT", "SIGCLD", "POLL", "SIG", "SIGSIGKILL", "TERM ", "ＫILL"}

func checkSignal(t *testing.T, s string) {
	c := cSignal(s)
	if c == 0 {
		return // left to Go, which gives the answer and the error
	}
	g, err := signame.Parse(s)
	if err != nil || int(g) != c {
		t.Fatalf("signal %q: C reads %d, Go reads %d (%v)", s, c, g, err)
	}
}

func TestSignalWordsMatchGo(t *testing.T) {
	for _, s := range signalSeeds {
		checkSignal(t, s)
	}
}

func FuzzSignalWordsMatchGo(f *testing.F) {
	for _, s := range signalSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.IndexByte(s, 0) >= 0 {
			return
		}
		checkSignal(t, s)
	})
}

// Every standard signal's name and number take the fast path: a name C
// forgot would still work (Go takes it) but silently lose the fast kill.
func TestEveryStandardSignalIsFast(t *testing.T) {
	for n := 1; n <= 31; n++ {
		name := unix.SignalName(unix.Signal(n))
		if name == "" {
			continue
		}
		for _, w := range []string{name, strings.TrimPrefix(name, "SIG"), strings.ToLower(name)} {
			if got := cSignal(w); got != n {
				t.Errorf("kill %q: C reads %d, want %d", w, got, n)
			}
		}
	}
	for n := 1; n <= 64; n++ {
		if got := cSignal(strconv.Itoa(n)); got != n {
			t.Errorf("kill %d: C reads %d", n, got)
		}
	}
}
