package libcontainer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/internal/sigfwd"
)

// An unprivileged caller may write a user namespace's maps itself only
// for one line mapping its own euid (egid, with setgroups denied);
// anything wider goes through the setuid newuidmap/newgidmap helpers,
// which check /etc/subuid and /etc/subgid.
const (
	newuidmap = "newuidmap"
	newgidmap = "newgidmap"
)

// checkRootless refuses, before anything is made, what an unprivileged
// caller (euid != 0) cannot have: no user namespace, a new one without
// mappings, or mappings beyond its own ids without the helpers.
func checkRootless(cfg *configs.Config, euid, egid int) error {
	if euid == 0 {
		return nil
	}
	if !cfg.Has(configs.NEWUSER) {
		return fmt.Errorf("linux.namespaces: berth runs as uid %d (rootless) and needs a user namespace (see `berth spec --rootless`)", euid)
	}
	if cfg.NamespacePath(configs.NEWUSER) != "" {
		return nil // joined: it is mapped already
	}
	if len(cfg.UIDMappings) == 0 {
		return fmt.Errorf("linux.uidMappings: a rootless container needs at least one mapping (e.g. 0 -> uid %d)", euid)
	}
	if len(cfg.GIDMappings) == 0 {
		return fmt.Errorf("linux.gidMappings: a rootless container needs at least one mapping (e.g. 0 -> gid %d)", egid)
	}
	if _, err := mapHelper(newuidmap, "linux.uidMappings", "uid", cfg.UIDMappings, euid); err != nil {
		return err
	}
	_, err := mapHelper(newgidmap, "linux.gidMappings", "gid", cfg.GIDMappings, egid)
	return err
}

// mapHelper returns the helper's path when m needs it ("" when berth may
// write the map itself), or an error naming field when it is missing.
func mapHelper(helper, field, kind string, m []specs.LinuxIDMapping, own int) (string, error) {
	if ownOnly(m, own) {
		return "", nil
	}
	path, err := exec.LookPath(helper)
	if err != nil {
		return "", fmt.Errorf("%s: mapping more than %s %d (berth's own) needs %s, which is not installed (package uidmap)", field, kind, own, helper)
	}
	return path, nil
}

func ownOnly(m []specs.LinuxIDMapping, own int) bool {
	return len(m) == 1 && m[0].Size == 1 && int64(m[0].HostID) == int64(own)
}

// writeIDMaps maps init's new user namespace: directly as root or for a
// caller's own ids, else through newuidmap/newgidmap.
func writeIDMaps(pid int, cfg *configs.Config) error {
	euid, egid := os.Geteuid(), os.Getegid()
	dir := "/proc/" + strconv.Itoa(pid)
	uidHelper, gidHelper := "", ""
	if euid != 0 {
		var err error
		if uidHelper, err = mapHelper(newuidmap, "linux.uidMappings", "uid", cfg.UIDMappings, euid); err != nil {
			return err
		}
		if gidHelper, err = mapHelper(newgidmap, "linux.gidMappings", "gid", cfg.GIDMappings, egid); err != nil {
			return err
		}
		if gidHelper == "" && len(cfg.GIDMappings) > 0 {
			// The kernel takes an unprivileged gid_map only with
			// setgroups denied (else the caller could drop a group
			// that denies it access).
			if err := os.WriteFile(dir+"/setgroups", []byte("deny"), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("linux.gidMappings: write %s/setgroups: %w", dir, err)
			}
		}
	}
	if err := writeMap(pid, "uid_map", "linux.uidMappings", uidHelper, cfg.UIDMappings); err != nil {
		return err
	}
	return writeMap(pid, "gid_map", "linux.gidMappings", gidHelper, cfg.GIDMappings)
}

func writeMap(pid int, name, field, helper string, m []specs.LinuxIDMapping) error {
	if len(m) == 0 {
		return nil
	}
	if helper != "" {
		args := []string{strconv.Itoa(pid)}
		for _, e := range m {
			args = append(args, strconv.FormatUint(uint64(e.ContainerID), 10),
				strconv.FormatUint(uint64(e.HostID), 10), strconv.FormatUint(uint64(e.Size), 10))
		}
		var out bytes.Buffer
		cmd := exec.Command(helper, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := sigfwd.Start(cmd)
		if err == nil {
			err = cmd.Wait()
		}
		if err != nil {
			msg := strings.Join(strings.Fields(out.String()), " ")
			return fmt.Errorf("%s: %s %s: %w: %s", field, helper, strings.Join(args, " "), err, msg)
		}
		return nil
	}
	var sb strings.Builder
	for _, e := range m {
		fmt.Fprintf(&sb, "%d %d %d\n", e.ContainerID, e.HostID, e.Size)
	}
	path := "/proc/" + strconv.Itoa(pid) + "/" + name
	if err := os.WriteFile(path, []byte(sb.String()), 0); err != nil {
		return fmt.Errorf("%s: write %s: %w", field, path, err)
	}
	return nil
}

// chownFifo gives exec.fifo to the container's root. An unprivileged
// caller cannot chown to a subordinate id: it lets everyone write instead
// and closes the state directory to others (0700), so that only init,
// which reopens its O_PATH fd of the fifo through /proc/self/fd without
// walking the directory, can open it: another user holding it open could
// stall start or put words in init's error.
func chownFifo(path string, uid, gid int) error {
	err := os.Chown(path, uid, gid)
	if err == nil {
		return nil
	}
	if os.Geteuid() != 0 && errors.Is(err, os.ErrPermission) {
		if err := os.Chmod(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("chmod %s: %w", filepath.Dir(path), err)
		}
		if err := os.Chmod(path, 0o622); err != nil {
			return fmt.Errorf("chmod %s: %w", path, err)
		}
		return nil
	}
	return fmt.Errorf("chown %s: %w", path, err)
}
