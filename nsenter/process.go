package nsenter

/*
#cgo CFLAGS: -Wall -I${SRCDIR}/../include
#include <stdlib.h>
#include "process.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Process is everything the last stage of init applies before execve
// (nsenter/process.h). One C implementation serves both paths: exec's init
// runs it from the constructor (Bootstrap.Exec) without starting Go, and
// create's Go init calls ExecProcess.
type Process struct {
	Args, Env []string
	Cwd       string
	UID, GID  uint32
	Groups    []uint32
	Umask     *uint32
	// Caps holds the bounding, effective, inheritable, permitted and
	// ambient sets as bit masks.
	Caps            [5]uint64
	Rlimits         []Rlimit
	NoNewPrivileges bool
	Apparmor        string
	IOPrio          *uint32
	Sched           []byte // struct sched_attr, SchedAttrSize bytes
	Affinity        []byte // CPU mask
	Personality     *uint32
	MemPolicy       *MemPolicy
	LastCap         uint32 // the host's cap_last_cap: bounding drops 0..LastCap
	Preserve        uint32 // fds 3..3+Preserve-1 stay open
	Seccomp         *Seccomp
	Agent           *Agent
	Console         *Console // exec only: make a pty, send its master
	RootFD          *uint32  // exec only: chroot into this directory fd first
	// C init (Bootstrap.CInit) only: the resolved executable, the fd of
	// exec.fifo to wait on, and whether to start a new session first.
	Path   string
	FIFO   *uint32
	Setsid bool
	TTY    string     // pty slave to open as stdio and controlling terminal
	RootID *[2]uint64 // dev and ino of the container's root, checked by init
}

// Rlimit is one setrlimit.
type Rlimit struct {
	Resource   uint32
	Soft, Hard uint64
}

// Seccomp is a compiled filter (struct sock_filter array) and its flags.
type Seccomp struct {
	Flags  uint32
	Notify bool
	BPF    []byte
}

// Agent receives the listener of a notifying filter, with State (JSON).
type Agent struct {
	FD    uint32
	State []byte
}

// MemPolicy is one set_mempolicy: mode with its MPOL_F_* flags, and the
// node mask (a multiple of 8 bytes; empty for no nodes).
type MemPolicy struct {
	Mode  uint32
	Nodes []byte
}

// Console is the console socket and the initial window size (0: unset).
type Console struct {
	FD         uint32
	Rows, Cols uint16
}

// maxNodeMask is the longest node mask: 1024 nodes (the kernel's MAX_NUMNODES).
const maxNodeMask = 128

// SchedAttrSize is the size of the struct sched_attr sent in Sched.
const SchedAttrSize = 56

const (
	procMagic   = 0x43525042 // "BPRC"
	procMaxBody = 8 << 20
	maxInsns    = 4096
	maxCPUMask  = 1024
	maxRlimits  = 16
	maxGroups   = 65536

	pArg = iota - 5
	pEnv
	pCwd
	pUser
	pGroups
	pUmask
	pCaps
	pRlimit
	pNNP
	pApparmor
	pIOPrio
	pSched
	pAffinity
	pPersonality
	pLastCap
	pPreserve
	pSeccomp
	pSeccompAgent
	pConsole
	pRootFD
	pPath
	pFIFO
	pSetsid
	pTTY
	pRootID
	pMemPolicy
)

func (p *Process) validate() error {
	switch {
	case len(p.Args) == 0:
		return errors.New("process.args: must not be empty")
	case !strings.HasPrefix(p.Cwd, "/"):
		return fmt.Errorf("process.cwd %q: not an absolute path", p.Cwd)
	case p.Umask != nil && *p.Umask > 0o777:
		return fmt.Errorf("process.umask %#o: not a mode", *p.Umask)
	case len(p.Groups) > maxGroups:
		return fmt.Errorf("process.user.additionalGids: %d ids, at most %d", len(p.Groups), maxGroups)
	case len(p.Rlimits) > maxRlimits:
		return fmt.Errorf("process.rlimits: %d limits, at most %d", len(p.Rlimits), maxRlimits)
	case p.Sched != nil && (len(p.Sched) != SchedAttrSize || order.Uint32(p.Sched) != SchedAttrSize):
		return fmt.Errorf("nsenter: sched_attr of %d bytes, want %d with that size", len(p.Sched), SchedAttrSize)
	case p.Personality != nil && *p.Personality != 0 && *p.Personality != 8:
		return fmt.Errorf("linux.personality %#x: not PER_LINUX or PER_LINUX32", *p.Personality)
	case p.Seccomp != nil && p.Seccomp.Flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 && !p.Seccomp.Notify:
		return errors.New("linux.seccomp: a listener without notify")
	case p.Affinity != nil && (len(p.Affinity) == 0 || len(p.Affinity)%8 != 0 || len(p.Affinity) > maxCPUMask):
		return fmt.Errorf("nsenter: CPU mask of %d bytes", len(p.Affinity))
	case p.MemPolicy != nil && (len(p.MemPolicy.Nodes)%8 != 0 || len(p.MemPolicy.Nodes) > maxNodeMask):
		return fmt.Errorf("nsenter: node mask of %d bytes", len(p.MemPolicy.Nodes))
	case p.LastCap > 63:
		return fmt.Errorf("nsenter: cap_last_cap %d above 63", p.LastCap)
	case p.Preserve > 1<<20:
		return fmt.Errorf("--preserve-fds %d: too many", p.Preserve)
	case p.Agent != nil && (p.Seccomp == nil || !p.Seccomp.Notify):
		return errors.New("nsenter: seccomp agent without a notifying filter")
	case p.Agent != nil && len(p.Agent.State) == 0:
		return errors.New("nsenter: seccomp agent without a state")
	}
	for _, r := range p.Rlimits {
		if r.Resource >= maxRlimits {
			return fmt.Errorf("process.rlimits: unknown resource %d", r.Resource)
		}
	}
	if s := p.Seccomp; s != nil {
		if len(s.BPF) == 0 || len(s.BPF)%8 != 0 || len(s.BPF)/8 > maxInsns {
			return fmt.Errorf("linux.seccomp: compiled filter of %d bytes is not 1 to %d instructions", len(s.BPF), maxInsns)
		}
	}
	for _, set := range []struct {
		what string
		s    []string
	}{{"process.args", p.Args}, {"process.env", p.Env}, {"process.cwd", []string{p.Cwd}}, {"process.apparmorProfile", []string{p.Apparmor}}, {"executable", []string{p.Path}}, {"process.terminal", []string{p.TTY}}} {
		for _, v := range set.s {
			if strings.IndexByte(v, 0) >= 0 {
				return fmt.Errorf("%s: %q contains a NUL byte", set.what, v)
			}
		}
	}
	return nil
}

// Encode validates p and returns the process message.
func (p *Process) Encode() ([]byte, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	size := hdrLen
	for _, a := range p.Args {
		size += attrHdrLen + len(a) + 1
	}
	for _, e := range p.Env {
		size += attrHdrLen + len(e) + 1
	}
	size += 512 + len(p.Path) + len(p.TTY) + len(p.Cwd) + len(p.Apparmor) + 4*len(p.Groups) + 28*len(p.Rlimits) + len(p.Affinity) + maxNodeMask
	if p.Seccomp != nil {
		size += len(p.Seccomp.BPF)
	}
	if p.Agent != nil {
		size += len(p.Agent.State)
	}
	buf := make([]byte, hdrLen, size)
	order.PutUint32(buf, procMagic)
	attr := func(typ uint16, n int) {
		buf = order.AppendUint16(buf, typ)
		buf = order.AppendUint16(buf, 0)
		buf = order.AppendUint32(buf, uint32(n))
	}
	str := func(typ uint16, s string) {
		attr(typ, len(s)+1)
		buf = append(buf, s...)
		buf = append(buf, 0)
	}
	u32 := func(typ uint16, v uint32) {
		attr(typ, 4)
		buf = order.AppendUint32(buf, v)
	}
	for _, a := range p.Args {
		str(pArg, a)
	}
	for _, e := range p.Env {
		str(pEnv, e)
	}
	str(pCwd, p.Cwd)
	attr(pUser, 8)
	buf = order.AppendUint32(buf, p.UID)
	buf = order.AppendUint32(buf, p.GID)
	attr(pGroups, 4*len(p.Groups))
	for _, g := range p.Groups {
		buf = order.AppendUint32(buf, g)
	}
	if p.Umask != nil {
		u32(pUmask, *p.Umask)
	}
	attr(pCaps, 40)
	for _, m := range p.Caps {
		buf = order.AppendUint64(buf, m)
	}
	for _, r := range p.Rlimits {
		attr(pRlimit, 20)
		buf = order.AppendUint32(buf, r.Resource)
		buf = order.AppendUint64(buf, r.Soft)
		buf = order.AppendUint64(buf, r.Hard)
	}
	if p.NoNewPrivileges {
		attr(pNNP, 0)
	}
	if p.Apparmor != "" {
		str(pApparmor, p.Apparmor)
	}
	if p.IOPrio != nil {
		u32(pIOPrio, *p.IOPrio)
	}
	if p.Sched != nil {
		attr(pSched, len(p.Sched))
		buf = append(buf, p.Sched...)
	}
	if p.Affinity != nil {
		attr(pAffinity, len(p.Affinity))
		buf = append(buf, p.Affinity...)
	}
	if p.Personality != nil {
		u32(pPersonality, *p.Personality)
	}
	if mp := p.MemPolicy; mp != nil {
		attr(pMemPolicy, 4+len(mp.Nodes))
		buf = order.AppendUint32(buf, mp.Mode)
		buf = append(buf, mp.Nodes...)
	}
	u32(pLastCap, p.LastCap)
	u32(pPreserve, p.Preserve)
	if s := p.Seccomp; s != nil {
		attr(pSeccomp, 8+len(s.BPF))
		buf = order.AppendUint32(buf, s.Flags)
		notify := uint32(0)
		if s.Notify {
			notify = 1
		}
		buf = order.AppendUint32(buf, notify)
		buf = append(buf, s.BPF...)
	}
	if a := p.Agent; a != nil {
		attr(pSeccompAgent, 4+len(a.State))
		buf = order.AppendUint32(buf, a.FD)
		buf = append(buf, a.State...)
	}
	if c := p.Console; c != nil {
		attr(pConsole, 8)
		buf = order.AppendUint32(buf, c.FD)
		buf = order.AppendUint16(buf, c.Rows)
		buf = order.AppendUint16(buf, c.Cols)
	}
	if p.RootFD != nil {
		u32(pRootFD, *p.RootFD)
	}
	if p.Path != "" {
		str(pPath, p.Path)
	}
	if p.FIFO != nil {
		u32(pFIFO, *p.FIFO)
	}
	if p.Setsid {
		attr(pSetsid, 0)
	}
	if p.TTY != "" {
		str(pTTY, p.TTY)
	}
	if p.RootID != nil {
		attr(pRootID, 16)
		buf = order.AppendUint64(buf, p.RootID[0])
		buf = order.AppendUint64(buf, p.RootID[1])
	}
	if len(buf)-hdrLen > procMaxBody {
		return nil, fmt.Errorf("process: %d bytes of args, env and settings exceed %d", len(buf)-hdrLen, procMaxBody)
	}
	order.PutUint32(buf[4:], uint32(len(buf)-hdrLen))
	return buf, nil
}

// LoadSeccomp loads msg's seccomp filter on every thread of the calling
// process (and sends its listener to the agent) now rather than just
// before execve; the message encoded without the filter then does the rest.
func LoadSeccomp(msg []byte) error {
	cmsg := C.CBytes(msg)
	defer C.free(cmsg)
	var cerr [8192]C.char
	if C.berth_load_process_seccomp((*C.uint8_t)(cmsg), C.size_t(len(msg)), &cerr[0], C.size_t(len(cerr))) != 0 {
		return errors.New(C.GoString(&cerr[0]))
	}
	return nil
}

// ExecProcess applies msg (from Encode) to the calling thread, which must
// be locked to it, and execs path. proc is a verified procfs root (see
// rootfs.OpenProcRoot) through which its own /proc entries are reached,
// or -1. It returns only on failure.
func ExecProcess(msg []byte, path string, proc int) error {
	cmsg := C.CBytes(msg)
	cpath := C.CString(path)
	var cerr [8192]C.char
	C.berth_exec_process((*C.uint8_t)(cmsg), C.size_t(len(msg)), cpath, C.int(proc), &cerr[0], C.size_t(len(cerr)))
	C.free(cmsg)
	C.free(unsafe.Pointer(cpath))
	return errors.New(C.GoString(&cerr[0]))
}

// LookPath resolves args[0] in the current root with the PATH in env (the
// last PATH= wins, as in the process's own environment), exactly as exec's
// C stage does.
func LookPath(name string, env []string) (string, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var cpathenv *C.char
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			if cpathenv != nil {
				C.free(unsafe.Pointer(cpathenv))
			}
			cpathenv = C.CString(v)
		}
	}
	if cpathenv != nil {
		defer C.free(unsafe.Pointer(cpathenv))
	}
	var out [4096]C.char
	var cerr [8192]C.char
	if C.berth_lookpath(cname, cpathenv, &out[0], C.size_t(len(out)), &cerr[0], C.size_t(len(cerr))) != 0 {
		return "", errors.New(C.GoString(&cerr[0]))
	}
	return C.GoString(&out[0]), nil
}

// HomeDir runs the C stage's HOME lookup on the passwd file at path: ""
// for no entry. Go init uses it for the startContainer hooks' HOME.
func HomeDir(path string, uid uint32) string {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	home := C.berth_home_dir(cpath, C.uint32_t(uid))
	if home == nil {
		return ""
	}
	defer C.free(unsafe.Pointer(home))
	return C.GoString(home)
}

// parseProcess runs the C parser on msg and rebuilds a Process from what
// it recorded, so tests and the fuzzer check the code init uses.
func parseProcess(msg []byte) (*Process, error) {
	var out C.struct_berth_process
	var cerr [256]C.char
	var ptr *C.uint8_t
	if len(msg) > 0 {
		ptr = (*C.uint8_t)(unsafe.Pointer(&msg[0]))
	}
	if C.berth_parse_process(ptr, C.size_t(len(msg)), &out, &cerr[0], C.size_t(len(cerr))) != 0 {
		return nil, errors.New(C.GoString(&cerr[0]))
	}
	has := func(a int) bool { return out.has>>a&1 != 0 }
	span := func(s C.struct_berth_span) []byte { return msg[s.off : s.off+s.len] }
	strs := func(typ int, n C.uint32_t) []string {
		if n == 0 {
			return nil
		}
		v := make([]C.struct_berth_span, n)
		C.berth_process_strings(ptr, C.size_t(len(msg)), C.uint16_t(typ), &v[0], n)
		s := make([]string, n)
		for i := range v {
			s[i] = string(span(v[i]))
		}
		return s
	}
	p := &Process{
		Args: strs(pArg, out.nargs), Env: strs(pEnv, out.nenv),
		Cwd: string(span(out.cwd)), UID: uint32(out.uid), GID: uint32(out.gid),
		NoNewPrivileges: has(pNNP), LastCap: uint32(out.lastcap), Preserve: uint32(out.preserve),
	}
	for i := 0; i < int(out.groups.len)/4; i++ {
		p.Groups = append(p.Groups, order.Uint32(msg[int(out.groups.off)+4*i:]))
	}
	for i := range p.Caps {
		p.Caps[i] = uint64(out.caps[i])
	}
	for i := 0; i < int(out.nrlimits); i++ {
		r := out.rlimits[i]
		p.Rlimits = append(p.Rlimits, Rlimit{uint32(r.resource), uint64(r.soft), uint64(r.hard)})
	}
	u32 := func(a int, v C.uint32_t) *uint32 {
		if !has(a) {
			return nil
		}
		x := uint32(v)
		return &x
	}
	p.Umask, p.IOPrio, p.Personality = u32(pUmask, out.umask), u32(pIOPrio, out.ioprio), u32(pPersonality, out.personality)
	p.RootFD = u32(pRootFD, out.root_fd)
	p.FIFO = u32(pFIFO, out.fifo_fd)
	p.Setsid = has(pSetsid)
	if has(pPath) {
		p.Path = string(span(out.path))
	}
	if has(pTTY) {
		p.TTY = string(span(out.tty))
	}
	if has(pRootID) {
		p.RootID = &[2]uint64{uint64(out.root_dev), uint64(out.root_ino)}
	}
	if has(pApparmor) {
		p.Apparmor = string(span(out.apparmor))
	}
	if has(pSched) {
		p.Sched = C.GoBytes(unsafe.Pointer(&out.sched[0]), SchedAttrSize)
	}
	if has(pMemPolicy) {
		p.MemPolicy = &MemPolicy{Mode: uint32(out.mempolicy)}
		if out.nodes.len > 0 {
			p.MemPolicy.Nodes = append([]byte(nil), msg[out.nodes.off:out.nodes.off+out.nodes.len]...)
		}
	}
	if has(pAffinity) {
		p.Affinity = append([]byte(nil), msg[out.affinity.off:out.affinity.off+out.affinity.len]...)
	}
	if has(pSeccomp) {
		p.Seccomp = &Seccomp{Flags: uint32(out.seccomp_flags), Notify: out.seccomp_notify != 0,
			BPF: append([]byte(nil), msg[out.seccomp_bpf.off:out.seccomp_bpf.off+out.seccomp_bpf.len]...)}
	}
	if has(pSeccompAgent) {
		p.Agent = &Agent{FD: uint32(out.agent_fd), State: append([]byte(nil), msg[out.agent_state.off:out.agent_state.off+out.agent_state.len]...)}
	}
	if has(pConsole) {
		p.Console = &Console{FD: uint32(out.console_fd), Rows: uint16(out.console_rows), Cols: uint16(out.console_cols)}
	}
	return p, nil
}
