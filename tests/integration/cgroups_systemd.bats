#!/usr/bin/env bats
# --systemd-cgroup on a host where systemd is not PID 1 (this one): create
# fails with one line wrapping "not supported" and leaves nothing. The
# driver itself is tested against a real systemd in a VM (make test-systemd).

load helpers

# no_systemd: skip when systemd runs here (then the VM lane's tests apply).
no_systemd() {
	[[ ! -d /run/systemd/system ]] || skip "systemd is PID 1 on this host"
}

@test "--systemd-cgroup without a running systemd fails in one line and leaves nothing" {
	no_systemd
	id=$(new_id)
	update_config ".linux.cgroupsPath = \"system.slice:berth:$id\""
	run_detached berth --systemd-cgroup create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == "berth: "*"systemd cgroup driver: systemd is not running (no /run/systemd/system): not supported" ]] ||
		fail "unexpected error: $output"
	assert_nothing_left "$id"
	# Neither the scope's cgroup nor the slice was made in any hierarchy.
	for d in "$CGROUP_MNT"/*/system.slice/berth-"$id".scope "$CGROUP_MNT"/*/berth-"$id".scope; do
		[[ ! -e $d ]] || fail "$d left behind"
	done
}

@test "--systemd-cgroup run without a cgroupsPath fails the same way" {
	no_systemd
	id=$(new_id)
	run_detached berth --systemd-cgroup run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *"systemd is not running (no /run/systemd/system): not supported" ]] || fail "unexpected error: $output"
	assert_nothing_left "$id"
}

@test "--systemd-cgroup rejects a cgroupsPath that is not slice:prefix:name" {
	id=$(new_id)
	update_config '.linux.cgroupsPath = "/not/systemd"'
	run_detached berth --systemd-cgroup create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *"linux.cgroupsPath"*"not slice:prefix:name"* ]] || fail "unexpected error: $output"
	assert_nothing_left "$id"
}
