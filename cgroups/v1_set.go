package cgroups

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Set writes every linux.resources field v1 supports. Unset fields, and
// the zero values that mean "unset" in practice (Docker sends
// cpu.shares 0 and blockIO.weight 0), write nothing.
func (m *v1Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	for _, set := range [...]func(*specs.LinuxResources) error{
		m.setCpuset, m.setDevices, m.setMemory, m.setCPU, m.setPids,
		m.setBlkio, m.setHugetlb, m.setNetwork, m.setRdma, m.setUnified,
	} {
		if err := set(r); err != nil {
			return err
		}
	}
	return nil
}

func (m *v1Manager) setCpuset(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil || (c.Cpus == "" && c.Mems == "") {
		return nil
	}
	dir, err := m.need("cpuset", "linux.resources.cpu.cpus")
	if err != nil {
		return err
	}
	if c.Cpus != "" {
		if err := writeField("linux.resources.cpu.cpus", dir, "cpuset.cpus", c.Cpus); err != nil {
			return err
		}
	}
	if c.Mems != "" {
		if err := writeField("linux.resources.cpu.mems", dir, "cpuset.mems", c.Mems); err != nil {
			return err
		}
	}
	return nil
}

func (m *v1Manager) devicesUpdatable() {}

// setDevices gives the cgroup the rules over a deny-all base; with no
// rules (an update that does not name them) the device access is left
// alone. When the cgroup already denies by default, as a running
// container's does, only the exceptions that change are written (see
// v1DeviceDiff): no moment of wider access, none without the devices
// kept, and no "a" write, which the kernel refuses once the cgroup has
// children. Otherwise the writes start with "a" to devices.deny.
func (m *v1Manager) setDevices(r *specs.LinuxResources) error {
	if len(r.Devices) == 0 {
		return nil
	}
	writes, err := v1DeviceWrites(r.Devices)
	if err != nil {
		return err
	}
	if _, ok := m.paths["devices"]; !ok && m.cfg.Rootless {
		return nil // as runc: rootless device rules are best effort
	}
	dir, err := m.need("devices", "linux.resources.devices")
	if err != nil {
		return err
	}
	list, err := readFile(filepath.Join(dir, "devices.list"))
	if err != nil {
		return fmt.Errorf("linux.resources.devices: %w", err)
	}
	if cur, ok := parseV1DevList(list); ok {
		if diff, ok := v1DeviceDiff(cur, v1DevTarget(writes)); ok {
			writes = diff
		}
	}
	return writeDevices(dir, writes)
}

// writeDevices makes the writes in order, opening devices.allow and
// devices.deny once each: the kernel parses every write(2) as one rule.
func writeDevices(dir string, writes []devWrite) error {
	fds := map[string]int{}
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for _, w := range writes {
		field := "linux.resources.devices"
		if w.Index >= 0 {
			field = fmt.Sprintf("linux.resources.devices[%d]", w.Index)
		}
		path := filepath.Join(dir, w.File)
		fd, ok := fds[w.File]
		if !ok {
			var err error
			if fd, err = openRetry(path, unix.O_WRONLY|unix.O_CLOEXEC); err != nil {
				return fmt.Errorf("%s: open %s: %w", field, path, err)
			}
			fds[w.File] = fd
		}
		if err := writeAll(fd, w.Line); err != nil {
			return fmt.Errorf("%s: write %s to %s: %w", field, fmtValue(w.Line), path, err)
		}
	}
	return nil
}

func memoryAnySet(mem *specs.LinuxMemory) bool {
	return int64Set(mem.Limit) || int64Set(mem.Reservation) || int64Set(mem.Swap) ||
		int64Set(mem.Kernel) || int64Set(mem.KernelTCP) || mem.Swappiness != nil ||
		(mem.DisableOOMKiller != nil && *mem.DisableOOMKiller) || mem.UseHierarchy != nil
}

func (m *v1Manager) setMemory(r *specs.LinuxResources) error {
	mem := r.Memory
	if mem == nil || !memoryAnySet(mem) {
		return nil
	}
	dir, err := m.need("memory", "linux.resources.memory")
	if err != nil {
		return err
	}
	limitSet, swapSet := int64Set(mem.Limit), int64Set(mem.Swap)
	if limitSet && swapSet && *mem.Swap != -1 && (*mem.Limit == -1 || *mem.Swap < *mem.Limit) {
		return fmt.Errorf("linux.resources.memory.swap: %d is below memory.limit %d (swap is memory+swap)", *mem.Swap, *mem.Limit)
	}
	if mem.Swappiness != nil && *mem.Swappiness > 100 {
		return fmt.Errorf("linux.resources.memory.swappiness: %d is above 100", *mem.Swappiness)
	}
	if limitSet && *mem.Limit > 0 && mem.CheckBeforeUpdate != nil && *mem.CheckBeforeUpdate {
		if err := checkUsage(dir, "memory.usage_in_bytes", *mem.Limit); err != nil {
			return err
		}
	}
	writeLimit := func() error {
		return writeField("linux.resources.memory.limit", dir, "memory.limit_in_bytes", i64(*mem.Limit))
	}
	writeSwap := func() error {
		return writeField("linux.resources.memory.swap", dir, "memory.memsw.limit_in_bytes", i64(*mem.Swap))
	}
	// The kernel keeps memsw >= limit at every step (EINVAL otherwise):
	// the limit goes first, which always works on a new cgroup (memsw is
	// unlimited there); when it is refused, memsw must rise first.
	switch {
	case limitSet && swapSet:
		var swapDone bool
		if swapDone, err = writeOrdered(writeLimit, writeSwap, true); err == nil && !swapDone {
			err = writeSwap()
		}
	case limitSet:
		err = setLimitKeepSwap(dir, *mem.Limit)
	case swapSet:
		err = writeSwap()
	}
	if err != nil {
		return err
	}
	if int64Set(mem.Reservation) {
		if err := writeField("linux.resources.memory.reservation", dir, "memory.soft_limit_in_bytes", i64(*mem.Reservation)); err != nil {
			return err
		}
	}
	// Kernel memory limits are deprecated (the spec lets runtimes ignore
	// them); recent kernels drop the file or the write.
	if int64Set(mem.Kernel) {
		err := writeField("linux.resources.memory.kernel", dir, "memory.kmem.limit_in_bytes", i64(*mem.Kernel))
		if err != nil && !errors.Is(err, ErrNotSupported) && !errors.Is(err, unix.EOPNOTSUPP) {
			return err
		}
	}
	if int64Set(mem.KernelTCP) {
		if err := writeField("linux.resources.memory.kernelTCP", dir, "memory.kmem.tcp.limit_in_bytes", i64(*mem.KernelTCP)); err != nil {
			return err
		}
	}
	if mem.Swappiness != nil {
		if err := writeField("linux.resources.memory.swappiness", dir, "memory.swappiness", u64(*mem.Swappiness)); err != nil {
			return err
		}
	}
	// false is every new cgroup's default: writing it would cost a write
	// per start for nothing.
	if mem.DisableOOMKiller != nil && *mem.DisableOOMKiller {
		if err := writeField("linux.resources.memory.disableOOMKiller", dir, "memory.oom_control", "1"); err != nil {
			return err
		}
	}
	if mem.UseHierarchy != nil {
		v := "0"
		if *mem.UseHierarchy {
			v = "1"
		}
		if err := writeField("linux.resources.memory.useHierarchy", dir, "memory.use_hierarchy", v); err != nil {
			return err
		}
	}
	return nil
}

// setLimitKeepSwap changes memory.limit_in_bytes alone. The kernel keeps
// memory.memsw.limit_in_bytes (memory+swap) >= the limit, so a finite
// memsw moves with the limit, keeping the swap allowance (memsw - limit):
// raised first when the limit grows, lowered after when it shrinks. An
// unlimited limit makes memsw unlimited too. Without swap accounting (no
// memsw file) only the limit is written.
func setLimitKeepSwap(dir string, limit int64) error {
	writeLimit := func() error {
		return writeField("linux.resources.memory.limit", dir, "memory.limit_in_bytes", i64(limit))
	}
	memsw, err := readUint(filepath.Join(dir, "memory.memsw.limit_in_bytes"))
	if err != nil || memsw >= unlimitedV1 {
		return writeLimit() // no swap accounting, or memsw is no bound
	}
	cur, err := readUint(filepath.Join(dir, "memory.limit_in_bytes"))
	if err != nil {
		return fmt.Errorf("linux.resources.memory.limit: %w", err)
	}
	newSw := int64(-1)
	if limit >= 0 {
		newSw = limit + int64(memsw-min(cur, memsw))
	}
	writeSwap := func() error {
		return writeField("linux.resources.memory.limit", dir, "memory.memsw.limit_in_bytes", i64(newSw))
	}
	if limit < 0 || uint64(limit) > cur {
		return joinFirst(writeSwap, writeLimit)
	}
	return joinFirst(writeLimit, writeSwap)
}

// unlimitedV1: v1 memory files show "no limit" as a huge page-aligned
// number (PAGE_COUNTER_MAX pages); anything this large bounds nothing.
const unlimitedV1 = 1 << 62

// checkUsage refuses a limit below the current usage (checkBeforeUpdate).
func checkUsage(dir, file string, limit int64) error {
	usage, err := readUint(filepath.Join(dir, file))
	if err != nil {
		return fmt.Errorf("linux.resources.memory.checkBeforeUpdate: %w", err)
	}
	if usage > uint64(limit) {
		return fmt.Errorf("linux.resources.memory.limit: %d is below the current usage %d (%s), refused by checkBeforeUpdate",
			limit, usage, filepath.Join(dir, file))
	}
	return nil
}

// joinFirst runs the steps in order, stopping at the first error.
func joinFirst(steps ...func() error) error {
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

// writeOrdered writes a. When that fails with EINVAL (the kernel judged
// a against b's old value) and b is to be written too, it writes b, then
// a again. wroteB tells the caller whether b still needs writing.
func writeOrdered(a, b func() error, haveB bool) (wroteB bool, err error) {
	err = a()
	if err == nil || !haveB || !errors.Is(err, unix.EINVAL) {
		return false, err
	}
	return true, joinFirst(b, a)
}

func (m *v1Manager) setCPU(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	shares, quota, period := uint64Set(c.Shares), int64Set(c.Quota), uint64Set(c.Period)
	burst, rtRun, rtPer, idle := c.Burst != nil, int64Set(c.RealtimeRuntime), uint64Set(c.RealtimePeriod), c.Idle != nil
	if !shares && !quota && !period && !burst && !rtRun && !rtPer && !idle {
		return nil
	}
	dir, err := m.need("cpu", "linux.resources.cpu")
	if err != nil {
		return err
	}
	if shares {
		// The kernel silently clamps; refuse instead of running with a
		// weight nobody asked for.
		if *c.Shares < minShares || *c.Shares > maxShares {
			return fmt.Errorf("linux.resources.cpu.shares: %d is outside %d..%d", *c.Shares, minShares, maxShares)
		}
		if err := writeField("linux.resources.cpu.shares", dir, "cpu.shares", u64(*c.Shares)); err != nil {
			return err
		}
	}
	if burst && quota && *c.Quota > 0 && *c.Burst > uint64(*c.Quota) {
		return fmt.Errorf("linux.resources.cpu.burst: %d is above quota %d", *c.Burst, *c.Quota)
	}
	wPeriod := func() error {
		return writeField("linux.resources.cpu.period", dir, "cpu.cfs_period_us", u64(*c.Period))
	}
	wQuota := func() error { return writeField("linux.resources.cpu.quota", dir, "cpu.cfs_quota_us", i64(*c.Quota)) }
	wBurst := func() error { return writeField("linux.resources.cpu.burst", dir, "cpu.cfs_burst_us", u64(*c.Burst)) }
	// Each write is checked against the other values' current state, so
	// the working order depends on whether values go up or down.
	quotaDone, burstDone := false, false
	if period {
		if quotaDone, err = writeOrdered(wPeriod, wQuota, quota); err != nil {
			return err
		}
	}
	if quota && !quotaDone {
		if burstDone, err = writeOrdered(wQuota, wBurst, burst); err != nil {
			return err
		}
	}
	if burst && !burstDone {
		// Burst 0 is the default: no file (kernel < 5.14) is no problem.
		if err := wBurst(); err != nil && !(*c.Burst == 0 && errors.Is(err, ErrNotSupported)) {
			return err
		}
	}
	if rtPer {
		wPer := func() error {
			return writeField("linux.resources.cpu.realtimePeriod", dir, "cpu.rt_period_us", u64(*c.RealtimePeriod))
		}
		wRun := func() error {
			return writeField("linux.resources.cpu.realtimeRuntime", dir, "cpu.rt_runtime_us", i64(*c.RealtimeRuntime))
		}
		done, err := writeOrdered(wPer, wRun, rtRun)
		if err != nil {
			return err
		}
		rtRun = rtRun && !done
	}
	if rtRun {
		if err := writeField("linux.resources.cpu.realtimeRuntime", dir, "cpu.rt_runtime_us", i64(*c.RealtimeRuntime)); err != nil {
			return err
		}
	}
	if idle {
		err := writeField("linux.resources.cpu.idle", dir, "cpu.idle", i64(*c.Idle))
		if err != nil && !(*c.Idle == 0 && errors.Is(err, ErrNotSupported)) {
			return err
		}
	}
	return nil
}

// setPids: a limit <= 0 means no limit ("max").
func (m *v1Manager) setPids(r *specs.LinuxResources) error {
	if r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	dir, err := m.need("pids", "linux.resources.pids.limit")
	if err != nil {
		return err
	}
	return writeField("linux.resources.pids.limit", dir, "pids.max", pidsMax(*r.Pids.Limit))
}

// pidsMax: -1 (any negative) is unlimited; 0 becomes 1, as runc makes
// it (systemd has no TasksMax=0, and both managers must agree).
func pidsMax(limit int64) string {
	switch {
	case limit < 0:
		return "max"
	case limit == 0:
		return "1"
	}
	return i64(limit)
}

func blkioAnySet(b *specs.LinuxBlockIO) bool {
	return (b.Weight != nil && *b.Weight != 0) || (b.LeafWeight != nil && *b.LeafWeight != 0) ||
		len(b.WeightDevice) > 0 || len(b.ThrottleReadBpsDevice) > 0 || len(b.ThrottleWriteBpsDevice) > 0 ||
		len(b.ThrottleReadIOPSDevice) > 0 || len(b.ThrottleWriteIOPSDevice) > 0
}

func (m *v1Manager) setBlkio(r *specs.LinuxResources) error {
	b := r.BlockIO
	if b == nil || !blkioAnySet(b) {
		return nil
	}
	dir, err := m.need("blkio", "linux.resources.blockIO")
	if err != nil {
		return err
	}
	// CFQ had blkio.weight; since it was removed (5.0) only BFQ's file
	// exists, with the same range.
	weightFile := func(field string) (string, error) {
		f := probeFile("v1:blkio.weight", dir, "blkio.weight", "blkio.bfq.weight")
		if f == "" {
			return "", fmt.Errorf("%s: %s: neither blkio.weight nor blkio.bfq.weight exists: %w", field, dir, ErrNotSupported)
		}
		return f, nil
	}
	if b.Weight != nil && *b.Weight != 0 {
		f, err := weightFile("linux.resources.blockIO.weight")
		if err != nil {
			return err
		}
		if err := writeField("linux.resources.blockIO.weight", dir, f, strconv.Itoa(int(*b.Weight))); err != nil {
			return err
		}
	}
	if b.LeafWeight != nil && *b.LeafWeight != 0 {
		if err := writeField("linux.resources.blockIO.leafWeight", dir, "blkio.leaf_weight", strconv.Itoa(int(*b.LeafWeight))); err != nil {
			return err
		}
	}
	for i, d := range b.WeightDevice {
		field := fmt.Sprintf("linux.resources.blockIO.weightDevice[%d]", i)
		if d.Weight != nil {
			f, err := weightFile(field + ".weight")
			if err != nil {
				return err
			}
			if err := writeField(field+".weight", dir, f+"_device", fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *d.Weight)); err != nil {
				return err
			}
		}
		if d.LeafWeight != nil {
			if err := writeField(field+".leafWeight", dir, "blkio.leaf_weight_device", fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *d.LeafWeight)); err != nil {
				return err
			}
		}
	}
	for _, t := range [...]struct {
		name, file string
		list       []specs.LinuxThrottleDevice
	}{
		{"throttleReadBpsDevice", "blkio.throttle.read_bps_device", b.ThrottleReadBpsDevice},
		{"throttleWriteBpsDevice", "blkio.throttle.write_bps_device", b.ThrottleWriteBpsDevice},
		{"throttleReadIOPSDevice", "blkio.throttle.read_iops_device", b.ThrottleReadIOPSDevice},
		{"throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", b.ThrottleWriteIOPSDevice},
	} {
		for i, d := range t.list {
			field := fmt.Sprintf("linux.resources.blockIO.%s[%d]", t.name, i)
			if err := writeField(field, dir, t.file, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, d.Rate)); err != nil {
				return err
			}
		}
	}
	return nil
}

// setHugetlb writes the usage limit and, where the kernel has it, the
// reservation limit (the spec prefers reservations). On hybrid hosts
// where hugetlb is bound to cgroup2, the cgroup2 directory is used.
func (m *v1Manager) setHugetlb(r *specs.LinuxResources) error {
	if len(r.HugepageLimits) == 0 {
		return nil
	}
	if err := checkPageSizes(r.HugepageLimits); err != nil {
		return err
	}
	if dir, ok := m.paths["hugetlb"]; ok {
		return writeHugetlb(dir, "v1", "limit_in_bytes", r.HugepageLimits)
	}
	udir, ok := m.paths[unifiedPathKey]
	if !ok || m.unifiedMount == "" {
		return fmt.Errorf("linux.resources.hugepageLimits: no hugetlb cgroup (controller not mounted): %w", ErrNotSupported)
	}
	if err := enableControllers(m.unifiedMount, udir, []string{"hugetlb"}); err != nil {
		return fmt.Errorf("linux.resources.hugepageLimits: %w", err)
	}
	return writeHugetlb(udir, "v2", "max", r.HugepageLimits)
}

func (m *v1Manager) setNetwork(r *specs.LinuxResources) error {
	n := r.Network
	if n == nil {
		return nil
	}
	if n.ClassID != nil {
		dir, err := m.need("net_cls", "linux.resources.network.classID")
		if err != nil {
			return err
		}
		if err := writeField("linux.resources.network.classID", dir, "net_cls.classid", strconv.FormatUint(uint64(*n.ClassID), 10)); err != nil {
			return err
		}
	}
	if len(n.Priorities) > 0 {
		dir, err := m.need("net_prio", "linux.resources.network.priorities")
		if err != nil {
			return err
		}
		for i, p := range n.Priorities {
			field := fmt.Sprintf("linux.resources.network.priorities[%d]", i)
			if p.Name == "" || len(p.Name) >= unix.IFNAMSIZ || containsBlank(p.Name) {
				return fmt.Errorf("%s.name: %q is not an interface name", field, p.Name)
			}
			if err := writeField(field, dir, "net_prio.ifpriomap", fmt.Sprintf("%s %d", p.Name, p.Priority)); err != nil {
				return err
			}
		}
	}
	return nil
}

func containsBlank(s string) bool {
	for _, c := range s {
		if c == ' ' || c == '\t' || c == '\n' || c == '/' {
			return true
		}
	}
	return false
}

func (m *v1Manager) setRdma(r *specs.LinuxResources) error {
	if len(r.Rdma) == 0 {
		return nil
	}
	lines, err := rdmaLines(r.Rdma)
	if err != nil {
		return err
	}
	dir, err := m.need("rdma", "linux.resources.rdma")
	if err != nil {
		return err
	}
	for _, l := range lines {
		if err := writeField("linux.resources.rdma", dir, "rdma.max", l); err != nil {
			return err
		}
	}
	return nil
}

// setUnified: cgroup2 files exist here only on hybrid hosts, and only for
// the controllers bound to cgroup2 there; anything else cannot be honoured
// ("invalid configuration", runc's words for any unified key on v1).
func (m *v1Manager) setUnified(r *specs.LinuxResources) error {
	if len(r.Unified) == 0 {
		return nil
	}
	udir, ok := m.paths[unifiedPathKey]
	if !ok || m.unifiedMount == "" {
		return fmt.Errorf("linux.resources.unified: invalid configuration: cgroup v2 files on a cgroup v1 host: %w", ErrNotSupported)
	}
	avail, err := readControllers(m.unifiedMount)
	if err != nil {
		return fmt.Errorf("linux.resources.unified: %w", err)
	}
	var want []string
	for _, k := range slices.Sorted(maps.Keys(r.Unified)) {
		ctrl, err := unifiedKey(k)
		if err != nil {
			return err
		}
		if ctrl == "cgroup" {
			continue
		}
		if !avail[ctrl] {
			return fmt.Errorf("linux.resources.unified[%q]: invalid configuration: controller %s is a cgroup v1 controller on this hybrid host, not in %s: %w",
				k, ctrl, m.unifiedMount, ErrNotSupported)
		}
		want = append(want, ctrl)
	}
	if len(want) > 0 {
		if err := enableControllers(m.unifiedMount, udir, want); err != nil {
			return fmt.Errorf("linux.resources.unified: %w", err)
		}
	}
	return writeUnified(udir, r.Unified)
}
