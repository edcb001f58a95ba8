package libcontainer

import (
	"fmt"

	"github.com/berth-runtime/berth/cgroups"
	"github.com/berth-runtime/berth/intelrdt"
	"github.com/berth-runtime/berth/internal/cleanup"
	"github.com/berth-runtime/berth/internal/logs"
)

// joinGroups moves pid (init, or exec's process) into the container's
// cgroup and, with linux.intelRdt, its resctrl groups.
func (c *Container) joinGroups(mgr cgroups.Manager, pid int) error {
	if err := mgr.Apply(pid); err != nil {
		return err
	}
	if rdt := c.state.IntelRdt; rdt != nil {
		if err := rdt.Apply(pid); err != nil {
			return fmt.Errorf("linux.intelRdt: %w", err)
		}
	}
	return nil
}

// setupIntelRdt makes or checks the container's resctrl groups before
// init starts; onReady moves init in, as it does for the cgroup.
func (c *Container) setupIntelRdt(undo *cleanup.Stack) error {
	root, err := intelrdt.Root()
	if err != nil {
		return fmt.Errorf("linux.intelRdt: %w", err)
	}
	st, err := intelrdt.Setup(root, c.state.Config.IntelRdt, c.state.ID)
	if err != nil {
		return fmt.Errorf("linux.intelRdt: %w", err)
	}
	c.state.IntelRdt = st
	undo.Push(func() {
		if err := st.Destroy(); err != nil {
			logs.Warnf("rollback: linux.intelRdt: %v", err)
		}
	})
	return nil
}
