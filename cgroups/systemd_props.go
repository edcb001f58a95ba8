package cgroups

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// unitProp is one systemd unit property (name, D-Bus value). Kept apart
// from the D-Bus types so the conversion is testable on its own.
type unitProp struct {
	Name  string
	Value any
}

// infinity is systemd's "no limit" for the uint64 properties.
const infinity = uint64(math.MaxUint64)

// cpuMax is a cpu.max pair; quota -1 is "max". ok is false when unknown.
type cpuMax struct {
	quota  int64
	period uint64
	ok     bool
}

func parseCPUMax(s string) cpuMax {
	q, p, found := strings.Cut(strings.TrimSpace(s), " ")
	if !found {
		return cpuMax{}
	}
	period, err := strconv.ParseUint(p, 10, 64)
	if err != nil || period == 0 {
		return cpuMax{}
	}
	if q == "max" {
		return cpuMax{quota: -1, period: period, ok: true}
	}
	quota, err := strconv.ParseInt(q, 10, 64)
	if err != nil || quota <= 0 {
		return cpuMax{}
	}
	return cpuMax{quota: quota, period: period, ok: true}
}

// defaultCFSPeriod is the kernel's cfs period (100ms), used when neither
// the resources nor the cgroup give one.
const defaultCFSPeriod = 100000

// resourceProps converts the linux.resources fields systemd has unit
// properties for (cur: the cgroup's cpu.max, for a lone quota or period).
// needCpuset says whether AllowedCPUs/AllowedMemoryNodes are among them.
// Fields left out are still written by the cgroupfs manager.
func resourceProps(r *specs.LinuxResources, cur cpuMax) (props []unitProp, needCpuset bool, err error) {
	if mem := r.Memory; mem != nil {
		if int64Set(mem.Limit) {
			props = append(props, unitProp{"MemoryMax", limitProp(*mem.Limit)})
		}
		if int64Set(mem.Reservation) {
			props = append(props, unitProp{"MemoryLow", limitProp(*mem.Reservation)})
		}
		if swap, ok, err := swapV2(mem.Limit, mem.Swap); err != nil {
			return nil, false, err
		} else if ok {
			v := infinity
			if swap != "max" {
				v, _ = strconv.ParseUint(swap, 10, 64)
			}
			props = append(props, unitProp{"MemorySwapMax", v})
		}
	}
	if r.Pids != nil && r.Pids.Limit != nil {
		v := infinity
		if *r.Pids.Limit >= 0 {
			v = max(uint64(*r.Pids.Limit), 1) // see pidsMax
		}
		props = append(props, unitProp{"TasksMax", v})
	}
	if c := r.CPU; c != nil {
		if uint64Set(c.Shares) {
			if *c.Shares < minShares || *c.Shares > maxShares {
				return nil, false, fmt.Errorf("linux.resources.cpu.shares: %d is outside %d..%d", *c.Shares, minShares, maxShares)
			}
			props = append(props, unitProp{"CPUWeight", SharesToWeight(*c.Shares)})
		}
		if int64Set(c.Quota) || uint64Set(c.Period) {
			props = append(props, quotaProps(c.Quota, c.Period, cur)...)
		}
		if c.Cpus != "" {
			mask, err := cpuListMask(c.Cpus)
			if err != nil {
				return nil, false, fmt.Errorf("linux.resources.cpu.cpus: %w", err)
			}
			props, needCpuset = append(props, unitProp{"AllowedCPUs", mask}), true
		}
		if c.Mems != "" {
			mask, err := cpuListMask(c.Mems)
			if err != nil {
				return nil, false, fmt.Errorf("linux.resources.cpu.mems: %w", err)
			}
			props, needCpuset = append(props, unitProp{"AllowedMemoryNodes", mask}), true
		}
	}
	if b := r.BlockIO; b != nil && b.Weight != nil && *b.Weight != 0 {
		props = append(props, unitProp{"IOWeight", BlkioWeightToIOWeight(*b.Weight)})
	}
	return props, needCpuset, nil
}

// limitProp: -1 (and any negative) is unlimited.
func limitProp(v int64) uint64 {
	if v < 0 {
		return infinity
	}
	return uint64(v)
}

// quotaProps expresses quota/period as systemd's CPU time per second plus
// the period, so systemd writes the same cpu.max. A missing half comes
// from cur, as the cgroupfs manager keeps it.
func quotaProps(quota *int64, period *uint64, cur cpuMax) []unitProp {
	q, p := int64(-1), uint64(defaultCFSPeriod)
	if cur.ok {
		q, p = cur.quota, cur.period
	}
	if int64Set(quota) {
		q = *quota
	}
	if uint64Set(period) {
		p = *period
	}
	perSec := infinity
	if q > 0 {
		// Rounded up: systemd turns it back into perSec*p/1e6, rounding down.
		perSec = (uint64(q)*1000000 + p - 1) / p
	}
	return []unitProp{{"CPUQuotaPerSecUSec", perSec}, {"CPUQuotaPeriodUSec", p}}
}

// cpuListMask turns a cpuset list ("0-3,8") into systemd's bitmask bytes
// (bit i%8 of byte i/8 for cpu i).
func cpuListMask(list string) ([]byte, error) {
	var mask []byte
	for part := range strings.SplitSeq(strings.TrimSpace(list), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("%q: %q is not a number or range", list, part)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 16); err != nil || b < a {
				return nil, fmt.Errorf("%q: %q is not a number or range", list, part)
			}
		}
		for i := a; i <= b; i++ {
			for uint64(len(mask)) <= i/8 {
				mask = append(mask, 0)
			}
			mask[i/8] |= 1 << (i % 8)
		}
	}
	return mask, nil
}

func dropProps(props []unitProp, names ...string) []unitProp {
	return slices.DeleteFunc(props, func(p unitProp) bool { return slices.Contains(names, p.Name) })
}
