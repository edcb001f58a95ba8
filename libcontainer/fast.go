package libcontainer

import (
	"path/filepath"

	"github.com/berth-runtime/berth/cgroups"
	"github.com/berth-runtime/berth/configs"
	"github.com/berth-runtime/berth/internal/fastcmd"
	"github.com/berth-runtime/berth/internal/logs"
)

// WriteFastRecord lets start, kill and delete of this container run
// without Go (internal/fastcmd) when they need nothing the record lacks:
// no poststart or poststop hooks, a cgroup plain directories remove, a
// mount namespace (delete unmounts nothing) and a pid namespace of its own. Written after the final
// state, under the lock (create), or once the process runs (run): a record
// describes a container that was created whole. Without one the Go
// commands run, so a failure here only costs speed.
func (c *Container) WriteFastRecord() {
	cfg := c.state.Config
	// Without a pid namespace of its own, kill KILL is the whole cgroup's
	// (killAllProcesses), which the C kill does not do.
	if !cfg.Has(configs.NEWNS) || !cfg.OwnsNamespace(configs.NEWPID) {
		return
	}
	if h := cfg.Hooks; h != nil && (len(h.Poststart) > 0 || len(h.Poststop) > 0) {
		return
	}
	if c.state.IntelRdt != nil { // its groups are Go's to remove
		return
	}
	dirs, freeze, thawed, ok := cgroups.Plain(c.state.Cgroup)
	if !ok {
		return
	}
	r := fastcmd.Record{Pid: c.state.InitPid, StartTime: c.state.InitStartTime, FreezeFile: freeze, Thawed: thawed, Dirs: dirs}
	b, err := r.Encode()
	if err == nil {
		err = writeFileAtomic(filepath.Join(c.dir, fastcmd.RecordName), b, 0o600)
	}
	if err != nil {
		logs.Debugf("container %s: no fast record: %v", c.state.ID, err)
	}
}
