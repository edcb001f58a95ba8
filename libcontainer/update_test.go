package libcontainer

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestKeepSwapAllowance(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	mem := func(limit, swap *int64) *specs.LinuxResources {
		return &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: limit, Swap: swap}}
	}
	tests := []struct {
		name         string
		saved, delta *specs.LinuxResources
		want         *int64 // merged swap; nil: unset
	}{
		{"grow keeps the allowance", mem(i64(32<<20), i64(64<<20)), mem(i64(128<<20), nil), i64(160 << 20)},
		{"shrink keeps the allowance", mem(i64(32<<20), i64(64<<20)), mem(i64(16<<20), nil), i64(48 << 20)},
		{"unlimited lifts swap", mem(i64(32<<20), i64(64<<20)), mem(i64(-1), nil), i64(-1)},
		{"swap given wins", mem(i64(32<<20), i64(64<<20)), mem(i64(128<<20), i64(256<<20)), i64(256 << 20)},
		{"no saved swap stays unset", mem(i64(32<<20), nil), mem(i64(128<<20), nil), nil},
		{"unlimited saved swap stays", mem(i64(32<<20), i64(-1)), mem(i64(128<<20), nil), i64(-1)},
		{"no memory in the update", mem(i64(32<<20), i64(64<<20)), &specs.LinuxResources{}, i64(64 << 20)},
	}
	for _, tt := range tests {
		merged := MergeResources(tt.saved, tt.delta)
		keepSwapAllowance(merged, tt.saved, tt.delta)
		var got *int64
		if merged.Memory != nil {
			got = merged.Memory.Swap
		}
		switch {
		case tt.want == nil && got != nil:
			t.Errorf("%s: swap = %d, want unset", tt.name, *got)
		case tt.want != nil && (got == nil || *got != *tt.want):
			t.Errorf("%s: swap = %v, want %d", tt.name, got, *tt.want)
		}
	}
}
