package cgroups

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// ErrNotEmpty: a new container's cgroup already holds processes. It is
// another container's (or process's): moving init in would mix them, and
// undoing the create would destroy it, killing them.
var ErrNotEmpty = errors.New("container's cgroup is not empty")

// checkUnused refuses a cgroup that already exists with processes in
// procsDir (and below), or frozen by its freezerDir. Either may be ""
// (the controller is absent); a directory that does not exist yet is
// unused. It reads at most two files, before anything is made, so the
// cgroup of a refused container is left exactly as it was.
func checkUnused(procsDir, freezerDir string, frozen func(string) (bool, error)) error {
	if procsDir != "" {
		pids, err := readProcsRecursive(procsDir)
		if err != nil && !isNotExist(err) && !errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("cgroup %s: list processes: %w", procsDir, err)
		}
		if len(pids) > 0 {
			return fmt.Errorf("cgroup %s: %w: %d process(es) found (choose another linux.cgroupsPath)", procsDir, ErrNotEmpty, len(pids))
		}
	}
	if freezerDir == "" {
		return nil
	}
	err := refuseFrozen(freezerDir, frozen)
	if isNotExist(err) {
		return nil
	}
	return err
}
