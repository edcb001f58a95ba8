package rootfs

import (
	"errors"
	"testing"
)

func TestCheckProcDest(t *testing.T) {
	for _, tc := range []struct {
		rel    string
		procfs bool
		want   error
	}{
		// On /proc: a procfs only.
		{"proc", true, nil},
		{"proc", false, errProcNotProcfs},
		// Below /proc: the lxcfs files only, whatever the mount is.
		{"proc/cpuinfo", false, nil},
		{"proc/diskstats", false, nil},
		{"proc/meminfo", false, nil},
		{"proc/stat", false, nil},
		{"proc/swaps", false, nil},
		{"proc/uptime", false, nil},
		{"proc/loadavg", false, nil},
		{"proc/slabinfo", false, nil},
		{"proc/net/dev", false, nil},
		{"proc/sys/kernel/ns_last_pid", false, nil},
		{"proc/sys/crypto/fips_enabled", false, nil},
		{"proc/sys", false, errInsideProc},
		{"proc/sys", true, errInsideProc},
		{"proc/self", false, errInsideProc},
		{"proc/self/fd/0", false, errInsideProc},
		{"proc/self/attr/exec", false, errInsideProc},
		{"proc/net", false, errInsideProc},
		{"proc/cpuinfo/x", false, errInsideProc},
		{"proc/sys/kernel", false, errInsideProc},
		// Elsewhere: anything.
		{"", false, nil},
		{"procfs", false, nil},
		{"proc2/self", false, nil},
		{"sys", false, nil},
		{"mnt/proc", false, nil},
		{"mnt/proc/self", false, nil},
	} {
		if err := CheckProcDest(tc.rel, tc.procfs); !errors.Is(err, tc.want) {
			t.Errorf("CheckProcDest(%q, %v) = %v, want %v", tc.rel, tc.procfs, err, tc.want)
		}
	}
}

func TestIsProcDest(t *testing.T) {
	for _, tc := range []struct {
		rel  string
		want bool
	}{
		{"proc", true}, {"proc/self", true}, {"procs", false}, {"a/proc", false}, {"", false},
	} {
		if got := IsProcDest(tc.rel); got != tc.want {
			t.Errorf("IsProcDest(%q) = %v, want %v", tc.rel, got, tc.want)
		}
	}
}
