package specconv

import (
	"slices"
	"strings"
	"testing"
)

func TestDedupEnv(t *testing.T) {
	tests := []struct {
		name    string
		in, out []string
	}{
		{"none", nil, nil},
		{"no duplicates", []string{"A=1", "B=2"}, []string{"A=1", "B=2"}},
		{"last value wins", []string{"ONE=two", "ONE=three"}, []string{"ONE=three"}},
		{"empty last value wins", []string{"ONE=two", "ONE=", "PATH=/bin"}, []string{"ONE=", "PATH=/bin"}},
		{"first place kept", []string{"A=1", "B=2", "A=3", "C=4"}, []string{"A=3", "B=2", "C=4"}},
		{"prefix is another name", []string{"A=1", "AB=2"}, []string{"A=1", "AB=2"}},
		{"value with =", []string{"A=x=y", "A=z"}, []string{"A=z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DedupEnv(tt.in); !slices.Equal(got, tt.out) {
				t.Errorf("DedupEnv(%q) = %q, want %q", tt.in, got, tt.out)
			}
		})
	}
}

func FuzzDedupEnv(f *testing.F) {
	f.Add("A=1\nB=2\nA=3")
	f.Add("HOME=\nHOME=/x")
	f.Fuzz(func(t *testing.T, s string) {
		var env []string
		for _, e := range strings.Split(s, "\n") {
			if strings.IndexByte(e, '=') > 0 {
				env = append(env, e)
			}
		}
		out := DedupEnv(env)
		seen := map[string]bool{}
		for _, e := range out {
			if seen[envName(e)] {
				t.Fatalf("DedupEnv(%q) = %q: %s twice", env, out, envName(e))
			}
			seen[envName(e)] = true
		}
		// Every name's value is its last one in env.
		for _, e := range env {
			seen[envName(e)] = false
		}
		for i := len(env) - 1; i >= 0; i-- {
			n := envName(env[i])
			if !seen[n] {
				seen[n] = true
				if !slices.Contains(out, env[i]) {
					t.Fatalf("DedupEnv(%q) = %q: lost %q", env, out, env[i])
				}
			}
		}
	})
}
