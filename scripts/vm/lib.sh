# lib.sh: what berth's qemu test lanes (cgroup2.sh, systemd.sh) share.
# Sourced, not run. A lane calls, in order:
#   vm_setup NAME MARKER DEFAULT_TIMEOUT [PACKAGE CHECK...]...
#       root and binary checks, missing packages (apt-get), the kernel, a
#       temp dir removed on exit (qemu killed first), the ELF vmlinux;
#   vm_initramfs DIR...      busybox, bash-static, berth, jq, passwd,
#                            tests/vm/runner.bash, the TESTS filter, and
#                            the extra DIRs;
#   copy_exe SRC DEST        more programs, with their libraries;
#   vm_modules NAME...       kernel modules for insmod in the VM;
#   vm_bundle [JQ-EXPR]      the containers' rootfs and config template;
#   vm_boot CMDLINE-EXTRA NOTE  packs the initramfs, boots it under a
#                            timeout (KVM, else TCG; once more if a boot
#                            stalls) and reads MARKER from the console;
#   vm_report GREP-EXTRA     prints the test lines (the whole console log
#                            on failure or with VERBOSE=1), exits 0 only
#                            when MARKER says "N passed, 0 failed".
# Environment: BERTH (default ./berth), KERNEL (a bzImage or vmlinux),
# VM_TIMEOUT (seconds), VM_MEM (default 1024M), TESTS (a regular
# expression selecting test names, passed into the VM), VERBOSE,
# VM_ACCEL (auto, kvm or tcg), VM_CPU (the KVM CPU model), VM_KVM_DEV
# (default /dev/kvm), QEMU (default qemu-system-x86_64); see
# vm_accel_candidates.

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
	kernel_present() { debian_kernel >/dev/null; }
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

	kernel=${KERNEL:-$(debian_kernel)}
	[[ -r $kernel ]] || die "no kernel at ${kernel:-/boot/vmlinuz-* of linux-image-amd64}"

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

# debian_kernel: the /boot image of the kernel Debian's linux-image-amd64
# stands for (the lanes boot Debian's kernel, not whatever else /boot has:
# a machine's own kernel may lack qemu's drivers and its modules).
debian_kernel() {
	local st ver
	st=$(dpkg-query -W -f='${Status} ${Depends}' linux-image-amd64 2>/dev/null) || return 1
	[[ $st == "install ok installed linux-image-"* ]] || return 1
	ver=${st#install ok installed linux-image-} ver=${ver%%[ ,]*}
	[[ -r /boot/vmlinuz-$ver ]] || return 1
	echo "/boot/vmlinuz-$ver"
}

vm_cleanup() {
	# qemu_pid is timeout(1)'s, which passes TERM on to qemu (a KILL
	# would leave qemu running).
	if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill -TERM "$qemu_pid" 2>/dev/null || true
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

# vm_modules NAME...: the kernel's modules NAME.ko (dependency-free ones)
# at /lib/modules/NAME.ko in the initramfs, uncompressed, for insmod. The
# modules come from /lib/modules/VERSION of the booted /boot/vmlinuz-VERSION;
# a module that is not there is left out, and its test skips.
vm_modules() {
	local ver dir m f
	ver=$(basename "$kernel") ver=${ver#vmlinuz-}
	dir=/lib/modules/$ver
	mkdir -p "$ird/lib/modules"
	for m in "$@"; do
		f=$(find "$dir" -name "$m.ko" -o -name "$m.ko.xz" 2>/dev/null | head -n 1)
		if [[ -z $f ]]; then
			log "no $m module for kernel $ver under $dir: its tests will skip"
		elif [[ $f == *.xz ]]; then
			xz -dc "$f" >"$ird/lib/modules/$m.ko"
		else
			cp "$f" "$ird/lib/modules/$m.ko"
		fi
	done
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

# vm_accel_candidates: the accelerator and CPU model of each boot to try,
# in order, one "ACCEL CPU WHY" line each. VM_ACCEL=auto (default) tries
# KVM when VM_KVM_DEV (default /dev/kvm) is usable, then TCG; kvm or tcg
# forces one (kvm fails when the device is not usable). VM_CPU replaces the
# KVM CPU models. `-cpu host` passes IA32_ARCH_CAPABILITIES (MSR 0x10a)
# through, which KVM on some AMD hosts refuses to set ("failed to set MSR
# 0x10a", qemu aborts before the guest runs); host without that feature
# boots there, and TCG boots anywhere.
vm_accel_candidates() {
	local mode=${VM_ACCEL:-auto} dev=${VM_KVM_DEV:-/dev/kvm} cpu kvm_ok=0
	[[ -r $dev && -w $dev ]] && kvm_ok=1
	case $mode in
	auto | kvm)
		if ((kvm_ok)); then
			if [[ -n ${VM_CPU:-} ]]; then
				echo "kvm $VM_CPU VM_CPU=$VM_CPU"
			else
				echo "kvm host $dev is usable"
				echo "kvm host,-arch-capabilities the host CPU model without IA32_ARCH_CAPABILITIES"
			fi
		elif [[ $mode == kvm ]]; then
			echo "error - VM_ACCEL=kvm but $dev is not usable (missing, or not readable and writable)"
			return
		fi
		[[ $mode == kvm ]] || echo "tcg max $( ((kvm_ok)) && echo "KVM boots failed" || echo "$dev is not usable")"
		;;
	tcg) echo "tcg max VM_ACCEL=tcg" ;;
	*) echo "error - VM_ACCEL=$mode: want auto, kvm or tcg" ;;
	esac
}

# vm_qemu ACCEL CPU CMDLINE: one boot under the timeout; sets rc.
vm_qemu() {
	local accel=$1 cpu=$2
	[[ $accel == tcg ]] && accel=tcg,thread=multi
	set +e
	timeout --kill-after=10 "$timeout_s" "${QEMU:-qemu-system-x86_64}" \
		-nodefaults -no-user-config -nographic -no-reboot \
		-accel "$accel" -cpu "$cpu" -smp 2 -m "$mem" \
		-kernel "$boot" -initrd "$tmp/initramfs.cpio" -append "$3" \
		-serial "file:$console" -monitor none -nic none \
		</dev/null >"$tmp/qemu.out" 2>&1 &
	qemu_pid=$!
	# A KVM boot that prints nothing for VM_FIRST_OUTPUT seconds (default
	# 120; a KVM guest prints within a few) is ended, so TCG gets its turn
	# well within the lane's time.
	if [[ $1 == kvm ]]; then
		local waited=0
		while kill -0 "$qemu_pid" 2>/dev/null && [[ ! -s $console ]]; do
			if ((waited >= ${VM_FIRST_OUTPUT:-120})); then
				log "no console output from the KVM guest in ${waited}s: ending it"
				kill -TERM "$qemu_pid" 2>/dev/null || true
				break
			fi
			sleep 1
			waited=$((waited + 1))
		done
	fi
	wait "$qemu_pid"
	rc=$?
	qemu_pid=""
	set -e
}

vm_boot() {
	local extra=$1 note=$2 cmdline start accel cpu why stalls=0 line
	local -a cands
	(cd "$ird" && find . -print0 | cpio --null -o -H newc --quiet) >"$tmp/initramfs.cpio"
	cmdline="console=ttyS0 panic=-1 oops=panic loglevel=4 rdinit=/init"
	cmdline+=" systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all $extra"
	console=$tmp/console.log
	mapfile -t cands < <(vm_accel_candidates)
	rc=1 result="" ok=0 elapsed=0
	for line in "${cands[@]}"; do
		read -r accel cpu why <<<"$line"
		[[ $accel == error ]] && die "$why"
		: >"$console"
		log "booting $(basename "$kernel") ($([[ $boot == "$kernel" ]] && echo as is || echo ELF vmlinux))$note: accelerator $accel, CPU model $cpu ($why), timeout ${timeout_s}s"
		start=$SECONDS
		vm_qemu "$accel" "$cpu" "$cmdline"
		elapsed=$((SECONDS - start))
		if [[ ! -s $console ]]; then
			# Died (or hung) before the kernel printed anything: the
			# accelerator or CPU model is at fault, not berth.
			log "the $accel boot with CPU model $cpu ended before the kernel printed anything (qemu exit status $rc): $(tr '\n' ' ' <"$tmp/qemu.out" | cut -c1-300)"
			continue
		fi
		# Every command inside is bounded, so a VM that outlives the
		# timeout has stalled (seen once under TCG: no output for 470 s
		# after a test that takes seconds): its console goes to the log
		# and it boots once more with the same accelerator.
		if [[ ($rc == 124 || $rc == 137) && $stalls == 0 ]]; then
			stalls=1
			log "the VM stalled (no end within ${timeout_s}s); its console, then a second boot:"
			tr -d '\r' <"$console" | tail -n 20 >&2
			: >"$console"
			start=$SECONDS
			vm_qemu "$accel" "$cpu" "$cmdline"
			elapsed=$((SECONDS - start))
		fi
		break
	done

	result=$(grep -a "^$marker:" "$console" | tail -n 1 | tr -d '\r' || true)
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
