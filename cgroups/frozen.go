package cgroups

import (
	"fmt"
	"path/filepath"
)

// ErrFrozen: a container's cgroup (or an ancestor) is frozen before the
// container is in it. A process moved in would stop at once, and its
// runtime with it, waiting on a handshake the process never answers.
var ErrFrozen = fmt.Errorf("container's cgroup unexpectedly frozen")

// refuseFrozen is nil unless frozen says dir is frozen (or freezing).
func refuseFrozen(dir string, frozen func(string) (bool, error)) error {
	f, err := frozen(dir)
	if err != nil {
		return err
	}
	if f {
		return fmt.Errorf("cgroup %s: %w (thaw it, or choose another linux.cgroupsPath)", dir, ErrFrozen)
	}
	return nil
}

// v2EffectivelyFrozen: cgroup.events' "frozen", which counts a frozen
// ancestor too (cgroup.freeze is this cgroup's own request only).
func v2EffectivelyFrozen(dir string) (bool, error) {
	ev, err := readKV(filepath.Join(dir, "cgroup.events"))
	if err != nil {
		return false, fmt.Errorf("freezer state: %w", err)
	}
	return ev["frozen"] == 1, nil
}
