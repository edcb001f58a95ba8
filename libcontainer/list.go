package libcontainer

import (
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

	"github.com/berth-runtime/berth/internal/sysfile"
)

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
