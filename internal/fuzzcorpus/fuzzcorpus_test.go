package fuzzcorpus

import "testing"

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"go test fuzz v1\n[]byte(\"BRTH\\x00\\x01\")\n", "BRTH\x00\x01", true},
		{"go test fuzz v1\nstring(\"start\\x00x\")\n", "start\x00x", true},
		{"go test fuzz v1\nstring(`raw`)", "raw", true},
		{"go test fuzz v1\nint(3)\n", "", false},
		{"go test fuzz v1\n[]byte(\"a\")\nstring(\"b\")\n", "", false},
		{"go test fuzz v2\n[]byte(\"a\")\n", "", false},
		{"go test fuzz v1\n[]byte(\"unterminated)\n", "", false},
	} {
		got, err := Decode([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && string(got) != tc.want) {
			t.Errorf("Decode(%q) = %q, %v; want %q (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
