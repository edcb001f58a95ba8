package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/cgroups"
	"github.com/berth-runtime/berth/internal/logs"
)

func (c *Container) cgroupManager(op string) (cgroups.Manager, error) {
	mgr, err := cgroups.Load(c.state.Cgroup)
	if err != nil {
		return nil, fmt.Errorf("%s container %s: %w", op, c.state.ID, err)
	}
	return mgr, nil
}

// Pause freezes every process of a running container. A created
// container is refused: its frozen init could never be released by start.
func (c *Container) Pause() error {
	if st := c.Status(); st != Running {
		return fmt.Errorf("cannot pause container %s: container not running (it is %s)", c.state.ID, st)
	}
	mgr, err := c.cgroupManager("pause")
	if err != nil {
		return err
	}
	if err := mgr.Freeze(); err != nil {
		return fmt.Errorf("pause container %s: %w", c.state.ID, err)
	}
	return nil
}

// Resume thaws a paused container.
func (c *Container) Resume() error {
	if st := c.Status(); st != Paused {
		return fmt.Errorf("cannot resume container %s: container not paused (it is %s)", c.state.ID, st)
	}
	mgr, err := c.cgroupManager("resume")
	if err != nil {
		return err
	}
	if err := mgr.Thaw(); err != nil {
		return fmt.Errorf("resume container %s: %w", c.state.ID, err)
	}
	return nil
}

// Processes lists the host pids of every process in the container's
// cgroup, sorted.
func (c *Container) Processes() ([]int, error) {
	mgr, err := c.cgroupManager("list processes of")
	if err != nil {
		return nil, err
	}
	pids, err := mgr.Pids()
	if err != nil {
		return nil, fmt.Errorf("list processes of container %s: %w", c.state.ID, err)
	}
	slices.Sort(pids)
	return pids, nil
}

// Stats reads the container's cgroup counters.
func (c *Container) Stats() (*cgroups.Stats, error) {
	if c.Status() == Stopped {
		return nil, fmt.Errorf("stats of container %s: container not running", c.state.ID)
	}
	mgr, err := c.cgroupManager("stats of")
	if err != nil {
		return nil, err
	}
	s, err := mgr.Stats()
	if err != nil {
		return nil, fmt.Errorf("stats of container %s: %w", c.state.ID, err)
	}
	return s, nil
}

// Update applies the resource values r sets to the cgroup and merges them
// into the saved linux.resources, so later updates start from them. Zero
// values mean "unchanged" (Docker sends cpu.shares 0, blockIO.weight 0).
// A device rule list (deny-all, the list, the defaults: see
// specconv.DeviceRules) replaces the saved one where the manager keeps
// rules: never wider in between (v2 attaches the new filter before the
// old one goes; v1 writes only the exceptions that change, removals
// first). An update without one leaves the rules as they are.
func (c *Container) Update(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if st := c.Status(); st == Stopped {
		return fmt.Errorf("cannot update container %s: container not running (it is stopped)", c.state.ID)
	}
	if c.state.Config == nil {
		return fmt.Errorf("update container %s: saved state has no config", c.state.ID)
	}
	delta := MergeResources(nil, r)
	mgr, err := c.cgroupManager("update")
	if err != nil {
		return err
	}
	saved := c.state.Config.Cgroup.Resources
	if len(r.Devices) > 0 && cgroups.DevicesUpdatable(mgr) {
		delta.Devices = r.Devices
	}
	if err := mgr.Set(delta); err != nil {
		// Best effort: put back the saved values of what was touched.
		back := restoreResources(saved, delta)
		if delta.Devices != nil {
			if back == nil {
				back = &specs.LinuxResources{}
			}
			// No saved list (a container from before every one got a
			// list) had the inherited allow-all.
			back.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
			if saved != nil && len(saved.Devices) > 0 {
				back.Devices = saved.Devices
			}
		}
		if back != nil {
			if rerr := mgr.Set(back); rerr != nil {
				logs.Warnf("update container %s: restore previous limits: %v", c.state.ID, rerr)
			}
		}
		return fmt.Errorf("update container %s: %w", c.state.ID, err)
	}
	merged := MergeResources(saved, delta)
	if delta.Devices != nil {
		merged.Devices = delta.Devices
	}
	keepSwapAllowance(merged, saved, delta)
	c.state.Config.Cgroup.Resources = merged
	if err := c.saveConfig(); err != nil {
		return fmt.Errorf("update container %s: limits applied but not saved: %w", c.state.ID, err)
	}
	return nil
}

// keepSwapAllowance records what the cgroup managers do when an update
// changes memory.limit alone: a finite memory+swap moves with the limit
// (same swap allowance), an unlimited limit lifts it.
func keepSwapAllowance(merged, saved, delta *specs.LinuxResources) {
	if delta.Memory == nil || delta.Memory.Limit == nil || delta.Memory.Swap != nil ||
		saved == nil || saved.Memory == nil || saved.Memory.Swap == nil || saved.Memory.Limit == nil {
		return
	}
	oldLimit, oldSwap, limit := *saved.Memory.Limit, *saved.Memory.Swap, *delta.Memory.Limit
	if oldSwap <= 0 || oldLimit <= 0 {
		return
	}
	swap := int64(-1)
	if limit > 0 {
		swap = limit + max(oldSwap-oldLimit, 0)
	}
	merged.Memory.Swap = &swap
}

// MergeResources returns a copy of base with every value src sets laid
// over it (base and src are left alone). Unset means nil, and for the
// values where zero has no use, zero: memory limits, cpu shares, quota,
// periods and realtime runtime, blkio weights, pids limit, cpuset strings.
// Keyed lists (hugepage sizes, block devices, interfaces, rdma devices,
// unified keys) merge by key. Device rules are not merged.
func MergeResources(base, src *specs.LinuxResources) *specs.LinuxResources {
	out := cloneResources(base)
	if src == nil {
		return out
	}
	mergeInto(out, src, nil)
	return out
}

// restoreResources is saved restricted to the values delta sets: what a
// failed update puts back. Values saved never set are unknown, so left.
func restoreResources(saved, delta *specs.LinuxResources) *specs.LinuxResources {
	if saved == nil {
		return nil
	}
	out := &specs.LinuxResources{}
	mergeInto(out, saved, delta)
	return out
}

func cloneResources(r *specs.LinuxResources) *specs.LinuxResources {
	out := &specs.LinuxResources{}
	if r == nil {
		return out
	}
	// A JSON round trip deep-copies every pointer, slice and map.
	b, err := json.Marshal(r)
	if err == nil {
		err = json.Unmarshal(b, out)
	}
	if err != nil {
		panic("libcontainer: copy linux.resources: " + err.Error())
	}
	return out
}

// mergeInto copies into dst each value src sets, and with only != nil,
// only those values that only sets as well.
func mergeInto(dst, src, only *specs.LinuxResources) {
	if m := src.Memory; m != nil {
		var om *specs.LinuxMemory
		if only != nil {
			if om = only.Memory; om == nil {
				om = &specs.LinuxMemory{}
			}
		}
		if dst.Memory == nil {
			dst.Memory = &specs.LinuxMemory{}
		}
		d := dst.Memory
		nz := func(dp **int64, sp *int64, op func(*specs.LinuxMemory) *int64) {
			if sp != nil && *sp != 0 && (om == nil || (op(om) != nil && *op(om) != 0)) {
				*dp = new(*sp)
			}
		}
		nz(&d.Limit, m.Limit, func(x *specs.LinuxMemory) *int64 { return x.Limit })
		nz(&d.Reservation, m.Reservation, func(x *specs.LinuxMemory) *int64 { return x.Reservation })
		nz(&d.Swap, m.Swap, func(x *specs.LinuxMemory) *int64 { return x.Swap })
		nz(&d.Kernel, m.Kernel, func(x *specs.LinuxMemory) *int64 { return x.Kernel })
		nz(&d.KernelTCP, m.KernelTCP, func(x *specs.LinuxMemory) *int64 { return x.KernelTCP })
		if m.Swappiness != nil && (om == nil || om.Swappiness != nil) {
			d.Swappiness = new(*m.Swappiness)
		}
		if m.DisableOOMKiller != nil && (om == nil || om.DisableOOMKiller != nil) {
			d.DisableOOMKiller = new(*m.DisableOOMKiller)
		}
		if m.UseHierarchy != nil && (om == nil || om.UseHierarchy != nil) {
			d.UseHierarchy = new(*m.UseHierarchy)
		}
		if m.CheckBeforeUpdate != nil && (om == nil || om.CheckBeforeUpdate != nil) {
			d.CheckBeforeUpdate = new(*m.CheckBeforeUpdate)
		}
		if *d == (specs.LinuxMemory{}) {
			dst.Memory = nil
		}
	}
	if cp := src.CPU; cp != nil {
		var oc *specs.LinuxCPU
		if only != nil {
			if oc = only.CPU; oc == nil {
				oc = &specs.LinuxCPU{}
			}
		}
		if dst.CPU == nil {
			dst.CPU = &specs.LinuxCPU{}
		}
		d := dst.CPU
		if setU(cp.Shares) && (oc == nil || setU(oc.Shares)) {
			d.Shares = new(*cp.Shares)
		}
		if setI(cp.Quota) && (oc == nil || setI(oc.Quota)) {
			d.Quota = new(*cp.Quota)
		}
		if setU(cp.Period) && (oc == nil || setU(oc.Period)) {
			d.Period = new(*cp.Period)
		}
		if setI(cp.RealtimeRuntime) && (oc == nil || setI(oc.RealtimeRuntime)) {
			d.RealtimeRuntime = new(*cp.RealtimeRuntime)
		}
		if setU(cp.RealtimePeriod) && (oc == nil || setU(oc.RealtimePeriod)) {
			d.RealtimePeriod = new(*cp.RealtimePeriod)
		}
		if cp.Burst != nil && (oc == nil || oc.Burst != nil) {
			d.Burst = new(*cp.Burst)
		}
		if cp.Idle != nil && (oc == nil || oc.Idle != nil) {
			d.Idle = new(*cp.Idle)
		}
		if cp.Cpus != "" && (oc == nil || oc.Cpus != "") {
			d.Cpus = cp.Cpus
		}
		if cp.Mems != "" && (oc == nil || oc.Mems != "") {
			d.Mems = cp.Mems
		}
		if *d == (specs.LinuxCPU{}) {
			dst.CPU = nil
		}
	}
	// A pids limit of 0 is a value (written as 1, as runc does), not unset.
	if p := src.Pids; p != nil && p.Limit != nil && (only == nil || (only.Pids != nil && only.Pids.Limit != nil)) {
		dst.Pids = &specs.LinuxPids{Limit: new(*p.Limit)}
	}
	if b := src.BlockIO; b != nil {
		var ob *specs.LinuxBlockIO
		if only != nil {
			if ob = only.BlockIO; ob == nil {
				ob = &specs.LinuxBlockIO{}
			}
		}
		if dst.BlockIO == nil {
			dst.BlockIO = &specs.LinuxBlockIO{}
		}
		d := dst.BlockIO
		if setW(b.Weight) && (ob == nil || setW(ob.Weight)) {
			d.Weight = new(*b.Weight)
		}
		if setW(b.LeafWeight) && (ob == nil || setW(ob.LeafWeight)) {
			d.LeafWeight = new(*b.LeafWeight)
		}
		var oWD []specs.LinuxWeightDevice
		var oT [4][]specs.LinuxThrottleDevice
		if ob != nil {
			oWD = ob.WeightDevice
			oT = [4][]specs.LinuxThrottleDevice{ob.ThrottleReadBpsDevice, ob.ThrottleWriteBpsDevice, ob.ThrottleReadIOPSDevice, ob.ThrottleWriteIOPSDevice}
		}
		devKey := func(x specs.LinuxWeightDevice) string { return fmt.Sprint(x.Major, ":", x.Minor) }
		thrKey := func(x specs.LinuxThrottleDevice) string { return fmt.Sprint(x.Major, ":", x.Minor) }
		d.WeightDevice = mergeKeyed(d.WeightDevice, b.WeightDevice, oWD, only != nil, devKey)
		d.ThrottleReadBpsDevice = mergeKeyed(d.ThrottleReadBpsDevice, b.ThrottleReadBpsDevice, oT[0], only != nil, thrKey)
		d.ThrottleWriteBpsDevice = mergeKeyed(d.ThrottleWriteBpsDevice, b.ThrottleWriteBpsDevice, oT[1], only != nil, thrKey)
		d.ThrottleReadIOPSDevice = mergeKeyed(d.ThrottleReadIOPSDevice, b.ThrottleReadIOPSDevice, oT[2], only != nil, thrKey)
		d.ThrottleWriteIOPSDevice = mergeKeyed(d.ThrottleWriteIOPSDevice, b.ThrottleWriteIOPSDevice, oT[3], only != nil, thrKey)
		if d.Weight == nil && d.LeafWeight == nil && len(d.WeightDevice)+len(d.ThrottleReadBpsDevice)+
			len(d.ThrottleWriteBpsDevice)+len(d.ThrottleReadIOPSDevice)+len(d.ThrottleWriteIOPSDevice) == 0 {
			dst.BlockIO = nil
		}
	}
	var oHP []specs.LinuxHugepageLimit
	if only != nil {
		oHP = only.HugepageLimits
	}
	dst.HugepageLimits = mergeKeyed(dst.HugepageLimits, src.HugepageLimits, oHP, only != nil,
		func(x specs.LinuxHugepageLimit) string { return x.Pagesize })
	if n := src.Network; n != nil {
		var on *specs.LinuxNetwork
		if only != nil {
			if on = only.Network; on == nil {
				on = &specs.LinuxNetwork{}
			}
		}
		if dst.Network == nil {
			dst.Network = &specs.LinuxNetwork{}
		}
		if n.ClassID != nil && (on == nil || on.ClassID != nil) {
			dst.Network.ClassID = new(*n.ClassID)
		}
		var oPr []specs.LinuxInterfacePriority
		if on != nil {
			oPr = on.Priorities
		}
		dst.Network.Priorities = mergeKeyed(dst.Network.Priorities, n.Priorities, oPr, only != nil,
			func(x specs.LinuxInterfacePriority) string { return x.Name })
		if dst.Network.ClassID == nil && len(dst.Network.Priorities) == 0 {
			dst.Network = nil
		}
	}
	for k, v := range src.Rdma {
		if only != nil {
			if _, ok := only.Rdma[k]; !ok {
				continue
			}
		}
		if dst.Rdma == nil {
			dst.Rdma = map[string]specs.LinuxRdma{}
		}
		nv := dst.Rdma[k]
		if v.HcaHandles != nil {
			nv.HcaHandles = new(*v.HcaHandles)
		}
		if v.HcaObjects != nil {
			nv.HcaObjects = new(*v.HcaObjects)
		}
		dst.Rdma[k] = nv
	}
	for k, v := range src.Unified {
		if only != nil {
			if _, ok := only.Unified[k]; !ok {
				continue
			}
		}
		if dst.Unified == nil {
			dst.Unified = map[string]string{}
		}
		dst.Unified[k] = v
	}
}

// mergeKeyed lays src's entries over dst's by key (a new key is
// appended); with filter, only keys present in only are taken.
func mergeKeyed[T any](dst, src, only []T, filter bool, key func(T) string) []T {
	for _, s := range src {
		k := key(s)
		if filter && !slices.ContainsFunc(only, func(o T) bool { return key(o) == k }) {
			continue
		}
		if i := slices.IndexFunc(dst, func(d T) bool { return key(d) == k }); i >= 0 {
			dst[i] = s
		} else {
			dst = append(dst, s)
		}
	}
	return dst
}

func setI(p *int64) bool  { return p != nil && *p != 0 }
func setU(p *uint64) bool { return p != nil && *p != 0 }
func setW(p *uint16) bool { return p != nil && *p != 0 }

// Event is one line of `events` (runc's shape).
type Event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

// Events calls emit with a stats event every interval and an oom event
// whenever the kernel reports an OOM in the container's memory cgroup,
// until the container's init exits (or emit fails). It waits in poll(2)
// on init's pidfd and the OOM notification fd: no sleep loop.
func (c *Container) Events(interval time.Duration, emit func(*Event) error) error {
	if interval <= 0 {
		return fmt.Errorf("events: interval must be greater than 0, not %v", interval)
	}
	if c.Status() == Stopped {
		return fmt.Errorf("events of container %s: container not running", c.state.ID)
	}
	pidfd, err := unix.PidfdOpen(c.state.InitPid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return fmt.Errorf("events of container %s: pidfd_open %d: %w", c.state.ID, c.state.InitPid, err)
	}
	defer unix.Close(pidfd)
	// The pid may have been reused between Status and pidfd_open.
	if !c.initAlive() {
		return fmt.Errorf("events of container %s: container not running", c.state.ID)
	}
	oom, err := watchOOM(c.state.Cgroup)
	if err != nil {
		return fmt.Errorf("events of container %s: %w", c.state.ID, err)
	}
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	if oom != nil {
		defer oom.close()
		fds = append(fds, unix.PollFd{Fd: int32(oom.fd), Events: unix.POLLIN})
	}
	next := time.Now().Add(interval)
	for {
		wait := time.Until(next)
		ms := int((wait + time.Millisecond - 1) / time.Millisecond)
		if wait <= 0 {
			ms = 0
		}
		_, err := unix.Poll(fds, ms)
		if err != nil && err != unix.EINTR {
			return fmt.Errorf("events of container %s: poll: %w", c.state.ID, err)
		}
		// OOM first: an OOM that killed init is reported before the end.
		if oom != nil && fds[1].Revents != 0 {
			n, gone, err := oom.read()
			if err != nil {
				return fmt.Errorf("events of container %s: %w", c.state.ID, err)
			}
			for range n {
				if err := emit(&Event{Type: "oom", ID: c.state.ID}); err != nil {
					return err
				}
			}
			if gone {
				return nil
			}
		}
		if fds[0].Revents != 0 {
			return nil
		}
		if now := time.Now(); !now.Before(next) {
			next = next.Add(interval)
			if next.Before(now) {
				next = now.Add(interval)
			}
			mgr, err := cgroups.Load(c.state.Cgroup)
			var s *cgroups.Stats
			if err == nil {
				s, err = mgr.Stats()
			}
			if err != nil {
				// A stopping container loses its cgroup: the pidfd ends
				// the stream on the next round.
				logs.Warnf("events of container %s: stats: %v", c.state.ID, err)
				continue
			}
			if err := emit(&Event{Type: "stats", ID: c.state.ID, Data: s}); err != nil {
				return err
			}
		}
	}
}

// oomWatch is a readable fd that signals OOMs in one memory cgroup.
type oomWatch struct {
	fd int
	// v1: eventfd registered on memory.oom_control; ctl is that file.
	// v2: inotify watching memory.events.
	v1    bool
	ctl   int
	dir   string
	kills uint64 // v2: last oom_kill count seen
}

// watchOOM sets up OOM notification for the memory cgroup of st, or
// returns nil when there is none (no memory controller).
func watchOOM(st cgroups.State) (*oomWatch, error) {
	if dir, ok := st.Paths["memory"]; ok && st.Driver == cgroups.DriverV1 {
		return watchOOMv1(dir)
	}
	if dir, ok := st.Paths[""]; ok && st.Driver == cgroups.DriverV2 {
		if _, err := os.Stat(filepath.Join(dir, "memory.events")); err == nil {
			return watchOOMv2(dir)
		}
	}
	return nil, nil
}

// watchOOMv1 uses the v1 notification API: writing "<eventfd> <fd of
// memory.oom_control>" to cgroup.event_control makes the kernel signal
// the eventfd on every OOM in the cgroup, and once when it is removed.
func watchOOMv1(dir string) (*oomWatch, error) {
	ctlPath := filepath.Join(dir, "memory.oom_control")
	ctl, err := unix.Open(ctlPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("oom notification: open %s: %w", ctlPath, err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(ctl)
		return nil, fmt.Errorf("oom notification: eventfd: %w", err)
	}
	evPath := filepath.Join(dir, "cgroup.event_control")
	if err := os.WriteFile(evPath, []byte(fmt.Sprintf("%d %d", efd, ctl)), 0); err != nil {
		unix.Close(efd)
		unix.Close(ctl)
		return nil, fmt.Errorf("oom notification: write %s: %w", evPath, err)
	}
	return &oomWatch{fd: efd, v1: true, ctl: ctl, dir: dir}, nil
}

// watchOOMv2 watches memory.events, which the kernel marks modified when
// a counter changes; oom_kill rising is an OOM kill.
func watchOOMv2(dir string) (*oomWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("oom notification: inotify_init1: %w", err)
	}
	p := filepath.Join(dir, "memory.events")
	if _, err := unix.InotifyAddWatch(fd, p, unix.IN_MODIFY); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("oom notification: watch %s: %w", p, err)
	}
	w := &oomWatch{fd: fd, ctl: -1, dir: dir}
	w.kills, _ = oomKills(p, "oom_kill")
	return w, nil
}

// oomKills reads the counter key of a flat-keyed file.
func oomKills(path, key string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+" "); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %s line", path, key)
}

// read drains the fd and returns how many OOMs to report and whether the
// cgroup is gone.
func (w *oomWatch) read() (int, bool, error) {
	if w.v1 {
		var buf [8]byte
		_, err := unix.Read(w.fd, buf[:])
		if err == unix.EAGAIN {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, fmt.Errorf("oom notification: read eventfd: %w", err)
		}
		// The eventfd also fires when the cgroup is removed.
		if _, err := os.Stat(filepath.Join(w.dir, "memory.oom_control")); errors.Is(err, os.ErrNotExist) {
			return 0, true, nil
		}
		return 1, false, nil
	}
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(w.fd, buf)
		if n <= 0 || err != nil {
			break
		}
	}
	kills, err := oomKills(filepath.Join(w.dir, "memory.events"), "oom_kill")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, true, nil
		}
		return 0, false, fmt.Errorf("oom notification: %w", err)
	}
	n := 0
	if kills > w.kills {
		n = int(min(kills-w.kills, 1<<16))
	}
	w.kills = kills
	return n, false, nil
}

func (w *oomWatch) close() {
	unix.Close(w.fd)
	if w.ctl >= 0 {
		unix.Close(w.ctl)
	}
}
