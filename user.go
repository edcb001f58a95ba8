package main

import (
	"fmt"
	"strings"
)

// parseUser parses exec's -u "uid[:gid]": decimal numbers only, each the
// exact id (names are not looked up, as in runc). Anything else, an empty
// part included, is an error: a malformed spec must never run as uid 0
// (crun's CVE-2026-30892).
func parseUser(s string) (uid, gid uint32, hasGID bool, err error) {
	u, g, hasGID := strings.Cut(s, ":")
	if uid, err = parseID("uid", u); err != nil {
		return 0, 0, false, fmt.Errorf("--user %q: %w", s, err)
	}
	if hasGID {
		if gid, err = parseID("gid", g); err != nil {
			return 0, 0, false, fmt.Errorf("--user %q: %w", s, err)
		}
	}
	return uid, gid, hasGID, nil
}

// parseID parses a decimal id up to 4294967294 ((uid_t)-1 means "no
// change" to the kernel).
func parseID(what, s string) (uint32, error) {
	var n uint64
	if s == "" {
		return 0, fmt.Errorf("the %s is empty", what)
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%s %q is not a decimal number (names are not looked up)", what, s)
		}
		n = n*10 + uint64(r-'0')
		if n > 1<<32-2 {
			return 0, fmt.Errorf("%s %q is out of range (0-4294967294)", what, s)
		}
	}
	return uint32(n), nil
}
