package specconv

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestCheckExecSize(t *testing.T) {
	var saved unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_STACK, &saved); err != nil {
		t.Fatal(err)
	}
	defer unix.Setrlimit(unix.RLIMIT_STACK, &saved)
	env := func(mib int) []string { // strings of 100 KiB
		var e []string
		for i := 0; i < mib*10; i++ {
			e = append(e, "X="+strings.Repeat("x", 100<<10))
		}
		return e
	}
	for _, tt := range []struct {
		name    string
		stack   uint64 // berth's own RLIMIT_STACK soft limit
		rlimits []specs.POSIXRlimit
		mib     int
		wantErr string
	}{
		{"unlimited stack: 6 MiB cap", unix.RLIM_INFINITY, nil, 5, ""},
		{"unlimited stack: over the cap", unix.RLIM_INFINITY, nil, 7, "process.args + process.env"},
		{"8 MiB stack: a quarter", 8 << 20, nil, 3, "process.args + process.env"},
		{"the config's limit wins", 8 << 20, []specs.POSIXRlimit{{Type: "RLIMIT_STACK", Soft: 64 << 20, Hard: 64 << 20}}, 5, ""},
	} {
		lim := unix.Rlimit{Cur: tt.stack, Max: saved.Max}
		if err := unix.Setrlimit(unix.RLIMIT_STACK, &lim); err != nil {
			t.Skipf("cannot set RLIMIT_STACK to %d under hard limit %d: %v", tt.stack, saved.Max, err)
		}
		err := checkExecSize(&specs.Process{Args: []string{"true"}, Env: env(tt.mib), Rlimits: tt.rlimits})
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}
