// Package callerfds records, before berth opens anything, which fds its
// caller passed, and marks every inherited fd above stdio close-on-exec.
//
// A C constructor (callerfds.c) runs before every other constructor that
// opens an fd and before the Go runtime starts: it counts the open fds
// from 3 up to the first closed one, then sets FD_CLOEXEC on all fds from
// 3 (close_range CLOSE_RANGE_CLOEXEC). So --preserve-fds and LISTEN_FDS
// can pass on only fds the caller really passed, never one of berth's own
// (CVE-2024-21626 class), and nothing berth spawns (init, hooks, helpers)
// inherits a caller's fd it was not meant to get.
package callerfds

/*
#cgo CFLAGS: -Wall
extern int berth_passed_fds;
*/
import "C"

import "fmt"

// Passed is how many fds from 3 up, without a gap, berth's caller passed
// (fds 3..3+Passed()-1); 0 when the constructor counted nothing.
func Passed() int {
	if n := int(C.berth_passed_fds); n > 0 {
		return n
	}
	return 0
}

// Missing returns the first of fds 3..3+n-1 that was not among passed
// fds from 3 up, or -1 when all were.
func Missing(n, passed int) int {
	if n <= passed {
		return -1
	}
	return 3 + passed
}

// Check refuses n fds from 3 up unless the caller passed all of them.
func Check(n int) error {
	if fd := Missing(n, Passed()); fd >= 0 {
		return fmt.Errorf("fd %d was not passed to berth", fd)
	}
	return nil
}
