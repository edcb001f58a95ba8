package libcontainer

import (
	"encoding/json"
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/cgroups"
	"github.com/berth-runtime/berth/internal/logs"
)

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

func setI(p *int64) bool { return p != nil && *p != 0 }

func setU(p *uint64) bool { return p != nil && *p != 0 }

func setW(p *uint16) bool { return p != nil && *p != 0 }
