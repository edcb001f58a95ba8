package cgroups

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// userHZ is the unit of cpuacct.stat: the kernel reports it in USER_HZ,
// which is 100 on every Linux architecture berth runs on.
const userHZ = 100

// statReader reads optional counters: a missing file (an absent or
// disabled feature) leaves the field 0; the first other error sticks.
type statReader struct{ err error }

func (r *statReader) keep(err error) bool {
	if err == nil {
		return true
	}
	if !isNotExist(err) && r.err == nil {
		r.err = err
	}
	return false
}

func (r *statReader) uint(dir, file string) uint64 {
	v, err := readUint(filepath.Join(dir, file))
	if !r.keep(err) {
		return 0
	}
	return v
}

func (r *statReader) kv(dir, file string) map[string]uint64 {
	m, err := readKV(filepath.Join(dir, file))
	if !r.keep(err) {
		return nil
	}
	return m
}

func (r *statReader) text(dir, file string) string {
	s, err := readFile(filepath.Join(dir, file))
	if !r.keep(err) {
		return ""
	}
	return s
}

// pidsLimit maps "max" to 0 (no limit), as runc reports it.
func pidsLimit(v uint64) uint64 {
	if v == ^uint64(0) {
		return 0
	}
	return v
}

func (m *v1Manager) Stats() (*Stats, error) {
	dir, err := m.procsDir()
	if err != nil {
		return nil, err
	}
	if !dirExists(dir) {
		return nil, fmt.Errorf("stats: cgroup %s does not exist", dir)
	}
	s := &Stats{}
	r := &statReader{}
	if d, ok := m.paths["cpuacct"]; ok {
		s.CPU.Usage.Total = r.uint(d, "cpuacct.usage")
		for f := range strings.FieldsSeq(r.text(d, "cpuacct.usage_percpu")) {
			v, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("stats: %s/cpuacct.usage_percpu: %w", d, err)
			}
			s.CPU.Usage.PerCPU = append(s.CPU.Usage.PerCPU, v)
		}
		st := r.kv(d, "cpuacct.stat")
		s.CPU.Usage.User = st["user"] * (1e9 / userHZ)
		s.CPU.Usage.Kernel = st["system"] * (1e9 / userHZ)
	}
	if d, ok := m.paths["cpu"]; ok {
		st := r.kv(d, "cpu.stat")
		s.CPU.Throttling = Throttling{Periods: st["nr_periods"], ThrottledPeriods: st["nr_throttled"], ThrottledTime: st["throttled_time"]}
	}
	if d, ok := m.paths["memory"]; ok {
		entry := func(prefix string) MemoryEntry {
			return MemoryEntry{
				Usage:   r.uint(d, prefix+".usage_in_bytes"),
				Max:     r.uint(d, prefix+".max_usage_in_bytes"),
				Failcnt: r.uint(d, prefix+".failcnt"),
				Limit:   r.uint(d, prefix+".limit_in_bytes"),
			}
		}
		s.Memory.Usage = entry("memory")
		s.Memory.Swap = entry("memory.memsw")
		s.Memory.Kernel = entry("memory.kmem")
		s.Memory.KernelTCP = entry("memory.kmem.tcp")
		s.Memory.Raw = r.kv(d, "memory.stat")
		s.Memory.Cache = s.Memory.Raw["cache"]
	}
	if d, ok := m.paths["pids"]; ok {
		s.Pids = PidsStats{Current: r.uint(d, "pids.current"), Limit: pidsLimit(r.uint(d, "pids.max"))}
	}
	if d, ok := m.paths["blkio"]; ok {
		// CFQ's files are gone since 5.0; BFQ's only count devices using
		// BFQ; the throttle layer sees every request.
		for _, prefix := range []string{"blkio.", "blkio.bfq.", "blkio.throttle."} {
			bytes := parseBlkio(r.text(d, prefix+"io_service_bytes_recursive"))
			ios := parseBlkio(r.text(d, prefix+"io_serviced_recursive"))
			if len(bytes)+len(ios) > 0 || prefix == "blkio.throttle." {
				s.Blkio = BlkioStats{IoServiceBytesRecursive: bytes, IoServicedRecursive: ios}
				break
			}
		}
	}
	if d, ok := m.paths["hugetlb"]; ok {
		for _, size := range hugePageSizes() {
			p := "hugetlb." + size
			if s.Hugetlb == nil {
				s.Hugetlb = make(map[string]HugetlbStats)
			}
			s.Hugetlb[size] = HugetlbStats{Usage: r.uint(d, p+".usage_in_bytes"), Max: r.uint(d, p+".max_usage_in_bytes"), Failcnt: r.uint(d, p+".failcnt")}
		}
	} else if d, ok := m.paths[unifiedPathKey]; ok {
		s.Hugetlb = hugetlbV2(r, d)
	}
	if r.err != nil {
		return nil, fmt.Errorf("stats: %w", r.err)
	}
	return s, nil
}

// parseBlkio parses "<major>:<minor> <Op> <value>" lines (the "Total"
// summary line has no device and is skipped).
func parseBlkio(s string) []BlkioEntry {
	var out []BlkioEntry
	for line := range strings.Lines(s) {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		maj, min, ok := strings.Cut(f[0], ":")
		if !ok {
			continue
		}
		e := BlkioEntry{Op: f[1]}
		var err1, err2, err3 error
		e.Major, err1 = strconv.ParseUint(maj, 10, 64)
		e.Minor, err2 = strconv.ParseUint(min, 10, 64)
		e.Value, err3 = strconv.ParseUint(f[2], 10, 64)
		if err1 == nil && err2 == nil && err3 == nil {
			out = append(out, e)
		}
	}
	return out
}

// hugetlbV2 reads hugetlb.<size>.current and the count of limit hits.
// Sizes whose files are absent (controller not enabled) are left out.
func hugetlbV2(r *statReader, dir string) map[string]HugetlbStats {
	var out map[string]HugetlbStats
	for _, size := range hugePageSizes() {
		p := "hugetlb." + size
		cur, err := readUint(filepath.Join(dir, p+".current"))
		if !r.keep(err) {
			continue
		}
		if out == nil {
			out = make(map[string]HugetlbStats)
		}
		out[size] = HugetlbStats{Usage: cur, Failcnt: r.kv(dir, p+".events")["max"]}
	}
	return out
}

func (m *v2Manager) Stats() (*Stats, error) {
	if !dirExists(m.dir) {
		return nil, fmt.Errorf("stats: cgroup %s does not exist", m.dir)
	}
	d := m.dir
	s := &Stats{}
	r := &statReader{}
	cpu := r.kv(d, "cpu.stat")
	s.CPU.Usage = CPUUsage{Total: cpu["usage_usec"] * 1000, User: cpu["user_usec"] * 1000, Kernel: cpu["system_usec"] * 1000}
	s.CPU.Throttling = Throttling{Periods: cpu["nr_periods"], ThrottledPeriods: cpu["nr_throttled"], ThrottledTime: cpu["throttled_usec"] * 1000}

	s.Memory.Usage = MemoryEntry{
		Usage:   r.uint(d, "memory.current"),
		Max:     r.uint(d, "memory.peak"),
		Limit:   r.uint(d, "memory.max"),
		Failcnt: r.kv(d, "memory.events")["max"],
	}
	// Swap is reported as memory+swap, the v1 meaning callers expect.
	s.Memory.Swap = MemoryEntry{
		Usage: r.uint(d, "memory.swap.current") + s.Memory.Usage.Usage,
		Limit: r.uint(d, "memory.swap.max"),
	}
	if s.Memory.Swap.Limit != ^uint64(0) {
		s.Memory.Swap.Limit += s.Memory.Usage.Limit
		if s.Memory.Swap.Limit < s.Memory.Usage.Limit { // overflow: unlimited
			s.Memory.Swap.Limit = ^uint64(0)
		}
	}
	s.Memory.Raw = r.kv(d, "memory.stat")
	s.Memory.Cache = s.Memory.Raw["file"]

	s.Pids = PidsStats{Current: r.uint(d, "pids.current"), Limit: pidsLimit(r.uint(d, "pids.max"))}

	for line := range strings.Lines(r.text(d, "io.stat")) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		maj, min, ok := strings.Cut(f[0], ":")
		if !ok {
			continue
		}
		ma, err1 := strconv.ParseUint(maj, 10, 64)
		mi, err2 := strconv.ParseUint(min, 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				continue
			}
			e := BlkioEntry{Major: ma, Minor: mi, Value: n}
			switch k {
			case "rbytes":
				e.Op = "Read"
				s.Blkio.IoServiceBytesRecursive = append(s.Blkio.IoServiceBytesRecursive, e)
			case "wbytes":
				e.Op = "Write"
				s.Blkio.IoServiceBytesRecursive = append(s.Blkio.IoServiceBytesRecursive, e)
			case "rios":
				e.Op = "Read"
				s.Blkio.IoServicedRecursive = append(s.Blkio.IoServicedRecursive, e)
			case "wios":
				e.Op = "Write"
				s.Blkio.IoServicedRecursive = append(s.Blkio.IoServicedRecursive, e)
			}
		}
	}
	s.Hugetlb = hugetlbV2(r, d)
	if r.err != nil {
		return nil, fmt.Errorf("stats: %w", r.err)
	}
	return s, nil
}
