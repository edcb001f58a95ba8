package libcontainer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/cgroups"
	"github.com/berth-runtime/berth/libcontainer/configs"
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
	stateFile = "state.json"
	fifoName  = "exec.fifo"
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
	Config        *configs.Config   `json:"config"`
	Cgroup        cgroups.State     `json:"cgroup"`
	// InCreate is set while create runs: if berth dies meanwhile, the
	// state still names the cgroup and init for delete --force.
	InCreate bool `json:"inCreate,omitempty"`
}

// Container is a loaded container.
type Container struct {
	root  string // --root
	dir   string // <root>/<id>
	state State
	lock  *os.File
}

// ValidateID refuses ids that could escape --root or break tools.
func ValidateID(id string) error {
	switch {
	case id == "":
		return errors.New("container id must not be empty")
	case len(id) > 1024:
		return fmt.Errorf("container id is %d bytes long; at most 1024 are allowed", len(id))
	case id == "." || id == ".." || strings.ContainsAny(id, "/\x00"):
		return fmt.Errorf("invalid container id %q: must not be \".\", \"..\" or contain '/' or NUL", id)
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("invalid container id %q: control characters are not allowed", id)
		}
	}
	return nil
}

// Load reads the state of container id under root.
func Load(root, id string) (*Container, error) {
	return load(root, id, false)
}

// stateSummary decodes state.json without building the config, which
// list and state never read: the outer "config" field shadows State's.
type stateSummary struct {
	State
	Config json.RawMessage `json:"config"`
}

func load(root, id string, summary bool) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("container %s %w", id, ErrNotExist)
		}
		return nil, fmt.Errorf("read state of container %s: %w", id, err)
	}
	c := &Container{root: root, dir: dir}
	var into any = &c.state
	var sum stateSummary
	if summary {
		into = &sum
	}
	if err := json.Unmarshal(b, into); err != nil {
		return nil, fmt.Errorf("container %s: %w: %s: %v", id, ErrBroken, filepath.Join(dir, stateFile), err)
	}
	if summary {
		c.state = sum.State
	}
	return c, nil
}

// Lock serializes commands on one container (flock on its directory).
func (c *Container) Lock() error {
	f, err := os.Open(c.dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("container %s %w", c.state.ID, ErrNotExist)
		}
		return fmt.Errorf("lock container %s: %w", c.state.ID, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return fmt.Errorf("lock container %s: flock: %w", c.state.ID, err)
	}
	c.lock = f
	return nil
}

// LoadLocked loads container id and takes its lock. The state is read
// again under the lock: a command that waited may find the container
// deleted, or changed, by the one before it.
func LoadLocked(root, id string) (*Container, error) {
	c, err := Load(root, id)
	if err != nil {
		return nil, err
	}
	if err := c.Lock(); err != nil {
		return nil, err
	}
	fresh, err := Load(root, id)
	if err != nil {
		c.Unlock()
		return nil, err
	}
	fresh.lock = c.lock
	return fresh, nil
}

// Unlock releases Lock.
func (c *Container) Unlock() {
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
}

// ID returns the container id.
func (c *Container) ID() string { return c.state.ID }

// State returns the saved state.
func (c *Container) State() *State { return &c.state }

// save writes state.json atomically: readers never see a torn file.
func (c *Container) save() error {
	b, err := json.Marshal(&c.state)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return writeFileAtomic(filepath.Join(c.dir, stateFile), b, 0o600)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// procStat returns the state letter and start time of pid.
func procStat(pid int) (byte, uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// comm may hold spaces and parens: the fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	fields := strings.Fields(string(b[i+2:]))
	if len(fields) < 20 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	st, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("/proc/%d/stat: start time: %w", pid, err)
	}
	return fields[0][0], st, nil
}

// initAlive reports whether the saved init still runs (not a zombie, not a
// reused pid).
func (c *Container) initAlive() bool {
	if c.state.InitPid <= 0 {
		return false
	}
	st, start, err := procStat(c.state.InitPid)
	if err != nil || start != c.state.InitStartTime {
		return false
	}
	return st != 'Z' && st != 'X'
}

// Status derives the status from the kernel, never from a stored field.
func (c *Container) Status() string {
	if !c.initAlive() {
		return Stopped
	}
	if c.state.InCreate {
		return Creating
	}
	// Created means init still waits on the fifo. If a start was killed
	// after releasing init, the fifo stays but init has exec'd the process.
	if _, err := os.Lstat(filepath.Join(c.dir, fifoName)); err == nil && c.initIsBerth() {
		return Created
	}
	if mgr, err := cgroups.Load(c.state.Cgroup); err == nil {
		if frozen, err := mgr.Frozen(); err == nil && frozen {
			return Paused
		}
	}
	return Running
}

// OCIState is the state as hooks receive it (the runtime spec's State).
func (c *Container) OCIState(status string) *specs.State {
	pid := c.state.InitPid
	if status == Stopped {
		pid = 0
	}
	return &specs.State{
		Version:     specs.Version,
		ID:          c.state.ID,
		Status:      specs.ContainerState(status),
		Pid:         pid,
		Bundle:      c.state.Bundle,
		Annotations: c.state.Annotations,
	}
}

// Info is what `state` and `list` print: the OCI state plus runc's fields.
type Info struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Info returns the container's current state.
func (c *Container) Info() *Info {
	status := c.Status()
	pid := c.state.InitPid
	if status == Stopped {
		pid = 0
	}
	return &Info{
		OCIVersion:  specs.Version,
		ID:          c.state.ID,
		Pid:         pid,
		Status:      status,
		Bundle:      c.state.Bundle,
		Rootfs:      c.state.Rootfs,
		Created:     c.state.Created,
		Owner:       c.owner(),
		Annotations: c.state.Annotations,
	}
}

// owner is the user owning the state directory, as runc reports it.
func (c *Container) owner() string {
	var st unix.Stat_t
	if err := unix.Stat(c.dir, &st); err != nil {
		return ""
	}
	return userName(st.Uid)
}

var (
	userNamesOnce sync.Once
	userNames     []byte
)

// userName maps uid to a name; /etc/passwd is read once per command
// (list asks for every container).
func userName(uid uint32) string {
	userNamesOnce.Do(func() { userNames, _ = os.ReadFile("/etc/passwd") })
	b := userNames
	if len(b) > 0 {
		want := strconv.FormatUint(uint64(uid), 10)
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.SplitN(line, ":", 4)
			if len(f) >= 3 && f[2] == want {
				return f[0]
			}
		}
	}
	return "#" + strconv.FormatUint(uint64(uid), 10)
}

// List loads every container under root, without their configs (see
// stateSummary); unreadable entries are skipped.
func List(root string) ([]*Container, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("list %s: %w", root, err)
	}
	var out []*Container
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		c, err := load(root, e.Name(), true)
		if err != nil {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// initIsBerth reports whether init still runs berth's binary, i.e. has not
// exec'd the container's process yet (init runs from a mount of the same
// file, so the inode matches our own).
func (c *Container) initIsBerth() bool {
	var self, init unix.Stat_t
	if unix.Stat("/proc/self/exe", &self) != nil {
		return true
	}
	exe := "/proc/" + strconv.Itoa(c.state.InitPid) + "/exe"
	if unix.Stat(exe, &init) != nil {
		return true
	}
	if target, _ := os.Readlink(exe); strings.HasPrefix(target, "/memfd:berth") {
		return true // the rootless copy of berth
	}
	return self.Dev == init.Dev && self.Ino == init.Ino
}
