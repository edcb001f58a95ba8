package main

import "testing"

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
