package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/cgroups"
	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/intelrdt"
	"github.com/berth-runtime/berth/internal/jsondec"
)

// Status values of the OCI state, plus runc's "paused".
const (
	Creating = "creating"
	Created  = "created"
	Running  = "running"
	Paused   = "paused"
	Stopped  = "stopped"
)

const (
	stateFile  = "state.json"
	configFile = "config.json"
	fifoName   = "exec.fifo"
)

// ErrNotExist is wrapped by errors for unknown container ids.
var ErrNotExist = errors.New("does not exist")

// ErrExist is wrapped when creating an id that is taken.
var ErrExist = errors.New("already exists")

// ErrBroken is wrapped when a state.json cannot be decoded (berth was
// killed while writing it, or the disk was full).
var ErrBroken = errors.New("state is unreadable")

// State is what berth keeps in <root>/<id>/state.json.
type State struct {
	ID      string `json:"id"`
	InitPid int    `json:"initPid"`
	// InitStartTime is field 22 of /proc/<pid>/stat: it tells a reused
	// pid from the container's init.
	InitStartTime uint64            `json:"initStartTime"`
	Bundle        string            `json:"bundle"`
	Rootfs        string            `json:"rootfs"`
	Created       time.Time         `json:"created"`
	Annotations   map[string]string `json:"annotations,omitempty"`
	// Config lives in <dir>/config.json, written once (and again by
	// update): state.json stays small for list and state, and create's
	// state saves do not re-encode it.
	Config *configs.Config `json:"-"`
	Cgroup cgroups.State   `json:"cgroup"`
	// InCreate is set while create runs: if berth dies meanwhile, the
	// state still names the cgroup and init for delete --force.
	InCreate bool `json:"inCreate,omitempty"`
	// InitComm is the command name init keeps until it execs
	// (nsenter.InitComm); empty in states of berths that did not name it.
	InitComm string `json:"initComm,omitempty"`
	// IntelRdt names the resctrl groups of linux.intelRdt.
	IntelRdt *intelrdt.State `json:"intelRdt,omitempty"`
}

// Container is a loaded container.
type Container struct {
	root  string // --root
	dir   string // <root>/<id>
	state State
	lock  *os.File
	// partial: the state was decoded in part (list, state, lifecycle
	// commands) and must not be written back.
	partial bool
	// rawCgroup: state.json's "cgroup" as list reads it, for Status alone.
	rawCgroup []byte
}

const (
	loadFull    loadMode = iota
	loadSummary          // state.json only: list and state never read the config
	loadLite             // and of config.json what lifecycle commands read
	loadList             // state.json with the cgroup state left raw until needed
)

// ID returns the container id.
func (c *Container) ID() string { return c.state.ID }

// State returns the saved state.
func (c *Container) State() *State { return &c.state }

// save writes state.json atomically (see writeFileAtomic).
func (c *Container) save() error {
	if c.partial {
		return fmt.Errorf("internal error: container %s: state loaded in part cannot be saved", c.state.ID)
	}
	b, err := jsondec.MarshalOrJSON(&c.state)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return writeFileAtomic(filepath.Join(c.dir, stateFile), b, 0o600)
}

// saveConfig writes config.json atomically.
func (c *Container) saveConfig() error {
	if c.partial || c.state.Config == nil {
		return fmt.Errorf("internal error: container %s: no whole config to save", c.state.ID)
	}
	b, err := jsondec.MarshalOrJSON(c.state.Config)
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	return writeFileAtomic(filepath.Join(c.dir, configFile), b, 0o600)
}

// initIsBerth reports whether init still runs berth's binary, i.e. has not
// exec'd the container's process yet (init runs from a mount of the same
// file, so the inode matches our own).
func (c *Container) initIsBerth() bool {
	self, ok := selfExe()
	if !ok {
		return true
	}
	var init unix.Stat_t
	exe := "/proc/" + strconv.Itoa(c.state.InitPid) + "/exe"
	if unix.Stat(exe, &init) != nil {
		return true
	}
	if self.Dev == init.Dev && self.Ino == init.Ino {
		return true
	}
	target, _ := os.Readlink(exe)
	return strings.HasPrefix(target, "/memfd:berth") // the rootless copy
}

// selfExe stats berth's own binary once per command (list asks for every
// created container).
var selfExe = sync.OnceValues(func() (unix.Stat_t, bool) {
	var st unix.Stat_t
	return st, unix.Stat("/proc/self/exe", &st) == nil
})
