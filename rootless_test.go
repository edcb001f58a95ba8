package main

import (
	"os"
	"strings"
	"testing"
)

func TestDefaultRoot(t *testing.T) {
	writable := t.TempDir()
	tests := []struct {
		name    string
		euid    int
		xdg     string
		want    string
		wantErr string
	}{
		{"root uses /run/berth", 0, writable, "/run/berth", ""},
		{"user uses XDG_RUNTIME_DIR/berth", 1000, writable, writable + "/berth", ""},
		{"user without XDG_RUNTIME_DIR", 1000, "", "", "XDG_RUNTIME_DIR is not set"},
		{"user with a missing XDG_RUNTIME_DIR", 1000, writable + "/missing", "", "is not a directory uid 1000 can write"},
	}
	for _, tc := range tests {
		got, err := defaultRoot(tc.euid, tc.xdg)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err = %v, want %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

func TestParseRootless(t *testing.T) {
	auto := os.Geteuid() != 0 || inUserNS()
	tests := []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{"true", true, false},
		{"false", false, false},
		{"auto", auto, false},
		{"", auto, false},
		{"yes", false, true},
		{"TRUE", false, true},
	}
	for _, tc := range tests {
		got, err := parseRootless(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseRootless(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestIsIdentityMap(t *testing.T) {
	tests := []struct {
		m    string
		want bool
	}{
		{"         0          0 4294967295\n", true},
		{"0 0 4294967295", true},
		{"         0       1000          1\n", false},
		{"0 0 65536\n", false},
		{"0 0 4294967295\n1 1 1\n", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := isIdentityMap(tc.m); got != tc.want {
			t.Errorf("isIdentityMap(%q) = %v, want %v", tc.m, got, tc.want)
		}
	}
}
