package libcontainer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/internal/jsondec"
	"github.com/berth-runtime/berth/internal/sysfile"
)

// Load reads the state of container id under root, config included.
func Load(root, id string) (*Container, error) {
	return load(root, id, loadFull)
}

// LoadState reads the state of container id without its config, for
// commands that report on it (state, ps, events).
func LoadState(root, id string) (*Container, error) {
	return load(root, id, loadSummary)
}

// How much of a container's state a command reads.
type loadMode int

// listState is State with the cgroup state undecoded: list needs it only
// for the paused check of a live container, and decoding its maps for
// every stopped one is most of list's allocations.
type listState struct {
	State
	Cgroup rawView `json:"cgroup"`
}

// rawView is a JSON value's bytes inside the buffer decoded from, not a
// copy: valid only while that buffer is (json.RawMessage copies).
type rawView []byte

func (r *rawView) UnmarshalJSON(b []byte) error {
	*r = b
	return nil
}

// liteConfig is the part of config.json that start, kill, delete, pause
// and resume read: building decoders for the whole config is most of their
// JSON work.
type liteConfig struct {
	Rootfs     string              `json:"rootfs"`
	Namespaces []configs.Namespace `json:"namespaces"`
	Hooks      *specs.Hooks        `json:"hooks"`
}

func load(root, id string, mode loadMode) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	c := &Container{root: root, dir: dir, partial: mode != loadFull}
	if mode == loadList {
		var ls listState
		if err := c.readJSON(stateFile, &ls, true); err != nil {
			return nil, err
		}
		c.state, c.rawCgroup = ls.State, bytes.Clone(ls.Cgroup)
		return c, nil
	}
	if err := c.readJSON(stateFile, &c.state, true); err != nil {
		return nil, err
	}
	switch mode {
	case loadFull:
		c.state.Config = new(configs.Config)
		if err := c.readJSON(configFile, c.state.Config, false); err != nil {
			return nil, err
		}
	case loadLite:
		var lc liteConfig
		if err := c.readJSON(configFile, &lc, false); err != nil {
			return nil, err
		}
		c.state.Config = &configs.Config{Rootfs: lc.Rootfs, Namespaces: lc.Namespaces, Hooks: lc.Hooks}
	}
	return c, nil
}

// readBufs are the buffers state files and /proc/<pid>/stat are read into
// (list reads thousands; json.Unmarshal and procStat copy what they keep).
var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// readJSON decodes <dir>/name into v. A missing state.json means no such
// container; a missing config.json, or either file undecodable, means a
// broken state (berth was killed while creating it, or the disk was full).
func (c *Container) readJSON(name string, v any, first bool) error {
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	return c.decodeFile(name, v, first, bp)
}

// decodeFile is readJSON into *bp's storage: v may keep views of it (see
// rawView) while the caller holds *bp.
func (c *Container) decodeFile(name string, v any, first bool, bp *[]byte) error {
	id, path := filepath.Base(c.dir), filepath.Join(c.dir, name)
	b, err := sysfile.ReadUnder(c.root, path, *bp)
	if b != nil {
		*bp = b[:0]
	}
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if first {
				return fmt.Errorf("container %s %w", id, ErrNotExist)
			}
			return fmt.Errorf("container %s: %w: %s is missing", id, ErrBroken, path)
		}
		return fmt.Errorf("read state of container %s: %w", id, err)
	}
	// jsondec spares a process encoding/json's field tables, and skips
	// its validation pass (list reads thousands of these).
	if err := jsondec.Unmarshal(b, v); err != nil {
		return fmt.Errorf("container %s: %w: %s: %v", id, ErrBroken, path, err)
	}
	return nil
}
