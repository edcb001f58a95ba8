package libcontainer

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/berth-runtime/berth/internal/sysfile"
)

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
