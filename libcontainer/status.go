package libcontainer

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/cgroups"
)

// initAlive reports whether the saved init still runs (not a zombie, not a
// reused pid).
func (c *Container) initAlive() bool {
	st, _ := c.initState()
	return st != 0
}

// initState is the saved init's /proc state letter, 0 once it is gone (a
// zombie, or its pid reused). execd is true when init's command name shows
// it has exec'd the container's process (a state from a berth that did not
// name init cannot tell).
func (c *Container) initState() (st byte, execd bool) {
	if c.state.InitPid <= 0 {
		return 0, false
	}
	st, start, named, err := procStatNamed(c.state.InitPid, c.state.InitComm)
	if err != nil || start != c.state.InitStartTime || st == 'Z' || st == 'X' {
		return 0, false
	}
	return st, c.state.InitComm != "" && !named
}

// Status derives the status from the kernel, never from a stored field.
func (c *Container) Status() string {
	initSt, execd := c.initState()
	if initSt == 0 {
		return Stopped
	}
	if c.state.InCreate {
		return Creating
	}
	// Created means init still waits on the fifo. If a start was killed
	// after releasing init, the fifo stays but init has exec'd the process.
	var fifo unix.Stat_t
	if !execd && c.stat(c.dir+"/"+fifoName, &fifo) == nil && c.initIsBerth() {
		return Created
	}
	if c.rawCgroup != nil {
		if frozen, err := cgroups.FrozenJSON(c.rawCgroup, initSt); err == nil && frozen {
			return Paused
		}
		return Running
	}
	if mgr, err := cgroups.Load(c.state.Cgroup); err == nil {
		if frozen, err := mgr.Frozen(); err == nil && frozen {
			return Paused
		}
	}
	return Running
}

// OCIState is the state as hooks receive it (the runtime spec's State).
func (c *Container) OCIState(status string) *specs.State {
	pid := c.state.InitPid
	if status == Stopped {
		pid = 0
	}
	return &specs.State{
		Version:     specs.Version,
		ID:          c.state.ID,
		Status:      specs.ContainerState(status),
		Pid:         pid,
		Bundle:      c.state.Bundle,
		Annotations: c.state.Annotations,
	}
}
