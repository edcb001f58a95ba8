package devfilter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The bpf(2) commands berth needs, called directly: cilium/ebpf's
// program and link packages would add about half a millisecond of
// package initialisation (feature tables, BTF, ELF) to every berth
// process, device rules or not. The tests use them to check this code.

// bpf_attr layouts (include/uapi/linux/bpf.h), each a prefix of the
// union: the kernel zero-fills what a shorter attr leaves out. Its u64
// pointer fields are unsafe.Pointer here, so that the buffers they name
// stay alive and are tracked if a stack moves; that needs 64-bit pointers.
var _ [unsafe.Sizeof(uintptr(0)) - 8]byte

type progLoadAttr struct {
	progType    uint32
	insnCnt     uint32
	insns       unsafe.Pointer
	license     unsafe.Pointer
	logLevel    uint32
	logSize     uint32
	logBuf      unsafe.Pointer
	kernVersion uint32
	progFlags   uint32
	progName    [16]byte
}

type attachAttr struct {
	targetFd     uint32
	attachBpfFd  uint32
	attachType   uint32
	attachFlags  uint32
	replaceBpfFd uint32
}

type queryAttr struct {
	targetFd    uint32
	attachType  uint32
	queryFlags  uint32
	attachFlags uint32
	progIDs     unsafe.Pointer
	progCnt     uint32
	_           uint32
}

type getFdByIDAttr struct {
	id, nextID, openFlags uint32
}

type objInfoAttr struct {
	bpfFd   uint32
	infoLen uint32
	info    unsafe.Pointer
}

// struct bpf_prog_info up to its name: type, id at 4, name at 64.
const (
	infoIDOff   = 4
	infoNameOff = 64
	infoLen     = 80
	// BPF_CGROUP_MAX_PROGS: the most programs one cgroup and type hold.
	maxProgs = 64
)

// bpf retries EAGAIN, a bounded number of times: the verifier gives up
// with it when a signal is pending, and Go preempts with SIGURG.
func bpf(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	for try := 0; ; try++ {
		r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
		if errno == 0 {
			return int(r), nil
		}
		if errno != unix.EAGAIN || try == 16 {
			return -1, errno
		}
	}
}

// loadProgram loads prog (from encode) as a cgroup device program named
// name. When the verifier refuses it, the load is repeated with a log,
// whose last line goes into the error.
func loadProgram(name string, buf []byte) (int, error) {
	if len(buf) == 0 || len(buf)%insnSize != 0 {
		return -1, fmt.Errorf("BPF_PROG_LOAD: program of %d bytes", len(buf))
	}
	license := []byte("Apache-2.0\x00")
	attr := progLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(buf) / insnSize),
		insns:    unsafe.Pointer(&buf[0]),
		license:  unsafe.Pointer(&license[0]),
	}
	copy(attr.progName[:len(attr.progName)-1], name)
	fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EACCES) {
		log := make([]byte, 64<<10)
		attr.logLevel, attr.logSize = 1, uint32(len(log))
		attr.logBuf = unsafe.Pointer(&log[0])
		if _, lerr := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); lerr != nil {
			if l := lastLine(log); l != "" {
				err = fmt.Errorf("%w (verifier: %s)", err, l)
			}
		}
	}
	if err != nil {
		return -1, fmt.Errorf("BPF_PROG_LOAD: %w", err)
	}
	return fd, nil
}

func lastLine(log []byte) string {
	s := strings.TrimRight(unix.ByteSliceToString(log), "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}

func attach(cgroupFd, progFd int) error {
	attr := attachAttr{targetFd: uint32(cgroupFd), attachBpfFd: uint32(progFd),
		attachType: unix.BPF_CGROUP_DEVICE, attachFlags: unix.BPF_F_ALLOW_MULTI}
	if _, err := bpf(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		return fmt.Errorf("BPF_PROG_ATTACH: %w", err)
	}
	return nil
}

func detach(cgroupFd, progFd int) error {
	attr := attachAttr{targetFd: uint32(cgroupFd), attachBpfFd: uint32(progFd), attachType: unix.BPF_CGROUP_DEVICE}
	if _, err := bpf(unix.BPF_PROG_DETACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		return fmt.Errorf("BPF_PROG_DETACH: %w", err)
	}
	return nil
}

// queryIDs lists the ids of the device programs attached directly to
// the cgroup (not those inherited from its ancestors).
func queryIDs(cgroupFd int) ([]uint32, error) {
	ids := make([]uint32, maxProgs)
	attr := queryAttr{targetFd: uint32(cgroupFd), attachType: unix.BPF_CGROUP_DEVICE,
		progIDs: unsafe.Pointer(&ids[0]), progCnt: maxProgs}
	_, err := bpf(unix.BPF_PROG_QUERY, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		return nil, fmt.Errorf("BPF_PROG_QUERY: %w", err)
	}
	return ids[:min(attr.progCnt, maxProgs)], nil
}

func progFdByID(id uint32) (int, error) {
	attr := getFdByIDAttr{id: id}
	fd, err := bpf(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		return -1, fmt.Errorf("BPF_PROG_GET_FD_BY_ID %d: %w", id, err)
	}
	return fd, nil
}

// progInfo returns a loaded program's id and name.
func progInfo(fd int) (uint32, string, error) {
	var info [infoLen]byte
	attr := objInfoAttr{bpfFd: uint32(fd), infoLen: infoLen, info: unsafe.Pointer(&info[0])}
	_, err := bpf(unix.BPF_OBJ_GET_INFO_BY_FD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		return 0, "", fmt.Errorf("BPF_OBJ_GET_INFO_BY_FD: %w", err)
	}
	id := binary.NativeEndian.Uint32(info[infoIDOff:])
	return id, unix.ByteSliceToString(info[infoNameOff:]), nil
}
