package specconv

import (
	"encoding/json"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestKeepEmptySeccompFlagsSurvivesJSON(t *testing.T) {
	tsync := []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_TSYNC"}
	log := []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog}
	for _, tc := range []struct {
		name string
		in   []specs.LinuxSeccompFlag
		want []specs.LinuxSeccompFlag // after a JSON round trip
	}{
		{"absent stays absent", nil, nil},
		{"empty becomes TSYNC alone", []specs.LinuxSeccompFlag{}, tsync},
		{"given flags stay", log, log},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: tc.in}
			b, err := json.Marshal(keepEmptySeccompFlags(in))
			if err != nil {
				t.Fatal(err)
			}
			var out specs.LinuxSeccomp
			if err := json.Unmarshal(b, &out); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(out.Flags, tc.want) || (out.Flags == nil) != (tc.want == nil) {
				t.Errorf("flags after the round trip = %q, want %q", out.Flags, tc.want)
			}
			if tc.in != nil && len(tc.in) == 0 && in.Flags == nil {
				t.Error("the caller's profile was changed")
			}
		})
	}
	if keepEmptySeccompFlags(nil) != nil {
		t.Error("nil profile")
	}
}
