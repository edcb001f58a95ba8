#!/usr/bin/env bash
# cgroup2.sh: runs berth's cgroup v2 tests (tests/cgroup2/) inside a qemu
# VM booted with a pure cgroup2 hierarchy (cgroup_no_v1=all), since the
# host may mount cgroups hybrid and must not be reconfigured.
#
#   1. installs what is missing (qemu-system-x86, linux-image-amd64,
#      busybox-static, bash-static, cpio, jq) with apt-get;
#   2. builds an uncompressed initramfs in a temp dir: busybox, bash-static,
#      ./berth, jq with the shared libraries ldd lists, tests/cgroup2/tools
#      built with go, a busybox
#      container rootfs (scripts/mkbundle.sh), a config.json template
#      (`berth spec` + jq), the tests and scripts/vm/init;
#   3. boots Debian's kernel (the ELF vmlinux taken out of the bzImage when
#      possible: qemu's PVH entry skips the slow in-guest decompression),
#      with KVM when /dev/kvm is usable, else TCG, under a timeout;
#   4. reads the serial console for the line
#      "BERTH-CGROUP2-RESULT: N passed, N failed, N skipped".
#
# Exits 0 only when that line is there and N failed is 0. Prints the
# console log when anything went wrong (always with VERBOSE=1).
# Environment: see scripts/vm/lib.sh (VM_TIMEOUT defaults to 480 s).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

vm_setup cgroup2 BERTH-CGROUP2-RESULT 480
vm_initramfs
# Lists a cgroup's device programs through cilium/ebpf (not berth's code).
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$ird/bin/bpfprogs" ./tests/cgroup2/tools/bpfprogs)
install -m 0755 "$repo/scripts/vm/init" "$ird/init"
cp -r "$repo/tests/cgroup2/." "$ird/tests/"
# BFQ and loop for the io.bfq.weight test (the host's kernel may have no
# BFQ); modules of the booted kernel only, else that test skips.
vm_modules bfq loop
# The spec's device rules (deny all, then berth's defaults) stay: on
# cgroup2 they become berth's eBPF device filter.
vm_bundle
vm_boot "" ""
vm_report
