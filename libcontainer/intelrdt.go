package libcontainer

import (
	"fmt"

	"github.com/berth-runtime/berth/intelrdt"
	"github.com/berth-runtime/berth/internal/cleanup"
	"github.com/berth-runtime/berth/internal/logs"
)

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
