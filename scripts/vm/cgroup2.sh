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
# Environment: BERTH (runtime binary, default ./berth), KERNEL (a bzImage
# or vmlinux to boot instead of the newest /boot/vmlinuz-*), VM_TIMEOUT
# (seconds, default 480), VM_MEM (default 1024M), TESTS (a regular
# expression selecting test names, passed into the VM).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
berth=${BERTH:-$repo/berth}
timeout_s=${VM_TIMEOUT:-480}
mem=${VM_MEM:-1024M}
marker=BERTH-CGROUP2-RESULT

log() { echo "cgroup2: $*" >&2; }
die() { log "$*"; exit 1; }

[[ $(id -u) == 0 ]] || die "run as root (apt-get, and the initramfs keeps root ownership)"
[[ -x $berth ]] || die "no runtime binary at $berth (run make, or set BERTH)"

# --- packages ---------------------------------------------------------------
missing=()
need() { # need PACKAGE CHECK...
	local pkg=$1; shift
	"$@" >/dev/null 2>&1 || missing+=("$pkg")
}
kernel_present() { compgen -G '/boot/vmlinuz-*' >/dev/null; }
need qemu-system-x86 command -v qemu-system-x86_64
need busybox-static test -x /bin/busybox
need bash-static test -x /bin/bash-static
need cpio command -v cpio
need jq command -v jq
need xz-utils command -v xz
if [[ -z ${KERNEL:-} ]]; then need linux-image-amd64 kernel_present; fi
if ((${#missing[@]})); then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
fi

if [[ -n ${KERNEL:-} ]]; then
	kernel=$KERNEL
else
	kernel=$(ls -1 /boot/vmlinuz-* | sort -V | tail -n 1)
fi
[[ -r $kernel ]] || die "no kernel at $kernel"

# --- temp dir -----------------------------------------------------------------
tmp=$(mktemp -d /tmp/berth-cgroup2.XXXXXX)
qemu_pid=""
cleanup() {
	if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill -KILL "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- kernel -------------------------------------------------------------------
boot=$kernel
if [[ $(od -A n -t x1 -N 4 "$kernel" | tr -d ' \n') != 7f454c46 ]]; then
	if "$repo/scripts/vm/extract-vmlinux.sh" "$kernel" "$tmp/vmlinux"; then
		boot=$tmp/vmlinux
	else
		log "could not extract an ELF vmlinux from $kernel: booting the bzImage (slower)"
	fi
fi

# --- initramfs ----------------------------------------------------------------
ird=$tmp/initramfs
mkdir -p "$ird"/{bin,sbin,dev,proc,sys,tmp,run,newroot,etc,root,tests}
chmod 1777 "$ird/tmp"

# copy_exe SRC DEST: SRC at DEST in the initramfs, with the shared
# libraries (and dynamic loader) ldd names, at their own paths.
copy_exe() {
	local src=$1 dest=$2 lib
	install -D -m 0755 "$src" "$ird$dest"
	while read -r lib; do
		[[ -e $ird$lib ]] && continue
		install -D -m 0755 "$(readlink -f "$lib")" "$ird$lib"
	done < <(ldd "$src" 2>/dev/null | grep -oE '/[^ ]+' | grep -vE '^/(proc|dev)/' | sort -u || true)
}

cp /bin/busybox "$ird/bin/busybox"
for applet in $("$ird/bin/busybox" --list); do
	[[ -e $ird/bin/$applet ]] || ln -s busybox "$ird/bin/$applet"
done
install -m 0755 /bin/bash-static "$ird/bin/bash"
copy_exe "$berth" /bin/berth
copy_exe "$(command -v jq)" /bin/jq
# Lists a cgroup's device programs through cilium/ebpf (not berth's code).
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$ird/bin/bpfprogs" ./tests/cgroup2/tools/bpfprogs)

install -m 0755 "$repo/scripts/vm/init" "$ird/init"
cp -r "$repo/tests/cgroup2/." "$ird/tests/"
printf '%s\n' "${TESTS:-}" >"$ird/etc/berth-tests-filter"
echo "root:x:0:0:root:/root:/bin/sh" >"$ird/etc/passwd"
echo "root:x:0:" >"$ird/etc/group"

# The containers' rootfs, and a config.json that every test starts from.
"$repo/scripts/mkbundle.sh" --rootfs-only "$ird/bundle" >/dev/null
"$berth" spec --bundle "$tmp"
# The spec's device rules (deny all, then berth's defaults) stay: on
# cgroup2 they become berth's eBPF device filter.
jq '.process.terminal = false
	| .process.args = ["true"]
	| .root = {path: "/bundle/rootfs", readonly: true}' "$tmp/config.json" >"$ird/bundle/config.json"
rm -f "$tmp/config.json"

(cd "$ird" && find . -print0 | cpio --null -o -H newc --quiet) >"$tmp/initramfs.cpio"

# --- boot ---------------------------------------------------------------------
accel=(-accel tcg,thread=multi -cpu max)
if [[ -r /dev/kvm && -w /dev/kvm ]]; then
	accel=(-accel kvm -cpu host)
fi
cmdline="console=ttyS0 panic=-1 oops=panic loglevel=4 rdinit=/init"
cmdline+=" systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all"
console=$tmp/console.log
: >"$console"
log "booting $(basename "$kernel") ($([[ $boot == "$kernel" ]] && echo as is || echo ELF vmlinux), ${accel[1]%%,*}), timeout ${timeout_s}s"
start=$SECONDS
set +e
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
	-nodefaults -no-user-config -nographic -no-reboot \
	"${accel[@]}" -smp 2 -m "$mem" \
	-kernel "$boot" -initrd "$tmp/initramfs.cpio" -append "$cmdline" \
	-serial "file:$console" -monitor none -nic none \
	</dev/null >"$tmp/qemu.out" 2>&1 &
qemu_pid=$!
wait "$qemu_pid"
rc=$?
qemu_pid=""
set -e
elapsed=$((SECONDS - start))

result=$(grep -a "^$marker:" "$console" | tail -n 1 | tr -d '\r' || true)
ok=0
if [[ $rc == 124 || $rc == 137 ]]; then
	log "the VM did not finish within ${timeout_s}s"
elif [[ -z $result ]]; then
	log "no '$marker' line on the console (qemu exit status $rc)"
elif [[ $result =~ ^$marker:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
	passed=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]}
	if ((failed == 0 && passed > 0)); then ok=1; fi
else
	log "cannot parse: $result"
fi

if [[ $ok != 1 || ${VERBOSE:-0} == 1 ]]; then
	echo "----- qemu output -----" >&2
	cat "$tmp/qemu.out" >&2
	echo "----- console log -----" >&2
	tr -d '\r' <"$console" >&2
	echo "-----------------------" >&2
else
	# The test lines only (the kernel's boot messages are left out).
	tr -d '\r' <"$console" | grep -aE '^(ok|not ok|SKIP|#|  )' >&2 || true
fi
log "${result:-no result} (${elapsed}s in the VM)"
[[ $ok == 1 ]]
