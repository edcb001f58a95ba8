package specconv

import (
	"encoding/binary"
	"errors"
	"maps"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/configs"
)

// maxNode is the highest NUMA node number: the kernel's MAX_NUMNODES is
// at most 1024 (CONFIG_NODES_SHIFT 10).
const maxNode = 1023

// mpolModes are set_mempolicy(2)'s modes, with how many nodes each takes.
var mpolModes = map[specs.MemoryPolicyModeType]struct {
	mode  uint32
	nodes nodeRule
}{
	specs.MpolDefault:            {0, noNodes},
	specs.MpolPreferred:          {1, anyNodes},
	specs.MpolBind:               {2, someNodes},
	specs.MpolInterleave:         {3, someNodes},
	specs.MpolLocal:              {4, noNodes},
	specs.MpolPreferredMany:      {5, someNodes},
	specs.MpolWeightedInterleave: {6, someNodes},
}

type nodeRule int

const (
	noNodes nodeRule = iota
	anyNodes
	someNodes
)

var mpolFlags = map[specs.MemoryPolicyFlagType]uint32{
	specs.MpolFNumaBalancing: 1 << 13,
	specs.MpolFRelativeNodes: 1 << 14,
	specs.MpolFStaticNodes:   1 << 15,
}

// convertMemoryPolicy checks linux.memoryPolicy and turns it into the
// set_mempolicy arguments init passes (mode|flags, node mask).
func convertMemoryPolicy(mp *specs.LinuxMemoryPolicy) (*configs.MemoryPolicy, error) {
	m, ok := mpolModes[mp.Mode]
	if !ok {
		if mp.Mode == "" {
			return nil, fieldErr("linux.memoryPolicy.mode", "invalid memory policy mode: missing (want one of %s)", strings.Join(MemoryPolicyModes(), ", "))
		}
		return nil, fieldErr("linux.memoryPolicy.mode", "invalid memory policy mode %q (want one of %s)", mp.Mode, strings.Join(MemoryPolicyModes(), ", "))
	}
	out := &configs.MemoryPolicy{Mode: m.mode}
	for i, f := range mp.Flags {
		v, ok := mpolFlags[f]
		if !ok {
			return nil, fieldErr(elem{"linux.memoryPolicy.flags", i}.String(), "invalid memory policy flag %q (want one of %s)", f, strings.Join(MemoryPolicyFlags(), ", "))
		}
		out.Mode |= v
	}
	mask, n, err := parseNodeList(mp.Nodes)
	if err != nil {
		return nil, err
	}
	switch {
	case m.nodes == noNodes && n > 0:
		return nil, fieldErr("linux.memoryPolicy.nodes", "%s mode requires 0 nodes but got %d", mp.Mode, n)
	case m.nodes == someNodes && n == 0:
		return nil, fieldErr("linux.memoryPolicy.nodes", "%s mode requires at least one node but got 0", mp.Mode)
	}
	out.Nodes = mask
	return out, nil
}

// parseNodeList parses "0-3,7" into a node mask of whole 64-bit words
// (host order, as the kernel reads an unsigned long array), and counts
// the nodes. An empty list is no mask.
func parseNodeList(s string) ([]byte, int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, 0, nil
	}
	var words [maxNode/64 + 1]uint64
	top := -1
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := parseNode(s, lo)
		if err != nil {
			return nil, 0, err
		}
		b := a
		if isRange {
			if b, err = parseNode(s, hi); err != nil {
				return nil, 0, err
			}
			if b < a {
				return nil, 0, fieldErr("linux.memoryPolicy.nodes", "invalid memory policy nodes %q: range %d-%d ends before it starts", s, a, b)
			}
		}
		for n := a; n <= b; n++ {
			words[n/64] |= 1 << (n % 64)
		}
		top = max(top, b)
	}
	count := 0
	for _, w := range words {
		count += bits.OnesCount64(w)
	}
	mask := make([]byte, 0, 8*(top/64+1))
	for _, w := range words[:top/64+1] {
		mask = binary.NativeEndian.AppendUint64(mask, w)
	}
	return mask, count, nil
}

func parseNode(list, s string) (int, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.ParseUint(s, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, fieldErr("linux.memoryPolicy.nodes", "invalid memory policy node %s in %q: above the highest node number %d", s, list, maxNode)
	case err != nil:
		return 0, fieldErr("linux.memoryPolicy.nodes", "invalid memory policy nodes %q: %q is not a node number", list, s)
	case n > maxNode:
		return 0, fieldErr("linux.memoryPolicy.nodes", "invalid memory policy node %d in %q: above the highest node number %d", n, list, maxNode)
	}
	return int(n), nil
}

// MemoryPolicyModes lists the modes berth applies (features).
func MemoryPolicyModes() []string { return names(mpolModes) }

// MemoryPolicyFlags lists the mode flags berth applies (features).
func MemoryPolicyFlags() []string { return names(mpolFlags) }

// names lists a table's spec names, sorted.
func names[K ~string, V any](m map[K]V) []string {
	out := make([]string, 0, len(m))
	for k := range maps.Keys(m) {
		out = append(out, string(k))
	}
	slices.Sort(out)
	return out
}
