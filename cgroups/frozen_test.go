package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRefuseFrozen(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name   string
		frozen bool
		err    error
		want   error
	}{
		{"thawed", false, nil, nil},
		{"frozen", true, nil, ErrFrozen},
		{"unreadable", false, boom, boom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := refuseFrozen("/cg/x", func(string) (bool, error) { return tc.frozen, tc.err })
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("refuseFrozen = %v, want %v", err, tc.want)
			}
			if err != nil && tc.want == ErrFrozen && !strings.HasPrefix(err.Error(), "cgroup /cg/x: ") {
				t.Errorf("error %q does not name the cgroup", err)
			}
		})
	}
}

func TestV2EffectivelyFrozenReadsCgroupEvents(t *testing.T) {
	for _, tc := range []struct {
		events string
		want   bool
	}{
		{"populated 0\nfrozen 1\n", true},
		{"populated 1\nfrozen 0\n", false},
		{"populated 0\n", false}, // kernels before 5.2: no freezer
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "cgroup.events"), []byte(tc.events), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := v2EffectivelyFrozen(dir)
		if err != nil || got != tc.want {
			t.Errorf("%q: got %v, %v; want %v", tc.events, got, err, tc.want)
		}
	}
}
