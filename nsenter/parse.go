package nsenter

/*
#cgo CFLAGS: -Wall -I${SRCDIR}/../include
#include <stdlib.h>
#include "bootstrap.h"
*/
import "C"

import (
	"errors"
	"unsafe"
)

// parseFDC runs the constructor's berth_parse_fd on s (cut at a NUL, as
// the environment would).
func parseFDC(s string) int {
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	return int(C.berth_parse_fd(cs))
}

// parseBootstrap runs the constructor's C parser on msg, so tests and the
// fuzzer exercise the exact code init uses.
func parseBootstrap(msg []byte) (*Bootstrap, error) {
	var out C.struct_berth_bootstrap
	var cerr [256]C.char
	var p *C.uint8_t
	if len(msg) > 0 {
		p = (*C.uint8_t)(unsafe.Pointer(&msg[0]))
	}
	if C.berth_parse_bootstrap(p, C.size_t(len(msg)), &out, &cerr[0], C.size_t(len(cerr))) != 0 {
		return nil, errors.New(C.GoString(&cerr[0]))
	}
	b := &Bootstrap{CloneFlags: uint32(out.clone_flags), IDMap: out.idmap != 0, Exec: out.exec != 0}
	for i := 0; i < int(out.njoin); i++ {
		j := out.join[i]
		b.Join = append(b.Join, Join{Flag: uint32(j.flag), Path: string(msg[j.off : j.off+j.len])})
	}
	b.CInit = out.cinit != 0
	for i := 0; i < int(out.nproc); i++ {
		j := out.proc[i]
		b.Proc = append(b.Proc, string(msg[j.off:j.off+j.len]))
	}
	if out.keyring_len > 0 {
		b.Keyring = string(msg[out.keyring_off : out.keyring_off+out.keyring_len])
	}
	b.JoinPidfdFD, b.JoinPidfdFlags = uint32(out.joinfd), uint32(out.joinfd_flags)
	if out.timens_len > 0 {
		b.TimeOffsets = string(msg[out.timens_off : out.timens_off+out.timens_len])
	}
	return b, nil
}
