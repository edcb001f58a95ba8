# lib.sh: what berth's qemu test lanes (cgroup2.sh, systemd.sh) share.
# Sourced, not run. A lane calls, in order:
#   vm_setup NAME MARKER DEFAULT_TIMEOUT [PACKAGE CHECK...]...
#       root and binary checks, missing packages (apt-get), the kernel, a
#       temp dir removed on exit (qemu killed first), the ELF vmlinux;
#   vm_initramfs DIR...      busybox, bash-static, berth, jq, passwd,
#                            tests/vm/runner.bash, the TESTS filter, and
#                            the extra DIRs;
#   copy_exe SRC DEST        more programs, with their libraries;
#   vm_bundle [JQ-EXPR]      the containers' rootfs and config template;
#   vm_boot CMDLINE-EXTRA NOTE  packs the initramfs, boots it under a
#                            timeout (twice if the first boot stalls) and
#                            reads MARKER from the console;
#   vm_report GREP-EXTRA     prints the test lines (the whole console log
#                            on failure or with VERBOSE=1), exits 0 only
#                            when MARKER says "N passed, 0 failed".
# Environment: BERTH (default ./berth), KERNEL (a bzImage or vmlinux),
# VM_TIMEOUT (seconds), VM_MEM (default 1024M), TESTS (a regular
# expression selecting test names, passed into the VM), VERBOSE.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
berth=${BERTH:-$repo/berth}
mem=${VM_MEM:-1024M}

log() { echo "$vm_name: $*" >&2; }
die() {
	log "$*"
	exit 1
}

vm_setup() {
	vm_name=$1 marker=$2 timeout_s=${VM_TIMEOUT:-$3}
	shift 3
	[[ $(id -u) == 0 ]] || die "run as root (apt-get, and the initramfs keeps root ownership)"
	[[ -x $berth ]] || die "no runtime binary at $berth (run make, or set BERTH)"

	local missing=() pkg
	need() { # need PACKAGE CHECK...
		pkg=$1
		shift
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
	while (($#)); do
		need "$1" $2
		shift 2
	done
	if ((${#missing[@]})); then
		log "installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
	fi

	kernel=${KERNEL:-$(ls -1 /boot/vmlinuz-* | sort -V | tail -n 1)}
	[[ -r $kernel ]] || die "no kernel at $kernel"

	tmp=$(mktemp -d "/tmp/berth-$vm_name.XXXXXX")
	qemu_pid=""
	trap vm_cleanup EXIT
	trap 'exit 130' INT TERM

	# qemu's PVH entry boots an ELF vmlinux without the slow in-guest
	# decompression of a bzImage.
	boot=$kernel
	if [[ $(od -A n -t x1 -N 4 "$kernel" | tr -d ' \n') != 7f454c46 ]]; then
		if "$repo/scripts/vm/extract-vmlinux.sh" "$kernel" "$tmp/vmlinux"; then
			boot=$tmp/vmlinux
		else
			log "could not extract an ELF vmlinux from $kernel: booting the bzImage (slower)"
		fi
	fi
	ird=$tmp/initramfs
}

vm_cleanup() {
	if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill -KILL "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}

# copy_exe SRC DEST: SRC at DEST in the initramfs, with the shared
# libraries (and dynamic loader) ldd names, at the paths ldd gives (the
# host's /lib may be a symlink to usr/lib; in the VM they are real dirs).
copy_exe() {
	local src=$1 dest=$2 lib
	install -D -m 0755 "$src" "$ird$dest"
	while read -r lib; do
		[[ -e $ird$lib ]] && continue
		install -D -m 0755 "$(readlink -f "$lib")" "$ird$lib"
	done < <(ldd "$src" 2>/dev/null | grep -oE '/[^ ]+' | grep -vE '^/(proc|dev)/' | sort -u || true)
}

vm_initramfs() {
	local d applet
	mkdir -p "$ird"/{bin,sbin,dev,proc,sys,tmp,run,newroot,etc,root,tests}
	for d in "$@"; do mkdir -p "$ird/$d"; done
	chmod 1777 "$ird/tmp"
	cp /bin/busybox "$ird/bin/busybox"
	for applet in $("$ird/bin/busybox" --list); do
		[[ -e $ird/bin/$applet ]] || ln -s busybox "$ird/bin/$applet"
	done
	install -m 0755 /bin/bash-static "$ird/bin/bash"
	copy_exe "$berth" /bin/berth
	copy_exe "$(command -v jq)" /bin/jq
	install -m 0644 "$repo/tests/vm/runner.bash" "$ird/tests/runner.bash"
	printf '%s\n' "${TESTS:-}" >"$ird/etc/berth-tests-filter"
	echo "root:x:0:0:root:/root:/bin/sh" >"$ird/etc/passwd"
	echo "root:x:0:" >"$ird/etc/group"
}

# vm_bundle [JQ-EXPR]: the containers' rootfs at /bundle/rootfs, and the
# config.json every test starts from (`berth spec`, adjusted; JQ-EXPR is
# applied after).
vm_bundle() {
	"$repo/scripts/mkbundle.sh" --rootfs-only "$ird/bundle" >/dev/null
	"$berth" spec --bundle "$tmp"
	jq ".process.terminal = false
		| .process.args = [\"true\"]
		| .root = {path: \"/bundle/rootfs\", readonly: true}
		${1:+| $1}" "$tmp/config.json" >"$ird/bundle/config.json"
	rm -f "$tmp/config.json"
}

vm_boot() {
	local extra=$1 note=$2 accel cmdline rc start try
	(cd "$ird" && find . -print0 | cpio --null -o -H newc --quiet) >"$tmp/initramfs.cpio"
	accel=(-accel tcg,thread=multi -cpu max)
	if [[ -r /dev/kvm && -w /dev/kvm ]]; then
		accel=(-accel kvm -cpu host)
	fi
	cmdline="console=ttyS0 panic=-1 oops=panic loglevel=4 rdinit=/init"
	cmdline+=" systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all $extra"
	console=$tmp/console.log
	: >"$console"
	log "booting $(basename "$kernel") ($([[ $boot == "$kernel" ]] && echo as is || echo ELF vmlinux), ${accel[1]%%,*})$note, timeout ${timeout_s}s"
	# Every command inside is bounded, so a VM that outlives the timeout
	# has stalled (seen once under TCG: no output for 470 s after a test
	# that takes seconds): its console goes to the log and it boots once
	# more.
	for try in 1 2; do
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
		[[ $try == 1 && ($rc == 124 || $rc == 137) ]] || break
		log "the VM stalled (no end within ${timeout_s}s); its console, then a second boot:"
		tr -d '\r' <"$console" | tail -n 20 >&2
		: >"$console"
	done

	result=$(grep -a "^$marker:" "$console" | tail -n 1 | tr -d '\r' || true)
	ok=0
	if [[ $rc == 124 || $rc == 137 ]]; then
		log "the VM did not finish within ${timeout_s}s"
	elif [[ -z $result ]]; then
		log "no '$marker' line on the console (qemu exit status $rc)"
	elif [[ $result =~ ^$marker:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
		if ((BASH_REMATCH[2] == 0 && BASH_REMATCH[1] > 0)); then ok=1; fi
	else
		log "cannot parse: $result"
	fi
}

vm_report() {
	if [[ $ok != 1 || ${VERBOSE:-0} == 1 ]]; then
		echo "----- qemu output -----" >&2
		cat "$tmp/qemu.out" >&2
		echo "----- console log -----" >&2
		tr -d '\r' <"$console" >&2
		echo "-----------------------" >&2
	else
		# The test lines only (the kernel's boot messages are left out).
		tr -d '\r' <"$console" | grep -aE "^(ok|not ok|SKIP|#|  ${1:+|$1})" >&2 || true
	fi
	log "${result:-no result} (${elapsed}s in the VM)"
	[[ $ok == 1 ]]
}
