package specconv

import (
	"slices"
	"testing"
)

func TestAbsPathsCleansAndDropsRepeats(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in, want []string
	}{
		{"none", nil, nil},
		{"kept in order", []string{"/b", "/a"}, []string{"/b", "/a"}},
		{"repeat dropped", []string{"/a", "/b", "/a"}, []string{"/a", "/b"}},
		{"same once cleaned", []string{"/a/", "/x/../a", "/a/."}, []string{"/a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := absPaths("linux.maskedPaths", tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("absPaths(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
