// Package fastcmd runs start, kill and delete of a plain container without
// starting the Go runtime: a C constructor (fastcmd.c) takes the common,
// successful case, from a small record create leaves in the container's
// state directory, and exits. Anything else it leaves to the Go command
// untouched, which then does all of it. Those three commands are a Go
// start-up (~6 ms here) each on every container's path.
//
// Importing this package links the constructor. _BERTH_FASTCMD=off turns
// it off; _BERTH_FASTCMD=trace reports on stderr what it did.
package fastcmd

/*
#cgo CFLAGS: -Wall -I${SRCDIR}/../../include
#include <stdlib.h>
#include "record.h"
#include "cmdline.h"
const char *berth_fast_error(void);
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path"
	"strings"
	"unsafe"
)

// RecordName is the record's file in the state directory.
const RecordName = "fast"

// Error returns the error of a fast command that failed after it had
// changed something (init released, cgroups removed): the Go command must
// report it rather than run again. Empty otherwise.
func Error() error {
	if msg := C.GoString(C.berth_fast_error()); msg != "" {
		return errors.New(msg)
	}
	return nil
}

// Record is what the C commands know of a container.
type Record struct {
	Pid       int
	StartTime uint64 // field 22 of /proc/<pid>/stat
	// FreezeFile holds Thawed while the cgroup is not frozen; both empty
	// when the cgroup cannot be frozen.
	FreezeFile, Thawed string
	Dirs               []string // cgroup directories, removed in order
}

// Limits mirrored from record.h.
const (
	magic     = 0x54534642
	maxRecord = 65536
	maxDirs   = 32
	pathMax   = 4095
	thawedMax = 16
)

var order = binary.NativeEndian

// Encode returns the record as fastcmd.c reads it (record.h).
func (r *Record) Encode() ([]byte, error) {
	if r.Pid <= 0 || r.Pid > 1<<31-1 {
		return nil, fmt.Errorf("fast record: init pid %d", r.Pid)
	}
	if (r.FreezeFile == "") != (r.Thawed == "") || len(r.Thawed) > thawedMax {
		return nil, fmt.Errorf("fast record: freeze file %q with thawed %q", r.FreezeFile, r.Thawed)
	}
	if len(r.Dirs) > maxDirs {
		return nil, fmt.Errorf("fast record: %d cgroup directories, at most %d", len(r.Dirs), maxDirs)
	}
	b := make([]byte, 8, 64)
	b = order.AppendUint32(b, uint32(r.Pid))
	b = order.AppendUint64(b, r.StartTime)
	var err error
	str := func(s string, max int, abs bool) {
		switch {
		case err != nil:
		case len(s) > max || (abs && s != "" && !path.IsAbs(s)) || strings.ContainsRune(s, 0):
			err = fmt.Errorf("fast record: bad string %q", s)
		default:
			b = order.AppendUint16(b, uint16(len(s)))
			b = append(b, s...)
		}
	}
	str(r.FreezeFile, pathMax, true)
	str(r.Thawed, thawedMax, false)
	b = order.AppendUint16(b, uint16(len(r.Dirs)))
	for _, d := range r.Dirs {
		if d == "" {
			return nil, errors.New("fast record: empty cgroup directory")
		}
		str(d, pathMax, true)
	}
	if err != nil {
		return nil, err
	}
	if len(b) > maxRecord {
		return nil, fmt.Errorf("fast record: %d bytes", len(b))
	}
	order.PutUint32(b, magic)
	order.PutUint32(b[4:], uint32(len(b)-8))
	return b, nil
}

// parse runs the C parser (for tests: cgo cannot be used in them).
func parse(b []byte) (*Record, error) {
	var r C.struct_berth_fast_record
	var errbuf [256]C.char
	p := C.CBytes(b)
	defer C.free(p)
	if C.berth_fast_parse((*C.uint8_t)(p), C.size_t(len(b)), &r, &errbuf[0], C.size_t(len(errbuf))) < 0 {
		return nil, errors.New(C.GoString(&errbuf[0]))
	}
	str := func(s C.struct_berth_fast_str) string {
		return C.GoStringN((*C.char)(unsafe.Pointer(s.p)), C.int(s.len))
	}
	out := &Record{Pid: int(r.pid), StartTime: uint64(r.start), FreezeFile: str(r.freeze), Thawed: str(r.thawed)}
	for i := 0; i < int(r.ndirs); i++ {
		out.Dirs = append(out.Dirs, str(r.dirs[i]))
	}
	return out, nil
}

// command is what the fast path reads of a command line (cmdline.h).
type command struct {
	Kind      int // 1 start, 2 kill, 3 delete
	Root, Log string
	HasRoot   bool
	ID        string
	Sig       int
	Force     bool
	// The checks run() makes on the id and --root.
	ValidID, CleanRoot bool
}

// parseArgs runs the constructor's C parser of argv (for tests); nil when
// it leaves the command to Go.
func parseArgs(args []string) *command {
	argv := make([]*C.char, len(args)+1)
	for i, a := range args {
		argv[i] = C.CString(a)
		defer C.free(unsafe.Pointer(argv[i]))
	}
	var c C.struct_fast_cmd
	if C.berth_fast_parse_args(C.int(len(args)), &argv[0], &c) == 0 {
		return nil
	}
	out := &command{Kind: int(c.kind), ID: C.GoString(c.id), Sig: int(c.sig), Force: c.force != 0,
		HasRoot: c.root != nil, Root: C.GoString(c.root), Log: C.GoString(c.log)}
	out.ValidID = C.berth_fast_valid_id(c.id) != 0
	if c.root != nil {
		out.CleanRoot = C.berth_fast_clean_path(c.root) != 0
	}
	return out
}
