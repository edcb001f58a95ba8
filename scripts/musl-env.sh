#!/usr/bin/env bash
# musl-env.sh DIR: what musl-gcc is given to build berth (see the Makefile):
# the kernel and libseccomp headers (musl-gcc searches only musl's own),
# Debian's libseccomp.a alone in a library directory (so that no glibc
# library can be picked up), and a pkg-config file naming it.
set -euo pipefail
dir=$1
arch=$(gcc -print-multiarch)
lib=/usr/lib/$arch/libseccomp.a
[[ -e $lib && -e /usr/include/seccomp.h ]] || { echo "musl-env: $lib or seccomp.h missing (make deps)" >&2; exit 1; }
mkdir -p "$dir/include" "$dir/lib" "$dir/pkgconfig"
for h in /usr/include/linux /usr/include/asm-generic /usr/include/seccomp.h /usr/include/seccomp-syscalls.h; do
	[[ -e $h ]] && ln -sfn "$h" "$dir/include/$(basename "$h")"
done
ln -sfn "/usr/include/$arch/asm" "$dir/include/asm"
ln -sfn "$lib" "$dir/lib/libseccomp.a"
cat >"$dir/pkgconfig/libseccomp.pc" <<PC
Name: libseccomp
Description: Debian's static libseccomp, for a static musl build
Version: $(pkg-config --modversion libseccomp 2>/dev/null || echo 2)
Cflags:
Libs: -L$dir/lib -lseccomp
PC
