// Package intelrdt puts a container into a resctrl group (linux.intelRdt):
// its class of service (CLOS) directory, the schemata written there, and
// a monitoring group of its own.
package intelrdt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// State is what the container's state keeps so exec and delete find the
// groups again.
type State struct {
	// Clos is the CLOS directory (the resctrl root itself for closID "/").
	Clos string `json:"clos"`
	// Created: berth made Clos (closID unset) and removes it on delete.
	Created bool `json:"created,omitempty"`
	// Mon is the container's monitoring group, "" without monitoring.
	Mon string `json:"mon,omitempty"`
}

// Setup makes or checks the groups of linux.intelRdt for container id,
// under the resctrl mount root. On error nothing it made is left.
func Setup(root string, rdt *specs.LinuxIntelRdt, id string) (_ *State, err error) {
	want := lines(rdt.L3CacheSchema, rdt.MemBwSchema, rdt.Schemata)
	st := &State{}
	switch rdt.ClosID {
	case "":
		st.Clos, st.Created = filepath.Join(root, id), true
		if err := os.Mkdir(st.Clos, 0o755); err != nil {
			return nil, fmt.Errorf("create resctrl group %s: %w", st.Clos, err)
		}
	case "/":
		st.Clos = root
	default:
		st.Clos = filepath.Join(root, rdt.ClosID)
		if len(want) == 0 {
			// Without schemata the group must be one set up beforehand.
			if _, err := os.Stat(st.Clos); err != nil {
				return nil, fmt.Errorf("closID %q: no resctrl group %s to join (and no schemata to make one with): %w", rdt.ClosID, st.Clos, err)
			}
			break
		}
		switch merr := os.Mkdir(st.Clos, 0o755); {
		case merr == nil:
			// A group berth made for a closID stays on delete: others
			// may share it (the spec's rule).
			defer func() {
				if err != nil {
					removeGroup(st.Clos)
				}
			}()
		case errors.Is(merr, os.ErrExist):
			b, err := os.ReadFile(filepath.Join(st.Clos, "schemata"))
			if err != nil {
				return nil, fmt.Errorf("closID %q: %w", rdt.ClosID, err)
			}
			if l := mismatch(string(b), want); l != "" {
				return nil, fmt.Errorf("closID %q: the existing group's schemata do not hold %q", rdt.ClosID, l)
			}
			want = nil // nothing to write: it already holds them
		default:
			return nil, fmt.Errorf("closID %q: create resctrl group %s: %w", rdt.ClosID, st.Clos, merr)
		}
	}
	defer func() {
		if err != nil {
			st.Destroy()
		}
	}()
	for _, l := range want {
		// One line per write: the kernel takes one resource per line
		// and reports which one it refuses.
		if err := writeFile(filepath.Join(st.Clos, "schemata"), l+"\n"); err != nil {
			return nil, fmt.Errorf("schemata %q: %w", l, err)
		}
	}
	if rdt.EnableMonitoring {
		st.Mon = filepath.Join(st.Clos, "mon_groups", id)
		if err := os.Mkdir(st.Mon, 0o755); err != nil {
			st.Mon = ""
			return nil, fmt.Errorf("enableMonitoring: create monitoring group: %w", err)
		}
	}
	return st, nil
}

// Apply moves pid into the groups.
func (st *State) Apply(pid int) error {
	p := strconv.Itoa(pid) + "\n"
	if err := writeFile(filepath.Join(st.Clos, "tasks"), p); err != nil {
		return fmt.Errorf("resctrl group %s: %w", st.Clos, err)
	}
	if st.Mon != "" {
		if err := writeFile(filepath.Join(st.Mon, "tasks"), p); err != nil {
			return fmt.Errorf("resctrl monitoring group %s: %w", st.Mon, err)
		}
	}
	return nil
}

// Destroy removes the monitoring group and a CLOS group berth made; the
// kernel moves any task still in them to the parent group.
func (st *State) Destroy() error {
	var errs []error
	if st.Mon != "" {
		if err := removeGroup(st.Mon); err != nil {
			errs = append(errs, err)
		}
	}
	if st.Created {
		if err := removeGroup(st.Clos); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeGroup removes a group directory: one rmdir on resctrl, which takes
// the kernel's files with it; RemoveAll's walk only ever runs on a test's
// plain tree.
func removeGroup(dir string) error {
	return os.RemoveAll(dir)
}

// writeFile writes to a resctrl control file, which exists already on
// the kernel's filesystem (O_CREAT lets a test stand in a plain tree).
func writeFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(s)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
