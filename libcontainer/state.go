package libcontainer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/cgroups"
	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/intelrdt"
	"github.com/berth-runtime/berth/internal/jsondec"
	"github.com/berth-runtime/berth/internal/logs"
	"github.com/berth-runtime/berth/internal/sysfile"
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

// ValidateID refuses ids that could escape --root or break tools.
func ValidateID(id string) error {
	switch {
	case id == "":
		return errors.New("container id must not be empty")
	case len(id) > 1024:
		return fmt.Errorf("container id is %d bytes long; at most 1024 are allowed", len(id))
	case id == CacheDir:
		return fmt.Errorf("container id %q is reserved (berth's cache under --root)", id)
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

const (
	loadFull    loadMode = iota
	loadSummary          // state.json only: list and state never read the config
	loadLite             // and of config.json what lifecycle commands read
	loadList             // state.json with the cgroup state left raw until needed
)

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

// Lock serializes commands on one container (flock on its directory).
func (c *Container) Lock() error {
	return c.lockWithin(-1)
}

// ErrLockBusy: another command held the container's lock for the whole
// of a bounded wait.
var ErrLockBusy = errors.New("is locked by another berth command that does not finish")

// lockTimeout bounds the wait of kill and delete --force for the lock: its
// holder may be stuck on the container (a frozen or stopped init), and
// these two are how a caller gets out of that. A variable for tests.
var lockTimeout = 2 * time.Second

// lockWithin is Lock, waiting at most d for another holder (d < 0: as long
// as it takes).
func (c *Container) lockWithin(d time.Duration) error {
	f, err := os.Open(c.dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("container %s %w", c.state.ID, ErrNotExist)
		}
		return fmt.Errorf("lock container %s: %w", c.state.ID, err)
	}
	if err := flockWithin(int(f.Fd()), d); err != nil {
		f.Close()
		if errors.Is(err, ErrLockBusy) {
			return fmt.Errorf("container %s %w (waited %v)", c.state.ID, ErrLockBusy, d)
		}
		return fmt.Errorf("lock container %s: flock: %w", c.state.ID, err)
	}
	// The holder we waited for may have deleted the container: its
	// directory then has no links.
	var st unix.Stat_t
	err = unix.Fstat(int(f.Fd()), &st)
	if err != nil && err != unix.ESTALE { // ESTALE: gone, on NFS
		f.Close()
		return fmt.Errorf("lock container %s: fstat %s: %w", c.state.ID, c.dir, err)
	}
	if err != nil || st.Nlink == 0 {
		f.Close()
		return fmt.Errorf("container %s %w", c.state.ID, ErrNotExist)
	}
	c.lock = f
	return nil
}

// flockWithin takes an exclusive flock on fd, waiting at most d (d < 0:
// blocking). The uncontended case is one flock either way; a bounded wait
// polls, since a blocked flock cannot be given a deadline.
func flockWithin(fd int, d time.Duration) error {
	if d < 0 {
		for {
			if err := unix.Flock(fd, unix.LOCK_EX); err != unix.EINTR {
				return err
			}
		}
	}
	deadline := time.Now().Add(d)
	delay := time.Millisecond
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EWOULDBLOCK && err != unix.EINTR {
			return err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return ErrLockBusy
		}
		time.Sleep(min(delay, left))
		delay = min(2*delay, 50*time.Millisecond)
	}
}

// Relock takes the lock of a container this berth made and let go of (run
// deleting its own): ErrNotExist if a delete got there first, or if a
// create has since reused the id (its state names another init). A state
// it cannot read is still this berth's container (a delete killed midway
// leaves one), and the lock is held.
func (c *Container) Relock() error {
	if err := c.Lock(); err != nil {
		return err
	}
	now, err := load(c.root, c.state.ID, loadSummary)
	if err == nil && (now.state.InitPid != c.state.InitPid || now.state.InitStartTime != c.state.InitStartTime) {
		c.Unlock()
		return fmt.Errorf("container %s %w", c.state.ID, ErrNotExist)
	}
	return nil
}

// LoadLocked takes the lock of container id, then reads its state: a
// command that waited finds the container as the one before it left it
// (or gone).
func LoadLocked(root, id string) (*Container, error) {
	return loadLocked(root, id, loadFull)
}

// LoadLockedLite is LoadLocked for start, kill, delete, pause and resume:
// of the config it decodes only the rootfs, namespaces and hooks, and the
// container it returns cannot save its state.
func LoadLockedLite(root, id string) (*Container, error) {
	return loadLocked(root, id, loadLite)
}

func loadLocked(root, id string, mode loadMode) (*Container, error) {
	return loadLockedWithin(root, id, mode, -1)
}

// loadLockedWithin is loadLocked with lockWithin's bounded wait.
func loadLockedWithin(root, id string, mode loadMode, d time.Duration) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	l := &Container{dir: filepath.Join(root, id), state: State{ID: id}}
	if err := l.lockWithin(d); err != nil {
		return nil, err
	}
	c, err := load(root, id, mode)
	if err != nil {
		l.Unlock()
		return nil, err
	}
	c.lock = l.lock
	return c, nil
}

// LoadForSignal is LoadLockedLite for kill, whose wait for the lock is
// bounded: past it the container is loaded without the lock. That is
// safe for a signal, which goes to init through a pidfd and only after
// init's start time matched the state's; and state.json is only ever
// replaced whole.
func LoadForSignal(root, id string) (*Container, error) {
	c, err := loadLockedWithin(root, id, loadLite, lockTimeout)
	if errors.Is(err, ErrLockBusy) {
		logs.Debugf("kill %s: %v; signalling without it", id, err)
		return load(root, id, loadLite)
	}
	return c, err
}

// LoadForDelete is LoadLockedLite for delete --force, whose wait for the
// lock is bounded: past it, the container's processes are killed (what a
// stuck holder waits on is one of them) and the lock is waited for once
// more; ErrLockBusy if it still does not come.
func LoadForDelete(root, id string) (*Container, error) {
	c, err := loadLockedWithin(root, id, loadLite, lockTimeout)
	if !errors.Is(err, ErrLockBusy) {
		return c, err
	}
	if u, lerr := load(root, id, loadLite); lerr == nil {
		logs.Debugf("delete %s: %v; killing its processes first", id, err)
		u.killUnlocked()
	}
	return loadLockedWithin(root, id, loadLite, lockTimeout)
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

// writeFileAtomic replaces path with data through a temp file and a
// rename, so readers, and a berth killed midway, see the old or the new
// file whole. No fsync: after a power loss every process and cgroup a
// state names is gone too (and --root is usually a tmpfs), and delete
// --force removes a torn state; on a disk-backed --root an fsync cost
// ~1.5 ms on every create's path.
func writeFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	_, err = tmp.Write(data)
	if err == nil && mode != 0o600 { // CreateTemp makes it 0600
		err = tmp.Chmod(mode)
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
	st, start, _, err := procStatNamed(pid, "")
	return st, start, err
}

// procStatNamed is procStat that also tells whether pid's command name is
// name.
func procStatNamed(pid int, name string) (st byte, start uint64, named bool, err error) {
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	b, err := sysfile.ReadUnder("/proc", "/proc/"+strconv.Itoa(pid)+"/stat", *bp)
	if b != nil {
		*bp = b[:0]
	}
	if err != nil {
		return 0, 0, false, err
	}
	if st, start, err = parseProcStat(pid, b); err != nil {
		return 0, 0, false, err
	}
	return st, start, string(procComm(b)) == name, nil
}

// procComm is the command name in a /proc/<pid>/stat line, between the
// first '(' and the last ')'.
func procComm(b []byte) []byte {
	i, j := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if i < 0 || j < i {
		return nil
	}
	return b[i+1 : j]
}

// parseProcStat takes the state and start time from /proc/<pid>/stat.
func parseProcStat(pid int, b []byte) (byte, uint64, error) {
	// comm may hold spaces and parens: the fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	// Field 0 is the state, field 19 the start time (list reads one per
	// container: no strings.Fields copy).
	var state byte
	rest := b[i+2:]
	for n := 0; ; n++ {
		for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\n') {
			rest = rest[1:]
		}
		end := bytes.IndexAny(rest, " \n")
		if end < 0 {
			end = len(rest)
		}
		if end == 0 {
			return 0, 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
		}
		switch n {
		case 0:
			state = rest[0]
		case 19:
			st, err := strconv.ParseUint(string(rest[:end]), 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("/proc/%d/stat: start time: %w", pid, err)
			}
			return state, st, nil
		}
		rest = rest[end:]
	}
}

// initAlive reports whether the saved init still runs (not a zombie, not a
// reused pid).
func (c *Container) initAlive() bool {
	st, _ := c.initState()
	return st != 0
}

// initState is the saved init's /proc state letter, 0 once it is gone (a
// zombie, or its pid reused). execd is true when init's command name shows
// it has exec'd the container's process (a state from a berth that did not
// name init cannot tell).
func (c *Container) initState() (st byte, execd bool) {
	if c.state.InitPid <= 0 {
		return 0, false
	}
	st, start, named, err := procStatNamed(c.state.InitPid, c.state.InitComm)
	if err != nil || start != c.state.InitStartTime || st == 'Z' || st == 'X' {
		return 0, false
	}
	return st, c.state.InitComm != "" && !named
}

// Status derives the status from the kernel, never from a stored field.
func (c *Container) Status() string {
	initSt, execd := c.initState()
	if initSt == 0 {
		return Stopped
	}
	if c.state.InCreate {
		return Creating
	}
	// Created means init still waits on the fifo. If a start was killed
	// after releasing init, the fifo stays but init has exec'd the process.
	var fifo unix.Stat_t
	if !execd && c.stat(c.dir+"/"+fifoName, &fifo) == nil && c.initIsBerth() {
		return Created
	}
	if c.rawCgroup != nil {
		if frozen, err := cgroups.FrozenJSON(c.rawCgroup, initSt); err == nil && frozen {
			return Paused
		}
		return Running
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
	if err := c.stat(c.dir, &st); err != nil {
		return ""
	}
	return userName(st.Uid)
}

// stat is lstat of a path under --root (see sysfile.Under).
func (c *Container) stat(path string, st *unix.Stat_t) error {
	dirfd, rel := sysfile.Under(c.root, path)
	return unix.Fstatat(dirfd, rel, st, unix.AT_SYMLINK_NOFOLLOW)
}

// userName maps uid to a name; /etc/passwd is read and parsed once per
// command (list asks for every container).
func userName(uid uint32) string {
	if name, ok := userNames()[uid]; ok {
		return name
	}
	return "#" + strconv.FormatUint(uint64(uid), 10)
}

var userNames = sync.OnceValue(func() map[uint32]string {
	names := map[uint32]string{}
	b, _ := os.ReadFile("/etc/passwd")
	for line := range strings.Lines(string(b)) {
		f := strings.SplitN(strings.TrimSuffix(line, "\n"), ":", 4)
		if len(f) < 3 {
			continue
		}
		uid, err := strconv.ParseUint(f[2], 10, 32)
		if _, seen := names[uint32(uid)]; err == nil && !seen {
			names[uint32(uid)] = f[0] // the first entry wins, as getpwuid
		}
	}
	return names
})

// List loads every container under root, without their configs (see
// loadSummary); unreadable entries are skipped.
func List(root string) ([]*Container, error) {
	return listEach(root, func(id string) *Container {
		c, err := load(root, id, loadList)
		if err != nil {
			return nil
		}
		return c
	})
}

// ListInfos returns Info of every container under root, in List's order:
// each container is loaded and examined (a few /proc reads) by one worker,
// in one parallel pass.
func ListInfos(root string) ([]*Info, error) {
	return listEach(root, func(id string) *Info { return listInfo(root, id) })
}

// listScratch is what list needs of a container only while examining it,
// reused from one container to the next: fresh memory, paid for in page
// faults, was much of list's cost.
type listScratch struct {
	buf []byte
	ls  listState
	c   Container
}

var listScratches = sync.Pool{New: func() any { return &listScratch{buf: make([]byte, 0, 4096)} }}

// listInfo is load(root, id, loadList).Info() keeping only the Info.
func listInfo(root, id string) *Info {
	if ValidateID(id) != nil {
		return nil
	}
	s := listScratches.Get().(*listScratch)
	defer listScratches.Put(s)
	s.ls = listState{}
	s.c = Container{root: root, dir: filepath.Join(root, id), partial: true}
	if s.c.decodeFile(stateFile, &s.ls, true, &s.buf) != nil {
		return nil
	}
	// rawCgroup views s.buf, which stays ours until Info returns.
	s.c.state, s.c.rawCgroup = s.ls.State, s.ls.Cgroup
	return s.c.Info()
}

func listEach[T any](root string, fn func(id string) *T) ([]*T, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("list %s: %w", root, err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	got := make([]*T, len(names))
	parallel(len(names), func(i int) { got[i] = fn(names[i]) })
	out := got[:0]
	for _, v := range got {
		if v != nil {
			out = append(out, v)
		}
	}
	return out, nil
}

// parallel runs fn(0..n-1) on one goroutine per CPU: list spends its
// time in file reads and JSON decoding of independent containers.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		}()
	}
	wg.Wait()
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
