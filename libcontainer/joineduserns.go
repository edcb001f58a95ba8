package libcontainer

import (
	"bytes"
	"fmt"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/configs"
)

// chownFifoForJoinedUserns gives exec.fifo to the host ids of root in the
// user namespace init joined (by path: its mapping is not in the config),
// read from init's uid_map and gid_map as berth sees them. Init reopens
// the fifo as that root, which has no rights on a file of an unmapped
// owner. A root the namespace does not map keeps the fifo as it is.
func chownFifoForJoinedUserns(cfg *configs.Config, pid int, fifo string) error {
	if cfg.NamespacePath(configs.NEWUSER) == "" {
		return nil
	}
	ids := [2]uint32{}
	for i, name := range []string{"uid_map", "gid_map"} {
		p := "/proc/" + strconv.Itoa(pid) + "/" + name
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("linux.namespaces user: read %s of init: %w", name, err)
		}
		maps, err := parseIDMap(b)
		if err != nil {
			return fmt.Errorf("linux.namespaces user: %s of init: %w", name, err)
		}
		id, ok := hostID(maps, 0)
		if !ok {
			return nil
		}
		ids[i] = id
	}
	return chownFifo(fifo, int(ids[0]), int(ids[1]))
}

// parseIDMap reads a /proc/<pid>/uid_map or gid_map: one "inside outside
// count" triple of decimal numbers per line, blank-separated.
func parseIDMap(b []byte) ([]specs.LinuxIDMapping, error) {
	var out []specs.LinuxIDMapping
	for n, line := range bytes.Split(b, []byte{'\n'}) {
		f := bytes.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: want 3 fields, got %d", n+1, len(f))
		}
		var v [3]uint32
		for i := range f {
			x, err := strconv.ParseUint(string(f[i]), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n+1, err)
			}
			v[i] = uint32(x)
		}
		out = append(out, specs.LinuxIDMapping{ContainerID: v[0], HostID: v[1], Size: v[2]})
	}
	return out, nil
}
