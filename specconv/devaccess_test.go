package specconv

import (
	"reflect"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestDeviceAccess(t *testing.T) {
	rule := func(access string) specs.LinuxDeviceCgroup {
		return specs.LinuxDeviceCgroup{Type: "c", Access: access}
	}
	for _, tc := range []struct {
		in, want []string
	}{
		{[]string{"rwm", "r", ""}, []string{"rwm", "r", ""}},
		{[]string{"rwa"}, []string{"rw"}},
		{[]string{"mwr", "rrw"}, []string{"rwm", "rw"}},
		{[]string{"rwm", "a", "wx"}, []string{"rwm", "w"}},
		{[]string{"x"}, nil},
	} {
		var in []specs.LinuxDeviceCgroup
		for _, a := range tc.in {
			in = append(in, rule(a))
		}
		orig := slices.Clone(in)
		var got []string
		for _, r := range deviceAccess(in) {
			got = append(got, r.Access)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
		if !reflect.DeepEqual(in, orig) {
			t.Errorf("%q: input changed to %v", tc.in, in)
		}
	}
}
