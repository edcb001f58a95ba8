// Package libcshim lets berth link statically against musl (see the
// Makefile): Debian builds libseccomp only against glibc, and the one
// glibc-only symbol its static library calls, __fprintf_chk (from
// _FORTIFY_SOURCE), is defined here. Under glibc the file compiles to
// nothing. Importing the package links it.
package libcshim

import "C"
