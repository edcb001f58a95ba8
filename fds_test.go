package main

import "testing"

func TestListenCount(t *testing.T) {
	const self = 4242
	tests := []struct {
		name, fds, pid string
		want           int
	}{
		{"ours", "2", "4242", 2},
		{"no LISTEN_PID", "1", "", 0},
		{"an ancestor's LISTEN_PID", "1", "4241", 0},
		{"systemd's", "1", "1", 0},
		{"LISTEN_PID not a number", "1", "4242x", 0},
		{"no LISTEN_FDS", "", "4242", 0},
		{"zero", "0", "4242", 0},
		{"negative", "-3", "4242", 0},
		{"LISTEN_FDS not a number", "two", "4242", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := listenCount(tt.fds, tt.pid, self); got != tt.want {
				t.Errorf("listenCount(%q, %q, %d) = %d, want %d", tt.fds, tt.pid, self, got, tt.want)
			}
		})
	}
}

func TestCheckPassed(t *testing.T) {
	tests := []struct {
		name                     string
		listen, preserve, passed int
		want                     string // "" for no error
	}{
		{"nothing asked, nothing passed", 0, 0, 0, ""},
		{"nothing asked, some passed", 0, 0, 5, ""},
		{"preserve all passed", 0, 2, 2, ""},
		{"preserve fewer than passed", 0, 1, 3, ""},
		{"preserve none passed", 0, 2, 0, "--preserve-fds 2: fd 3 was not passed to berth"},
		{"preserve one short", 0, 2, 1, "--preserve-fds 2: fd 4 was not passed to berth"},
		{"negative", 0, -1, 3, "--preserve-fds: -1 is negative"},
		{"listen passed", 2, 0, 2, ""},
		{"listen not passed", 1, 0, 0, "LISTEN_FDS=1: fd 3 was not passed to berth"},
		{"listen and preserve passed", 1, 1, 2, ""},
		{"preserve after listen missing", 1, 2, 2, "--preserve-fds 2: fd 5 was not passed to berth"},
		{"listen short with preserve", 2, 1, 1, "LISTEN_FDS=2: fd 4 was not passed to berth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkPassed(tt.listen, tt.preserve, tt.passed)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("checkPassed(%d, %d, %d) = %q, want %q", tt.listen, tt.preserve, tt.passed, got, tt.want)
			}
		})
	}
}
