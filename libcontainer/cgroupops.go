package libcontainer

import (
	"fmt"
	"slices"

	"github.com/berth-runtime/berth/cgroups"
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
