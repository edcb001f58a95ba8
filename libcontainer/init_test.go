package libcontainer

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/berth-runtime/berth/configs"
)

func TestWithHome(t *testing.T) {
	b, err := os.ReadFile("/etc/passwd")
	if err != nil || !strings.Contains(string(b), ":0:") {
		t.Skip("no /etc/passwd with uid 0 here")
	}
	root := ""
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Split(l, ":"); len(f) >= 6 && f[2] == "0" {
			root = f[5]
			break
		}
	}
	tests := []struct {
		name string
		uid  uint32
		env  []string
		want []string
	}{
		{"unset: from passwd", 0, []string{"A=1"}, []string{"A=1", "HOME=" + root}},
		{"empty: from passwd", 0, []string{"HOME=", "A=1"}, []string{"A=1", "HOME=" + root}},
		{"set: kept", 0, []string{"HOME=/x", "A=1"}, []string{"HOME=/x", "A=1"}},
		{"no entry: /", 4000000000, nil, []string{"HOME=/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := withHome(&configs.Process{UID: tt.uid, Env: tt.env})
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
