#!/usr/bin/env bats
# The VM lanes' choice of accelerator and CPU model (scripts/vm/lib.sh,
# vm_boot), driven through a stand-in for qemu-system-x86_64 that acts as
# the real one did on the machines seen: KVM's `-cpu host` aborting on
# MSR 0x10a (some AMD hosts), KVM missing, a KVM guest that never prints.
# The stand-in writes the result line to the serial file when it "boots",
# and records each boot's accelerator and CPU model.

setup() {
	REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	T=$BATS_TEST_TMPDIR
	FAKE=$T/qemu
	cat >"$FAKE" <<'EOF'
#!/usr/bin/env bash
accel="" cpu="" serial=""
while (($#)); do
	case $1 in
	-accel) accel=$2; shift ;;
	-cpu) cpu=$2; shift ;;
	-serial) serial=${2#file:}; shift ;;
	esac
	shift
done
echo "${accel%%,*} $cpu" >>"$FAKE_LOG"
echo $$ >>"$FAKE_LOG.pids"
case "$FAKE_MODE:${accel%%,*}:$cpu" in
amd-msr:kvm:host)
	echo "error: failed to set MSR 0x10a to 0x69" >&2
	exit 134 ;;
no-kvm:kvm:*)
	echo "Could not access KVM kernel module: No such file or directory" >&2
	exit 1 ;;
silent-kvm:kvm:*)
	exec sleep 60 ;;
esac
echo "init: kernel 6.1, booted" >>"$serial"
echo "BERTH-T-RESULT: 3 passed, 0 failed, 0 skipped" >>"$serial"
EOF
	chmod +x "$FAKE"
	# A regular file stands for a usable /dev/kvm.
	: >"$T/kvm"
	export QEMU=$FAKE FAKE_LOG=$T/boots VM_KVM_DEV=$T/kvm
	unset VM_ACCEL VM_CPU VM_FIRST_OUTPUT
}

# boot MODE: runs vm_boot as a lane does, after vm_setup's work (done by
# hand: no packages, no kernel), then vm_report; sets status and output.
boot() {
	export FAKE_MODE=$1
	run bash -c '
		. "$1/scripts/vm/lib.sh"
		vm_name=t marker=BERTH-T-RESULT timeout_s=20 kernel=$2/vmlinuz boot=$2/vmlinuz
		tmp=$2/vm ird=$2/vm/initramfs qemu_pid=""
		mkdir -p "$ird" && : >"$kernel"
		vm_boot "" ""
		vm_report' _ "$REPO" "$T"
}

boots() { cat "$FAKE_LOG"; }

@test "vm lane boots KVM with the host CPU model where KVM accepts it" {
	boot ok
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(boots)" = "kvm host" ]
	[[ $output == *"accelerator kvm, CPU model host ("*"is usable)"* ]] || fail "$output"
}

@test "vm lane drops IA32_ARCH_CAPABILITIES when KVM refuses MSR 0x10a" {
	boot amd-msr
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(boots)" = $'kvm host\nkvm host,-arch-capabilities' ] || fail "$(boots)"
	[[ $output == *"ended before the kernel printed anything (qemu exit status 134): error: failed to set MSR 0x10a"* ]] || fail "$output"
}

@test "vm lane falls back to TCG when every KVM boot dies before the kernel prints" {
	boot no-kvm
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(boots)" = $'kvm host\nkvm host,-arch-capabilities\ntcg max' ] || fail "$(boots)"
	[[ $output == *"accelerator tcg, CPU model max (KVM boots failed)"* ]] || fail "$output"
}

@test "vm lane ends a silent KVM guest and boots TCG, leaving no qemu behind" {
	export VM_FIRST_OUTPUT=1
	boot silent-kvm
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(boots | tail -n 1)" = "tcg max" ] || fail "$(boots)"
	[[ $output == *"no console output from the KVM guest in 1s"* ]] || fail "$output"
	# The ended guest is gone, not left running under the lane.
	pid=$(head -n 1 "$FAKE_LOG.pids")
	! kill -0 "$pid" 2>/dev/null || fail "the silent guest (pid $pid) still runs"
}

@test "vm lane uses TCG when the KVM device is not usable" {
	export VM_KVM_DEV=$T/no-such-kvm
	boot ok
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(boots)" = "tcg max" ]
	[[ $output == *"accelerator tcg, CPU model max ($T/no-such-kvm is not usable)"* ]] || fail "$output"
}

@test "VM_ACCEL=tcg forces TCG where KVM is usable" {
	export VM_ACCEL=tcg
	boot ok
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(boots)" = "tcg max" ]
	[[ $output == *"(VM_ACCEL=tcg)"* ]] || fail "$output"
}

@test "VM_ACCEL=kvm never falls back to TCG" {
	export VM_ACCEL=kvm
	boot no-kvm
	[ "$status" -ne 0 ]
	[ "$(boots)" = $'kvm host\nkvm host,-arch-capabilities' ] || fail "$(boots)"
}

@test "VM_ACCEL=kvm without a usable KVM device fails saying so" {
	export VM_ACCEL=kvm VM_KVM_DEV=$T/no-such-kvm
	boot ok
	[ "$status" -eq 1 ]
	[[ $output == *"t: VM_ACCEL=kvm but $T/no-such-kvm is not usable (missing, or not readable and writable)"* ]] || fail "$output"
	[ ! -e "$FAKE_LOG" ]
}

@test "VM_CPU replaces the KVM CPU models" {
	export VM_CPU=EPYC
	boot ok
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(boots)" = "kvm EPYC" ]
}

@test "VM_ACCEL with an unknown value fails naming it" {
	export VM_ACCEL=hvf
	boot ok
	[ "$status" -eq 1 ]
	[[ $output == *"VM_ACCEL=hvf: want auto, kvm or tcg"* ]] || fail "$output"
}

fail() {
	echo "$@" >&2
	return 1
}
