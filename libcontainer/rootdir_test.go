package libcontainer

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCheckRootStat(t *testing.T) {
	for _, tc := range []struct {
		name string
		uid  uint32
		mode uint32
		err  string
	}{
		{"own 0700", 0, unix.S_IFDIR | 0o700, ""},
		{"own 0755", 0, unix.S_IFDIR | 0o755, ""},
		{"own 0711 sticky", 0, unix.S_IFDIR | 0o1711, ""},
		{"another uid", 1000, unix.S_IFDIR | 0o700, "owned by uid 1000, not by berth's uid 0"},
		{"group-writable", 0, unix.S_IFDIR | 0o770, "mode 0770 lets group or others write it"},
		{"world-writable sticky", 0, unix.S_IFDIR | 0o1777, "mode 01777 lets group or others write it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkRootStat("/r", &unix.Stat_t{Uid: tc.uid, Mode: tc.mode}, 0)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "--root /r: ") {
				t.Fatalf("got %v, want an error containing %q", err, tc.err)
			}
		})
	}
}

func TestCheckRootMissingIsLeftToTheCommand(t *testing.T) {
	if err := CheckRoot(t.TempDir()+"/missing/root", 0); err != nil {
		t.Fatal(err)
	}
}
