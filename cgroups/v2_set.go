package cgroups

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/cgroups/internal/devfilter"
)

// Set converts linux.resources (v1 semantics) to cgroup2 files, then
// writes linux.resources.unified verbatim, so explicit v2 values win.
func (m *v2Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	for _, set := range [...]func(*specs.LinuxResources) error{
		m.setDevices, m.setCpuset, m.setCPU, m.setMemory, m.setPids, m.setIO,
		m.setHugetlb, m.setNetwork, m.setRdma, m.setUnified,
	} {
		if err := set(r); err != nil {
			return err
		}
	}
	return nil
}

func (m *v2Manager) devicesUpdatable() {}

// setDevices: cgroup2 has no devices.allow/deny; the rules become an
// eBPF program attached to the cgroup (cgroups/internal/devfilter),
// replacing the one berth attached before. A list that allows everything
// needs none: berth's earlier program, if any, is detached.
func (m *v2Manager) setDevices(r *specs.LinuxResources) error {
	if len(r.Devices) == 0 || m.cfg.Rootless {
		// Rootless: no eBPF without privilege; device nodes are bind
		// mounts under the user's own permissions (runc ignores the
		// rules too).
		return nil
	}
	rules, err := bpfDeviceRules(r.Devices)
	if err != nil {
		return err
	}
	insns, needed, err := devfilter.Compile(rules)
	if err != nil {
		return fmt.Errorf("linux.resources.devices: %w", err)
	}
	if !needed {
		insns = nil
	}
	if err := devfilter.Apply(m.dir, insns); err != nil {
		if errors.Is(err, devfilter.ErrUnsupported) {
			return fmt.Errorf("linux.resources.devices: cgroup v2 device filter (eBPF) %w here: %w", ErrNotSupported, err)
		}
		return fmt.Errorf("linux.resources.devices: %w", err)
	}
	return nil
}

func (m *v2Manager) setCpuset(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	if c.Cpus != "" {
		if err := writeField("linux.resources.cpu.cpus", m.dir, "cpuset.cpus", c.Cpus); err != nil {
			return err
		}
	}
	if c.Mems != "" {
		if err := writeField("linux.resources.cpu.mems", m.dir, "cpuset.mems", c.Mems); err != nil {
			return err
		}
	}
	return nil
}

func (m *v2Manager) setCPU(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	if int64Set(c.RealtimeRuntime) || uint64Set(c.RealtimePeriod) {
		return fmt.Errorf("linux.resources.cpu.realtimeRuntime: cgroup v2 has no realtime CPU limits: %w", ErrNotSupported)
	}
	if uint64Set(c.Shares) {
		if *c.Shares < minShares || *c.Shares > maxShares {
			return fmt.Errorf("linux.resources.cpu.shares: %d is outside %d..%d", *c.Shares, minShares, maxShares)
		}
		if err := writeField("linux.resources.cpu.shares", m.dir, "cpu.weight", u64(SharesToWeight(*c.Shares))); err != nil {
			return err
		}
	}
	if c.Burst != nil && int64Set(c.Quota) && *c.Quota > 0 && *c.Burst > uint64(*c.Quota) {
		return fmt.Errorf("linux.resources.cpu.burst: %d is above quota %d", *c.Burst, *c.Quota)
	}
	cur := ""
	if !int64Set(c.Quota) && uint64Set(c.Period) {
		// Only the period changes: keep the quota that is there.
		s, err := readLine(filepath.Join(m.dir, "cpu.max"))
		if err != nil {
			return fmt.Errorf("linux.resources.cpu.period: %w", err)
		}
		cur = s
	}
	cpuMax, haveMax := cpuMaxV2(c.Quota, c.Period, cur)
	wMax := func() error { return writeField("linux.resources.cpu.quota", m.dir, "cpu.max", cpuMax) }
	wBurst := func() error {
		return writeField("linux.resources.cpu.burst", m.dir, "cpu.max.burst", u64(*c.Burst))
	}
	burstDone := false
	if haveMax {
		var err error
		// A quota below the current burst is refused: then burst first.
		if burstDone, err = writeOrdered(wMax, wBurst, c.Burst != nil); err != nil {
			return err
		}
	}
	if c.Burst != nil && !burstDone {
		if err := wBurst(); err != nil {
			return err
		}
	}
	if c.Idle != nil {
		err := writeField("linux.resources.cpu.idle", m.dir, "cpu.idle", i64(*c.Idle))
		if err != nil && !(*c.Idle == 0 && errors.Is(err, ErrNotSupported)) {
			return err
		}
	}
	return nil
}

func (m *v2Manager) setMemory(r *specs.LinuxResources) error {
	mem := r.Memory
	if mem == nil {
		return nil
	}
	swap, haveSwap, err := swapV2(mem.Limit, mem.Swap)
	if err != nil {
		return err
	}
	if mem.Swappiness != nil {
		return fmt.Errorf("linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness: %w", ErrNotSupported)
	}
	if int64Set(mem.KernelTCP) && *mem.KernelTCP != -1 {
		return fmt.Errorf("linux.resources.memory.kernelTCP: cgroup v2 has no separate TCP memory limit: %w", ErrNotSupported)
	}
	if mem.UseHierarchy != nil && !*mem.UseHierarchy {
		return fmt.Errorf("linux.resources.memory.useHierarchy: cgroup v2 is always hierarchical: %w", ErrNotSupported)
	}
	// memory.kernel is deprecated and may be ignored (spec). cgroup2 has
	// no switch for disableOOMKiller: the limit is enforced by the OOM
	// killer regardless, so that field is ignored too.
	if int64Set(mem.Limit) {
		if *mem.Limit > 0 && mem.CheckBeforeUpdate != nil && *mem.CheckBeforeUpdate {
			if err := checkUsage(m.dir, "memory.current", *mem.Limit); err != nil {
				return err
			}
		}
		if err := writeField("linux.resources.memory.limit", m.dir, "memory.max", limitV2(*mem.Limit)); err != nil {
			return err
		}
	}
	if haveSwap {
		err := writeField("linux.resources.memory.swap", m.dir, "memory.swap.max", swap)
		// Without swap accounting, "no swap limit" is already the case.
		if err != nil && !(swap == "max" && errors.Is(err, ErrNotSupported)) {
			return err
		}
	}
	if int64Set(mem.Reservation) {
		if err := writeField("linux.resources.memory.reservation", m.dir, "memory.low", limitV2(*mem.Reservation)); err != nil {
			return err
		}
	}
	return nil
}

func (m *v2Manager) setPids(r *specs.LinuxResources) error {
	if r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	return writeField("linux.resources.pids.limit", m.dir, "pids.max", pidsMax(*r.Pids.Limit))
}

// setIO: BFQ's io.bfq.weight takes blkio weights unchanged (same 1..1000
// range); otherwise io.weight gets the converted value.
func (m *v2Manager) setIO(r *specs.LinuxResources) error {
	b := r.BlockIO
	if b == nil || !blkioAnySet(b) {
		return nil
	}
	if b.LeafWeight != nil && *b.LeafWeight != 0 {
		return fmt.Errorf("linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weight: %w", ErrNotSupported)
	}
	weightFile := func(field string) (string, error) {
		f := probeFile("v2:io.weight", m.dir, "io.bfq.weight", "io.weight")
		if f == "" {
			return "", fmt.Errorf("%s: %s: neither io.bfq.weight nor io.weight exists (io controller not enabled?): %w", field, m.dir, ErrNotSupported)
		}
		return f, nil
	}
	conv := func(f string, w uint16) string {
		if f == "io.bfq.weight" {
			return strconv.Itoa(int(w))
		}
		return u64(BlkioWeightToIOWeight(w))
	}
	if b.Weight != nil && *b.Weight != 0 {
		f, err := weightFile("linux.resources.blockIO.weight")
		if err != nil {
			return err
		}
		if err := writeField("linux.resources.blockIO.weight", m.dir, f, conv(f, *b.Weight)); err != nil {
			return err
		}
	}
	for i, d := range b.WeightDevice {
		field := fmt.Sprintf("linux.resources.blockIO.weightDevice[%d]", i)
		if d.LeafWeight != nil {
			return fmt.Errorf("%s.leafWeight: cgroup v2 has no leaf weight: %w", field, ErrNotSupported)
		}
		if d.Weight == nil {
			continue
		}
		f, err := weightFile(field + ".weight")
		if err != nil {
			return err
		}
		if err := writeField(field+".weight", m.dir, f, fmt.Sprintf("%d:%d %s", d.Major, d.Minor, conv(f, *d.Weight))); err != nil {
			return err
		}
	}
	for _, l := range ioMaxLines(b) {
		if err := writeField("linux.resources.blockIO.throttle", m.dir, "io.max", l); err != nil {
			return err
		}
	}
	return nil
}

func (m *v2Manager) setHugetlb(r *specs.LinuxResources) error {
	if len(r.HugepageLimits) == 0 {
		return nil
	}
	if err := checkPageSizes(r.HugepageLimits); err != nil {
		return err
	}
	return writeHugetlb(m.dir, "v2", "max", r.HugepageLimits)
}

// checkPageSizes checks every limit's page size against the host's.
func checkPageSizes(limits []specs.LinuxHugepageLimit) error {
	have := hugePageSizes()
	for i, h := range limits {
		if err := checkPageSize(fmt.Sprintf("linux.resources.hugepageLimits[%d].pageSize", i), h.Pagesize, have); err != nil {
			return err
		}
	}
	return nil
}

// writeHugetlb writes each limit to hugetlb.<size>.<limit> (v1
// limit_in_bytes, v2 max) and, where the kernel has it, to the
// reservation limit hugetlb.<size>.rsvd.<limit> too.
func writeHugetlb(dir, version, limit string, limits []specs.LinuxHugepageLimit) error {
	for i, h := range limits {
		field := fmt.Sprintf("linux.resources.hugepageLimits[%d].limit", i)
		if err := writeField(field, dir, "hugetlb."+h.Pagesize+"."+limit, u64(h.Limit)); err != nil {
			return err
		}
		rsvd := "hugetlb." + h.Pagesize + ".rsvd." + limit
		if probeFile(version+":"+rsvd, dir, rsvd) != "" {
			if err := writeField(field, dir, rsvd, u64(h.Limit)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *v2Manager) setNetwork(r *specs.LinuxResources) error {
	if n := r.Network; n != nil && (n.ClassID != nil || len(n.Priorities) > 0) {
		return fmt.Errorf("linux.resources.network: cgroup v2 has no net_cls/net_prio (use eBPF or tc): %w", ErrNotSupported)
	}
	return nil
}

func (m *v2Manager) setRdma(r *specs.LinuxResources) error {
	if len(r.Rdma) == 0 {
		return nil
	}
	lines, err := rdmaLines(r.Rdma)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if err := writeField("linux.resources.rdma", m.dir, "rdma.max", l); err != nil {
			return err
		}
	}
	return nil
}

func (m *v2Manager) setUnified(r *specs.LinuxResources) error {
	return writeUnified(m.dir, r.Unified)
}

// writeUnified writes linux.resources.unified verbatim, in key order.
// Keys are validated as plain file names; the file must already exist
// (no O_CREAT), which is how a missing controller is reported.
func writeUnified(dir string, u map[string]string) error {
	if len(u) == 0 {
		return nil
	}
	keys := slices.Sorted(maps.Keys(u))
	for _, k := range keys {
		if _, err := unifiedKey(k); err != nil {
			return err
		}
	}
	for _, k := range keys {
		if err := writeField(fmt.Sprintf("linux.resources.unified[%q]", k), dir, k, u[k]); err != nil {
			return err
		}
	}
	return nil
}
