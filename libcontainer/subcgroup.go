package libcontainer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-runtime/berth/cgroups"
)

// subCgroupDirs resolves exec --cgroup values against the container's
// cgroup directories, as runc documents them: "path" (every hierarchy) or,
// on v1 only, "controller[,controller...]:path" (may repeat). A path is
// relative to the container's cgroup, must stay inside it and must exist
// already. It returns the directories to move the process into after it
// joined the container's cgroup (comounted controllers share one).
func subCgroupDirs(st cgroups.State, args []string) ([]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	if st.Driver != cgroups.DriverV1 && st.Driver != cgroups.DriverV2 {
		return nil, fmt.Errorf("--cgroup: not supported with the %s cgroup driver yet", st.Driver)
	}
	// controller -> sub path; "" is every hierarchy.
	subs := make(map[string]string)
	for _, a := range args {
		ctrls, sub, hasPrefix := strings.Cut(a, ":")
		if !hasPrefix {
			if len(args) != 1 {
				return nil, fmt.Errorf("--cgroup %q: a path without a controller prefix must be the only --cgroup", a)
			}
			sub = a
			ctrls = ""
		} else if strings.Contains(sub, ":") {
			return nil, fmt.Errorf("--cgroup %q: expected [controller[,controller...]:]path", a)
		} else if st.Driver == cgroups.DriverV2 {
			return nil, fmt.Errorf("--cgroup %q: a controller prefix is for cgroup v1 only (this container uses cgroup v2)", a)
		}
		if err := checkSubPath(sub); err != nil {
			return nil, fmt.Errorf("--cgroup %q: %w", a, err)
		}
		if !hasPrefix {
			subs[""] = sub
			continue
		}
		for _, c := range strings.Split(ctrls, ",") {
			if c == "" {
				return nil, fmt.Errorf("--cgroup %q: empty controller name", a)
			}
			if _, dup := subs[c]; dup {
				return nil, fmt.Errorf("--cgroup %q: controller %s is given twice", a, c)
			}
			subs[c] = sub
		}
	}

	var dirs []string
	add := func(arg, base, sub string, optional bool) error {
		dir := filepath.Join(base, path.Clean("/"+sub))
		fi, err := os.Stat(dir)
		if err == nil && !fi.IsDir() {
			err = errors.New("not a directory")
		}
		if err != nil {
			if optional && errors.Is(err, os.ErrNotExist) {
				return nil
			}
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			// Checked before anything starts; worded as runc's error for
			// the write that would fail.
			return fmt.Errorf("--cgroup %q: not adding pid to cgroup %s: %w", arg, dir, err)
		}
		if !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
		return nil
	}
	if sub, ok := subs[""]; ok {
		for ctrl, base := range st.Paths {
			// On a hybrid host the cgroup2 companion follows where the
			// sub-cgroup exists there too; v1 hierarchies must have it.
			optional := st.Driver == cgroups.DriverV1 && ctrl == ""
			if err := add(args[0], base, sub, optional); err != nil {
				return nil, err
			}
		}
	} else {
		for ctrl, sub := range subs {
			base, ok := st.Paths[ctrl]
			if !ok || ctrl == "" {
				return nil, fmt.Errorf("--cgroup %s:%s: unknown controller %s (the container has no %s cgroup)", ctrl, sub, ctrl, ctrl)
			}
			if err := add(ctrl+":"+sub, base, sub, false); err != nil {
				return nil, err
			}
		}
	}
	slices.Sort(dirs)
	return dirs, nil
}

// checkSubPath refuses a path that could leave the container's cgroup.
func checkSubPath(sub string) error {
	if strings.ContainsRune(sub, 0) {
		return errors.New("NUL in path")
	}
	for _, part := range strings.Split(sub, "/") {
		if part == ".." {
			return errors.New(`bad sub cgroup path: ".." is not allowed: the sub-cgroup must be inside the container's cgroup`)
		}
	}
	return nil
}

// joinSubCgroups moves pid into each of dirs.
func joinSubCgroups(dirs []string, pid int) error {
	for _, d := range dirs {
		procs := filepath.Join(d, "cgroup.procs")
		f, err := os.OpenFile(procs, os.O_WRONLY, 0)
		if err == nil {
			_, err = f.WriteString(strconv.Itoa(pid))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return fmt.Errorf("--cgroup: adding pid %d to %s: %w", pid, procs, err)
		}
	}
	return nil
}
