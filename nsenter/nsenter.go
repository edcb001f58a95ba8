// Package nsenter joins and creates the container's namespaces in `berth
// init` before the Go runtime starts (a C constructor, nsexec.c), and holds
// the parent's side of that handshake. The wire format is described in
// docs/ARCHITECTURE.md ("nsenter wire format").
//
// Importing this package links the constructor into the binary. It does
// nothing unless EnvInitPipe is set.
package nsenter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// EnvInitPipe names the environment variable holding the fd number of the
// child's end of the init socketpair. The constructor leaves it set; Go init
// reads and unsets it.
const EnvInitPipe = "_BERTH_INITPIPE"

// InitComm is the command name (/proc/<pid>/comm) a container's init takes
// before it reports ready and keeps until it execs the container's process
// (mirrored in bootstrap.h). Any other name means init has exec'd.
const InitComm = "berth:init"

// Wire constants, mirrored in bootstrap.h.
const (
	magic       = 0x48545242 // "BRTH"
	hdrLen      = 8
	attrHdrLen  = 8
	maxBody     = 65536
	pathMax     = 4096
	maxErrorMsg = 65536

	attrCloneFlags = 1
	attrJoin       = 2
	attrIDMap      = 3
	attrTimeNS     = 4
	attrExec       = 5
	attrCInit      = 6
	attrProc       = 7
	attrKeyring    = 8
	attrJoinPidfd  = 9
	maxProc        = 8
	nsFDs          = 5

	msgReady = 1
	msgError = 2
	msgFinal = 3
	msgAck   = 2

	msgMounts    = 4
	msgInitReady = 5
)

// nsMask holds every CLONE_NEW* bit berth knows.
const nsMask = unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWNET | unix.CLONE_NEWPID | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME

// The C side writes host byte order (little-endian on every supported arch).
var order = binary.NativeEndian

// ErrInitExited is returned by Handshake when init went away before FINAL
// without saying why.
var ErrInitExited = errors.New("init exited during namespace setup")

// ChildError is an ERROR record sent by the constructor; init exits 1 after it.
type ChildError struct{ Msg string }

func (e *ChildError) Error() string { return "namespace setup: " + e.Msg }

// Join is a namespace to join by path.
type Join struct {
	Flag uint32 // exactly one unix.CLONE_NEW*
	Path string
}

// Bootstrap tells the constructor what to do.
type Bootstrap struct {
	CloneFlags  uint32 // namespaces to create
	Join        []Join // joined in order, except that a user namespace goes first
	IDMap       bool   // parent writes uid/gid maps after CLONE_NEWUSER
	TimeOffsets string // content for /proc/self/timens_offsets (needs CLONE_NEWTIME)
	// Exec: after FINAL the constructor reads a Process message and execs
	// it itself; the Go runtime never starts in that init.
	Exec bool
	// CInit: create's init stays in C: after FINAL it joins Keyring (if
	// set), makes one detached procfs per Proc entry (mount data) and
	// sends them (ReadMounts), reads a Process message, reports ready
	// (WaitInitReady) and waits on exec.fifo. berth sets the rootfs up.
	CInit   bool
	Proc    []string
	Keyring string
	// JoinPidfd: the namespaces in JoinPidfdFlags are joined in one
	// setns(2) through the pidfd init gets at fd JoinPidfdFD, which the
	// parent checked to be the container's init (not a reused pid). Not
	// with Join.
	JoinPidfdFD, JoinPidfdFlags uint32
}

var nsTypes = map[string]uint32{
	"pid":     unix.CLONE_NEWPID,
	"network": unix.CLONE_NEWNET,
	"mount":   unix.CLONE_NEWNS,
	"ipc":     unix.CLONE_NEWIPC,
	"uts":     unix.CLONE_NEWUTS,
	"user":    unix.CLONE_NEWUSER,
	"cgroup":  unix.CLONE_NEWCGROUP,
	"time":    unix.CLONE_NEWTIME,
}

// NamespaceFlag maps an OCI namespace type ("network", ...) to its CLONE_NEW* flag.
func NamespaceFlag(t string) (uint32, error) {
	f, ok := nsTypes[t]
	if !ok {
		return 0, fmt.Errorf("nsenter: unknown namespace type %q", t)
	}
	return f, nil
}

// NamespaceNames renders CLONE_NEW* flags as OCI namespace types, for
// errors ("mount|network|pid").
func NamespaceNames(flags uint32) string {
	var names []string
	for t, f := range nsTypes {
		if flags&f != 0 {
			names = append(names, t)
		}
	}
	slices.Sort(names)
	return strings.Join(names, "|")
}

// NsFile maps an OCI namespace type to its file name under /proc/<pid>/ns.
func NsFile(t string) string {
	switch t {
	case "network":
		return "net"
	case "mount":
		return "mnt"
	}
	return t
}

// nsName names one CLONE_NEW* bit as /proc/<pid>/ns does, "" if not exactly one.
func nsName(flag uint32) string {
	switch flag {
	case unix.CLONE_NEWUSER:
		return "user"
	case unix.CLONE_NEWNS:
		return "mnt"
	case unix.CLONE_NEWUTS:
		return "uts"
	case unix.CLONE_NEWIPC:
		return "ipc"
	case unix.CLONE_NEWNET:
		return "net"
	case unix.CLONE_NEWPID:
		return "pid"
	case unix.CLONE_NEWCGROUP:
		return "cgroup"
	case unix.CLONE_NEWTIME:
		return "time"
	}
	return ""
}

// validate applies the same rules as berth_parse_bootstrap, so that
// whatever Encode produces the constructor accepts.
func (b *Bootstrap) validate() error {
	if b.CloneFlags&^nsMask != 0 {
		return fmt.Errorf("nsenter: clone flags 0x%x have non-namespace bits", b.CloneFlags)
	}
	var joined uint32
	for _, j := range b.Join {
		name := nsName(j.Flag)
		switch {
		case name == "":
			return fmt.Errorf("nsenter: join %q: flag 0x%x is not a single namespace", j.Path, j.Flag)
		case joined&j.Flag != 0:
			return fmt.Errorf("nsenter: join %s %q: namespace joined twice", name, j.Path)
		case b.CloneFlags&j.Flag != 0:
			return fmt.Errorf("nsenter: join %s %q: namespace also created", name, j.Path)
		case j.Path == "":
			return fmt.Errorf("nsenter: join %s: empty path", name)
		case len(j.Path) >= pathMax:
			return fmt.Errorf("nsenter: join %s: path of %d bytes is too long", name, len(j.Path))
		case strings.IndexByte(j.Path, 0) >= 0:
			return fmt.Errorf("nsenter: join %s %q: path contains NUL", name, j.Path)
		}
		joined |= j.Flag
	}
	if b.JoinPidfdFlags&^nsMask != 0 {
		return fmt.Errorf("nsenter: pidfd join flags 0x%x have non-namespace bits", b.JoinPidfdFlags)
	}
	if b.JoinPidfdFlags != 0 && len(b.Join) > 0 {
		return errors.New("nsenter: namespaces joined both by path and by pidfd")
	}
	if b.JoinPidfdFlags&b.CloneFlags != 0 {
		return fmt.Errorf("nsenter: pidfd join of %s: namespaces also created", NamespaceNames(b.JoinPidfdFlags&b.CloneFlags))
	}
	if b.JoinPidfdFD > 1<<31-1 {
		return fmt.Errorf("nsenter: pidfd join: fd %d", b.JoinPidfdFD)
	}
	if b.JoinPidfdFD != 0 && b.JoinPidfdFlags == 0 {
		return errors.New("nsenter: pidfd join without namespaces")
	}
	if b.IDMap && b.CloneFlags&unix.CLONE_NEWUSER == 0 {
		return errors.New("nsenter: id maps without a new user namespace")
	}
	if b.Exec && b.CInit {
		return errors.New("nsenter: both exec and C init")
	}
	if (len(b.Proc) > 0 || b.Keyring != "") && !b.CInit {
		return errors.New("nsenter: proc mounts or keyring without C init")
	}
	if len(b.Proc) > maxProc {
		return fmt.Errorf("nsenter: %d proc mounts, at most %d", len(b.Proc), maxProc)
	}
	for _, d := range b.Proc {
		if len(d) >= pathMax || strings.IndexByte(d, 0) >= 0 {
			return fmt.Errorf("nsenter: proc mount data %q is too long or contains NUL", d)
		}
	}
	if len(b.Keyring) >= pathMax || strings.IndexByte(b.Keyring, 0) >= 0 {
		return fmt.Errorf("nsenter: keyring name %q", b.Keyring)
	}
	if b.TimeOffsets != "" {
		if b.CloneFlags&unix.CLONE_NEWTIME == 0 {
			return errors.New("nsenter: time offsets without a new time namespace")
		}
		if strings.IndexByte(b.TimeOffsets, 0) >= 0 {
			return errors.New("nsenter: time offsets contain NUL")
		}
	}
	return nil
}

// Encode validates b and returns the bootstrap message.
func (b *Bootstrap) Encode() ([]byte, error) {
	if err := b.validate(); err != nil {
		return nil, err
	}
	size := hdrLen
	if b.CloneFlags != 0 {
		size += attrHdrLen + 4
	}
	for _, j := range b.Join {
		size += attrHdrLen + 4 + len(j.Path)
	}
	if b.IDMap {
		size += attrHdrLen + 1
	}
	if b.TimeOffsets != "" {
		size += attrHdrLen + len(b.TimeOffsets)
	}
	if b.Exec || b.CInit {
		size += attrHdrLen
	}
	for _, d := range b.Proc {
		size += attrHdrLen + len(d)
	}
	if b.Keyring != "" {
		size += attrHdrLen + len(b.Keyring)
	}
	if b.JoinPidfdFlags != 0 {
		size += attrHdrLen + 8
	}
	if size-hdrLen > maxBody {
		return nil, fmt.Errorf("nsenter: bootstrap of %d bytes exceeds %d", size-hdrLen, maxBody)
	}

	buf := make([]byte, hdrLen, size)
	order.PutUint32(buf, magic)
	order.PutUint32(buf[4:], uint32(size-hdrLen))
	attr := func(typ uint16, n int) {
		buf = order.AppendUint16(buf, typ)
		buf = order.AppendUint16(buf, 0)
		buf = order.AppendUint32(buf, uint32(n))
	}
	if b.CloneFlags != 0 {
		attr(attrCloneFlags, 4)
		buf = order.AppendUint32(buf, b.CloneFlags)
	}
	for _, j := range b.Join {
		attr(attrJoin, 4+len(j.Path))
		buf = order.AppendUint32(buf, j.Flag)
		buf = append(buf, j.Path...)
	}
	if b.IDMap {
		attr(attrIDMap, 1)
		buf = append(buf, 1)
	}
	if b.TimeOffsets != "" {
		attr(attrTimeNS, len(b.TimeOffsets))
		buf = append(buf, b.TimeOffsets...)
	}
	if b.Exec {
		attr(attrExec, 0)
	}
	if b.CInit {
		attr(attrCInit, 0)
	}
	for _, d := range b.Proc {
		attr(attrProc, len(d))
		buf = append(buf, d...)
	}
	if b.Keyring != "" {
		attr(attrKeyring, len(b.Keyring))
		buf = append(buf, b.Keyring...)
	}
	if b.JoinPidfdFlags != 0 {
		attr(attrJoinPidfd, 8)
		buf = order.AppendUint32(buf, b.JoinPidfdFD)
		buf = order.AppendUint32(buf, b.JoinPidfdFlags)
	}
	return buf, nil
}

// Handshake runs the parent's side of the namespace setup on conn (the
// parent's end of the init socketpair; the parent must have closed its copy
// of the child's end). It sends b (nil: SendBootstrap did), answers READY
// by calling onReady(pid) (may be nil) and then ACK, and returns the pid
// from FINAL: the process that runs Go init. When a pid or time namespace
// is involved that is a grandchild, and the direct child exits 0 by itself
// (the caller reaps it). On error the caller must kill and reap the child.
func Handshake(conn *os.File, b *Bootstrap, onReady func(pid int) error) (int, error) {
	var msg []byte
	if b != nil {
		var err error
		if msg, err = b.Encode(); err != nil {
			return 0, err
		}
	}
	return handshake(conn, msg, onReady)
}

// SendBootstrap writes b to conn ahead of Handshake when it surely fits in
// the socket's buffer, so that it can go before the child exists and the
// child finds it as soon as it looks. false: too big, Handshake sends it.
func SendBootstrap(conn *os.File, b *Bootstrap) (bool, error) {
	msg, err := b.Encode()
	if err != nil {
		return false, err
	}
	// Far below any AF_UNIX send buffer (wmem_default is 208 KiB).
	if len(msg) > 16<<10 {
		return false, nil
	}
	if _, err := conn.Write(msg); err != nil {
		return false, writeErr("send bootstrap", err)
	}
	return true, nil
}

func handshake(conn *os.File, msg []byte, onReady func(pid int) error) (int, error) {
	if msg != nil {
		if _, err := conn.Write(msg); err != nil {
			return 0, writeErr("send bootstrap", err)
		}
	}
	ready := false
	var rec [8]byte
	for {
		if _, err := io.ReadFull(conn, rec[:]); err != nil {
			return 0, readErr("read from init", err)
		}
		typ, val := order.Uint32(rec[:]), int32(order.Uint32(rec[4:]))
		switch typ {
		case msgReady:
			if ready {
				return 0, errors.New("nsenter: init sent READY twice")
			}
			if val <= 0 {
				return 0, fmt.Errorf("nsenter: READY with bad pid %d", val)
			}
			ready = true
			if onReady != nil {
				if err := onReady(int(val)); err != nil {
					// Without ACK init would wait forever; EOF makes it exit 1.
					shutdownWrite(conn)
					return 0, err
				}
			}
			var ack [4]byte
			order.PutUint32(ack[:], msgAck)
			if _, err := conn.Write(ack[:]); err != nil {
				return 0, writeErr("send ACK", err)
			}
		case msgFinal:
			if !ready {
				return 0, errors.New("nsenter: init sent FINAL before READY")
			}
			if val <= 0 {
				return 0, fmt.Errorf("nsenter: FINAL with bad pid %d", val)
			}
			return int(val), nil
		case msgError:
			return 0, readError(conn, uint32(val))
		default:
			return 0, fmt.Errorf("nsenter: unknown message type %d from init", typ)
		}
	}
}

// NSFDFlags are the namespaces of the fds a MOUNTS record may carry after
// the procfs mounts, in the order init sends them (nsexec.c run_cinit's
// name list: keep the two alike).
var NSFDFlags = [nsFDs]int{unix.CLONE_NEWNS, unix.CLONE_NEWNET, unix.CLONE_NEWUTS, unix.CLONE_NEWIPC, unix.CLONE_NEWCGROUP}

// ReadMounts reads C init's MOUNTS record: one detached procfs fd per
// Bootstrap.Proc entry, in order (close-on-exec); then, from an init that
// found its parent without CAP_SYS_PTRACE, one fd per NSFDFlags entry.
func ReadMounts(conn *os.File) ([]int, error) {
	var rec [8]byte
	oob := make([]byte, unix.CmsgSpace(4*(maxProc+nsFDs)))
	n, oobn, _, _, err := unix.Recvmsg(int(conn.Fd()), rec[:], oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, readErr("read MOUNTS", err)
	}
	var fds []int
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return nil, fmt.Errorf("nsenter: MOUNTS control message: %w", err)
		}
		for i := range msgs {
			f, err := unix.ParseUnixRights(&msgs[i])
			if err != nil {
				return nil, fmt.Errorf("nsenter: MOUNTS control message: %w", err)
			}
			fds = append(fds, f...)
		}
	}
	closeAll := func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
	if n < len(rec) {
		if _, err := io.ReadFull(conn, rec[n:]); err != nil {
			closeAll()
			return nil, readErr("read MOUNTS", err)
		}
	}
	typ, val := order.Uint32(rec[:]), order.Uint32(rec[4:])
	switch {
	case typ == msgError:
		closeAll()
		return nil, readError(conn, val)
	case typ != msgMounts:
		closeAll()
		return nil, fmt.Errorf("nsenter: got message type %d, want MOUNTS", typ)
	case int(val) != len(fds):
		closeAll()
		return nil, fmt.Errorf("nsenter: MOUNTS says %d fds, %d came", val, len(fds))
	}
	return fds, nil
}

// WaitInitReady reads C init's INITREADY record, sent once it read the
// process message and is about to wait on exec.fifo.
func WaitInitReady(conn *os.File) error {
	var rec [8]byte
	if _, err := io.ReadFull(conn, rec[:]); err != nil {
		return readErr("wait for init", err)
	}
	switch typ := order.Uint32(rec[:]); typ {
	case msgInitReady:
		return nil
	case msgError:
		return readError(conn, order.Uint32(rec[4:]))
	default:
		return fmt.Errorf("nsenter: got message type %d, want INITREADY", typ)
	}
}

// readError reads the text of an ERROR record of n bytes.
func readError(conn *os.File, n uint32) error {
	if n > maxErrorMsg {
		return fmt.Errorf("nsenter: ERROR message of %d bytes exceeds %d", n, maxErrorMsg)
	}
	text := make([]byte, n)
	if _, err := io.ReadFull(conn, text); err != nil {
		return readErr("read ERROR message", err)
	}
	return &ChildError{Msg: string(text)}
}

func readErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		return fmt.Errorf("nsenter: %s: %w", what, ErrInitExited)
	}
	return fmt.Errorf("nsenter: %s: %w", what, err)
}

func writeErr(what string, err error) error {
	if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
		return fmt.Errorf("nsenter: %s: %w", what, ErrInitExited)
	}
	return fmt.Errorf("nsenter: %s: %w", what, err)
}

func shutdownWrite(conn *os.File) {
	// SyscallConn, unlike Fd, leaves the fd in non-blocking mode.
	if rc, err := conn.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _ = unix.Shutdown(int(fd), unix.SHUT_WR) })
	}
}
