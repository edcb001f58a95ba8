// Package prefault maps berth's code before the Go runtime starts: one
// madvise(MADV_POPULATE_READ) over the executable segment (~0.1 ms here)
// instead of the page faults Go's start-up and the CLI take in it, each
// ~10 µs on a virtual machine. The read-only data is left alone: mapping
// it all would add ~1 MB to every process's RSS; the code adds ~0.3 MB,
// since the kernel's fault-around maps most of it anyway.
//
// A C constructor; importing the package links it. Not in berth init
// (its C stage runs little code), nor in a command the C constructors
// finish (fastcmd). _BERTH_PREFAULT=0 turns it off.
package prefault

import "C"
