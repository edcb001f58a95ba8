package main

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in   string
		want unix.Signal
		err  bool
	}{
		{"KILL", unix.SIGKILL, false},
		{"SIGKILL", unix.SIGKILL, false},
		{"sigterm", unix.SIGTERM, false},
		{"term", unix.SIGTERM, false},
		{"9", unix.SIGKILL, false},
		{"15", unix.SIGTERM, false},
		{"RTMIN+3", unix.Signal(37), false},
		{"SIGRTMAX-1", unix.Signal(63), false},
		{"0", 0, false},
		{"65", 0, true},
		{"-1", 0, true},
		{"FOO", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSignal(tt.in)
		if tt.err {
			if err == nil {
				t.Errorf("parseSignal(%q) = %v, want error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseSignal(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseSignal(f *testing.F) {
	for _, s := range []string{"KILL", "9", "RTMIN+3", "SIGRTMAX-30", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := parseSignal(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if sig < 0 || sig > 64 {
			t.Fatalf("parseSignal(%q) = %d, outside 0-64", s, sig)
		}
	})
}

func TestParseCgroupManager(t *testing.T) {
	for _, tc := range []struct {
		v                 string
		systemdFlag       bool
		systemd, disabled bool
		wantErr           bool
	}{
		{"", false, false, false, false},
		{"", true, true, false, false},
		{"cgroupfs", false, false, false, false},
		{"systemd", false, true, false, false},
		{"systemd", true, true, false, false},
		{"disabled", false, false, true, false},
		{"disabled", true, false, false, true},
		{"cgroupfs", true, false, false, true},
		{"none", false, false, false, true},
	} {
		systemd, disabled, err := parseCgroupManager(tc.v, tc.systemdFlag)
		if (err != nil) != tc.wantErr || systemd != tc.systemd || disabled != tc.disabled {
			t.Errorf("parseCgroupManager(%q, %v) = %v, %v, %v; want %v, %v, error %v",
				tc.v, tc.systemdFlag, systemd, disabled, err, tc.systemd, tc.disabled, tc.wantErr)
		}
	}
}

func TestMayDetach(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"berth", "run", "id"}, false},
		{[]string{"berth", "run", "-d", "id"}, true},
		{[]string{"berth", "run", "--detach", "id"}, true},
		{[]string{"berth", "run", "-detach", "id"}, true},
		{[]string{"berth", "run", "--detach=true", "id"}, true},
		{[]string{"berth", "run", "--detach=false", "id"}, true}, // conservative
		{[]string{"berth", "--debug", "run", "id"}, false},
		{[]string{"berth", "exec", "id", "ls", "-d", "/"}, true}, // conservative
		{[]string{"berth", "run", "--pid-file", "d", "id"}, false},
		{[]string{"berth", "run", "--", "d"}, false},
		{[]string{"d"}, false},
	} {
		if got := mayDetach(tc.args); got != tc.want {
			t.Errorf("mayDetach(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}
