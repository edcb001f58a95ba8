// Package sigfwd lets foreground `run` and `exec` forward every signal to
// the container without os/signal's cost: each signal os/signal catches
// costs a round trip to the Go runtime's signal thread (~30 µs here, ~2 ms
// for all of them, on the path of every run).
//
// A C constructor (sigfwd.c) blocks, before the Go runtime starts, the
// signals Go ignores unless asked (USR1, USR2, ALRM, CONT, XCPU, XFSZ,
// VTALRM, WINCH, IO, PWR and the real-time ones) and the terminal stops
// (TSTP, TTIN, TTOU). Every Go thread inherits that mask, so they stay
// pending on the process until Open's signalfd reads them: none is lost,
// none costs anything before it is sent. The ones Go unblocks in every
// thread (HUP, INT, TERM, QUIT, ...) are still caught with os/signal.
//
// Children must not inherit the held mask: Env gives berth init the
// original (its constructor puts it back), and Start runs other programs
// (hooks, uid map helpers) through berth's binary, which puts it back and
// execs them. _BERTH_SIGFWD=off turns holding off.
package sigfwd

/*
#cgo CFLAGS: -Wall -I${SRCDIR}/../../include
#include <stdint.h>
#include <stdlib.h>
extern int berth_sigs_held;
int berth_command_index(int argc, char **argv);
extern uint64_t berth_sigs_orig, berth_sigs_set;
*/
import "C"

import (
	"encoding/binary"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Held reports whether the constructor holds the forwarded signals.
func Held() bool { return C.berth_sigs_held != 0 }

// Env is the environment that gives a child of berth back the mask berth
// was started with (nil when nothing is held).
func Env() []string {
	if !Held() {
		return nil
	}
	return []string{"_BERTH_SIGMASK=" + strconv.FormatUint(uint64(C.berth_sigs_orig), 16)}
}

// Open returns a signalfd for the held signals (nil, nil when nothing is
// held). It is non-blocking: reads wait in Go's poller.
func Open() (*os.File, error) {
	if !Held() {
		return nil, nil
	}
	var set unix.Sigset_t
	set.Val[0] = uint64(C.berth_sigs_set)
	fd, err := unix.Signalfd(-1, &set, unix.SFD_NONBLOCK|unix.SFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("signalfd", err)
	}
	return os.NewFile(uintptr(fd), "signalfd"), nil
}

// Relay sends each signal read from f (from Open) to c, until f is closed.
func Relay(f *os.File, c chan<- os.Signal) {
	const size = 128 // struct signalfd_siginfo
	buf := make([]byte, 16*size)
	for {
		n, err := f.Read(buf)
		if err != nil {
			return
		}
		for i := 0; i+size <= n; i += size {
			c <- unix.Signal(binary.NativeEndian.Uint32(buf[i:]))
		}
	}
}

// Start starts cmd (built by exec.Command) with the original mask. While
// signals are held it runs cmd through berth's own binary, whose
// constructor restores the mask and execs cmd.Path; an exec failure comes
// back as os/exec would report it ("fork/exec PATH: ..."), with the
// trampoline reaped.
func Start(cmd *exec.Cmd) error {
	if !Held() || cmd.Err != nil {
		return cmd.Start()
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	path := cmd.Path
	if len(cmd.Args) == 0 {
		cmd.Args = []string{path}
	}
	cmd.Path = "/proc/self/exe"
	cmd.Env = append(append(cmd.Environ(), Env()...),
		"_BERTH_EXEC="+path, "_BERTH_EXECERR="+strconv.Itoa(3+len(cmd.ExtraFiles)))
	cmd.ExtraFiles = append(cmd.ExtraFiles, w)
	err = cmd.Start()
	cmd.ExtraFiles = cmd.ExtraFiles[:len(cmd.ExtraFiles)-1]
	w.Close()
	if err != nil {
		return err
	}
	var errno [4]byte
	if n, _ := r.Read(errno[:]); n == len(errno) {
		cmd.Wait()
		return &fs.PathError{Op: "fork/exec", Path: path, Err: syscall.Errno(binary.NativeEndian.Uint32(errno[:]))}
	}
	return nil
}

// commandIndex runs the constructor's scan of argv for the command word
// (for tests: cgo cannot be used in them).
func commandIndex(args []string) int {
	argv := make([]*C.char, len(args)+1)
	for i, a := range args {
		argv[i] = C.CString(a)
		defer C.free(unsafe.Pointer(argv[i]))
	}
	return int(C.berth_command_index(C.int(len(args)), &argv[0]))
}
