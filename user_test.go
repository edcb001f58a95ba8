package main

import (
	"strings"
	"testing"
)

func TestParseUser(t *testing.T) {
	tests := []struct {
		in       string
		uid, gid uint32
		hasGID   bool
		err      string // part of the error; "" for success
	}{
		{in: "1", uid: 1},
		{in: "0", uid: 0},
		{in: "1000", uid: 1000},
		{in: "007", uid: 7},
		{in: "1:1", uid: 1, gid: 1, hasGID: true},
		{in: "1000:0", uid: 1000, gid: 0, hasGID: true},
		{in: "0:1000", uid: 0, gid: 1000, hasGID: true},
		{in: "4294967294", uid: 4294967294},
		// Malformed or name-like specs: refused, never uid or gid 0.
		{in: "", err: "the uid is empty"},
		{in: "1:", err: "the gid is empty"},
		{in: ":1", err: "the uid is empty"},
		{in: ":", err: "the uid is empty"},
		{in: "abc", err: `uid "abc" is not a decimal number`},
		{in: "root", err: `uid "root" is not a decimal number`},
		{in: "1:abc", err: `gid "abc" is not a decimal number`},
		{in: "abc:1", err: `uid "abc" is not a decimal number`},
		{in: "-1", err: `uid "-1" is not a decimal number`},
		{in: "+1", err: `uid "+1" is not a decimal number`},
		{in: "0x1", err: `uid "0x1" is not a decimal number`},
		{in: " 1", err: `uid " 1" is not a decimal number`},
		{in: "1 ", err: `uid "1 " is not a decimal number`},
		{in: "1\n", err: "is not a decimal number"},
		{in: "1e3", err: "is not a decimal number"},
		{in: "１", err: "is not a decimal number"}, // a fullwidth digit
		{in: "1:2:3", err: `gid "2:3" is not a decimal number`},
		{in: "1:-1", err: `gid "-1" is not a decimal number`},
		{in: "4294967295", err: "out of range"}, // (uid_t)-1: "no change"
		{in: "99999999999", err: "out of range"},
		{in: "1:99999999999999999999999", err: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			uid, gid, hasGID, err := parseUser(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parseUser(%q) = %d, %d, %v, %v; want an error containing %q", tt.in, uid, gid, hasGID, err, tt.err)
				}
				if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "--user ") {
					t.Fatalf("parseUser(%q): error %q is not one line naming --user", tt.in, err)
				}
				return
			}
			if err != nil || uid != tt.uid || gid != tt.gid || hasGID != tt.hasGID {
				t.Fatalf("parseUser(%q) = %d, %d, %v, %v; want %d, %d, %v", tt.in, uid, gid, hasGID, err, tt.uid, tt.gid, tt.hasGID)
			}
		})
	}
}
