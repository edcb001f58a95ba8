package cgroups

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The v1 cpu.shares range, and the v2 cpu.weight range it maps onto.
const (
	minShares = 2
	maxShares = 262144
)

// SharesToWeight converts v1 cpu.shares (2..262144) to v2 cpu.weight
// (1..10000) on the quadratic curve of runc 1.3.2 and crun 1.23, which
// keeps the v1 default where the v2 one is (1024 -> 100) and the ends on
// the ends (2 -> 1, 262144 -> 10000): with l = log2(shares), weight =
// ceil(10^((l^2 + 125 l - 126) / 612)). 0 (unset) stays 0; out-of-range
// shares are clamped first.
func SharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	shares = min(max(shares, minShares), maxShares)
	l := math.Log2(float64(shares))
	// 126/612 is 7/34 written over the same denominator, so powers of two
	// give whole exponents exactly (1024: 1224/612 = 2).
	w := uint64(math.Ceil(math.Pow(10, (l*l+125*l-126)/612)))
	return min(max(w, 1), 10000)
}

// BlkioWeightToIOWeight converts a v1 blkio weight (10..1000) to a v2
// io.weight (1..10000); 0 (unset) stays 0.
func BlkioWeightToIOWeight(w uint16) uint64 {
	if w == 0 {
		return 0
	}
	w = min(max(w, 10), 1000)
	return 1 + (uint64(w)-10)*9999/990
}

// swapV2 converts linux.resources.memory.swap (memory+swap, v1 meaning)
// to memory.swap.max (swap alone). ok is false when nothing is written.
func swapV2(limit, swap *int64) (value string, ok bool, err error) {
	if swap == nil || *swap == 0 {
		return "", false, nil
	}
	s := *swap
	if s == -1 {
		return "max", true, nil
	}
	if s < 0 {
		return "", false, fmt.Errorf("linux.resources.memory.swap: %d is neither -1 nor positive", s)
	}
	if limit == nil || *limit == 0 {
		return "", false, fmt.Errorf("linux.resources.memory.swap: %d needs memory.limit to be set (swap is memory+swap)", s)
	}
	if *limit == -1 {
		return "", false, fmt.Errorf("linux.resources.memory.swap: %d is below memory.limit (unlimited)", s)
	}
	if s < *limit {
		return "", false, fmt.Errorf("linux.resources.memory.swap: %d is below memory.limit %d (swap is memory+swap)", s, *limit)
	}
	return strconv.FormatInt(s-*limit, 10), true, nil
}

// limitV2 formats a v1-style limit (-1 unlimited) for a v2 file.
func limitV2(v int64) string {
	if v < 0 {
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

// cpuMaxV2 builds the cpu.max value "<quota|max> <period>". When only the
// period is given, the current quota (from cur, the file's content) is
// kept; when only the quota is given the kernel keeps the period.
func cpuMaxV2(quota *int64, period *uint64, cur string) (string, bool) {
	q := quota != nil && *quota != 0
	p := period != nil && *period != 0
	if !q && !p {
		return "", false
	}
	qs := ""
	if q {
		qs = limitV2(*quota)
	} else {
		qs, _, _ = strings.Cut(strings.TrimSpace(cur), " ")
		if qs == "" {
			qs = "max"
		}
	}
	if p {
		return qs + " " + strconv.FormatUint(*period, 10), true
	}
	return qs, true
}

// ioMaxLines merges the four throttle lists into one io.max line per
// device (the kernel keeps unspecified keys). Rate 0 means "no limit",
// as it does in v1.
func ioMaxLines(b *specs.LinuxBlockIO) []string {
	type dev struct{ major, minor int64 }
	keys := map[dev][]string{}
	var order []dev
	add := func(list []specs.LinuxThrottleDevice, key string) {
		for _, t := range list {
			d := dev{t.Major, t.Minor}
			if _, ok := keys[d]; !ok {
				order = append(order, d)
			}
			v := "max"
			if t.Rate != 0 {
				v = strconv.FormatUint(t.Rate, 10)
			}
			keys[d] = append(keys[d], key+"="+v)
		}
	}
	add(b.ThrottleReadBpsDevice, "rbps")
	add(b.ThrottleWriteBpsDevice, "wbps")
	add(b.ThrottleReadIOPSDevice, "riops")
	add(b.ThrottleWriteIOPSDevice, "wiops")
	lines := make([]string, 0, len(order))
	for _, d := range order {
		lines = append(lines, fmt.Sprintf("%d:%d %s", d.major, d.minor, strings.Join(keys[d], " ")))
	}
	return lines
}

// rdmaLines formats rdma.max writes, one per device, sorted by name.
func rdmaLines(r map[string]specs.LinuxRdma) ([]string, error) {
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n)
	}
	slices.Sort(names)
	lines := make([]string, 0, len(names))
	for _, n := range names {
		l := r[n]
		if n == "" || strings.ContainsAny(n, " \t\n") {
			return nil, fmt.Errorf("linux.resources.rdma[%q]: not a device name", n)
		}
		if l.HcaHandles == nil && l.HcaObjects == nil {
			return nil, fmt.Errorf("linux.resources.rdma[%q]: neither hcaHandles nor hcaObjects is set", n)
		}
		line := n
		if l.HcaHandles != nil {
			line += " hca_handle=" + strconv.FormatUint(uint64(*l.HcaHandles), 10)
		}
		if l.HcaObjects != nil {
			line += " hca_object=" + strconv.FormatUint(uint64(*l.HcaObjects), 10)
		}
		lines = append(lines, line)
	}
	return lines, nil
}

// unifiedKey validates a linux.resources.unified key: it names a file in
// the container's cgroup, so it must be a plain "<controller>.<name>".
// It returns the controller prefix.
func unifiedKey(k string) (string, error) {
	ctrl, rest, ok := strings.Cut(k, ".")
	if !ok || ctrl == "" || rest == "" || strings.ContainsAny(k, "/\x00") || strings.Contains(k, "..") {
		return "", fmt.Errorf("linux.resources.unified[%q]: not a cgroup file name (<controller>.<file>)", k)
	}
	return ctrl, nil
}

// int64Set reports a pointer field that is present and not 0 (the
// "unset" value Docker and others send).
func int64Set(p *int64) bool { return p != nil && *p != 0 }

func uint64Set(p *uint64) bool { return p != nil && *p != 0 }

func i64(v int64) string  { return strconv.FormatInt(v, 10) }
func u64(v uint64) string { return strconv.FormatUint(v, 10) }
