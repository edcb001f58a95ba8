#!/usr/bin/env bats
# Cgroups (v1 hierarchies of this hybrid host): where a container's cgroup
# is, the limits written to it, and its removal on delete.

load helpers

V1_CONTROLLERS="cpu cpuacct cpuset memory devices freezer blkio pids"

# v1_mounted CONTROLLER: true when the host mounts that v1 hierarchy.
v1_mounted() {
	[[ -e $CGROUP_MNT/$1/cgroup.procs ]]
}

@test "the container's cgroup is /<id> in every v1 controller" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	n=0
	for c in $V1_CONTROLLERS; do
		v1_mounted "$c" || continue
		n=$((n + 1))
		[ -d "$CGROUP_MNT/$c/$id" ] || fail "no $CGROUP_MNT/$c/$id"
		grep -qx "$pid" "$CGROUP_MNT/$c/$id/cgroup.procs" || fail "$pid is not in $c/$id"
	done
	[ "$n" -gt 0 ]
}

@test "linux.resources.memory.limit lands in memory.limit_in_bytes, seen from inside too" {
	v1_mounted memory || fail "no v1 memory hierarchy"
	update_config '.linux.resources.memory.limit = 67108864'
	set_args sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes > /tmp/inside; sleep 1000'
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$(cat "$CGROUP_MNT/memory/$id/memory.limit_in_bytes")" = 67108864 ]
	wait_for_file "$BUNDLE/rootfs/tmp/inside"
	[ "$(cat "$BUNDLE/rootfs/tmp/inside")" = 67108864 ]
}

@test "linux.resources.pids.limit lands in pids.max and is enforced" {
	v1_mounted pids || fail "no v1 pids hierarchy"
	update_config '.linux.resources.pids.limit = 4'
	# A subshell forks until a fork fails (which ends it), then sh carries on.
	set_args sh -c '(for i in 1 2 3 4 5 6; do sleep 1000 & done) 2>/dev/null; echo forked > /tmp/forked; exec sleep 1000'
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$(cat "$CGROUP_MNT/pids/$id/pids.max")" = 4 ]
	wait_for_file "$BUNDLE/rootfs/tmp/forked"
	[ "$(cat "$CGROUP_MNT/pids/$id/pids.current")" -le 4 ]
	[ "$(cat "$CGROUP_MNT/pids/$id/pids.events" | awk '/^max/ {print $2}')" -gt 0 ]
}

@test "linux.resources.pids.limit 0 is written as 1 and -1 as max, as runc does" {
	v1_mounted pids || fail "no v1 pids hierarchy"
	update_config '.linux.resources.pids.limit = 0 | .process.args = ["sleep", "1000"]'
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$(cat "$CGROUP_MNT/pids/$id/pids.max")" = 1 ]
	update_config '.linux.resources.pids.limit = -1'
	id2=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id2"
	[ "$status" -eq 0 ]
	[ "$(cat "$CGROUP_MNT/pids/$id2/pids.max")" = max ]
}

@test "linux.resources.cpu shares and quota land in the cpu controller" {
	v1_mounted cpu || fail "no v1 cpu hierarchy"
	update_config '.linux.resources.cpu = {shares: 512, quota: 50000, period: 100000}'
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$(cat "$CGROUP_MNT/cpu/$id/cpu.shares")" = 512 ]
	[ "$(cat "$CGROUP_MNT/cpu/$id/cpu.cfs_period_us")" = 100000 ]
	[ "$(cat "$CGROUP_MNT/cpu/$id/cpu.cfs_quota_us")" = 50000 ]
}

@test "a memory hog is OOM-killed at linux.resources.memory.limit" {
	v1_mounted memory || fail "no v1 memory hierarchy"
	# memory+swap = limit: the hog cannot escape into swap.
	local swap=16777216
	[ -e "$CGROUP_MNT/memory/memory.memsw.limit_in_bytes" ] || swap=
	UPDATE_CONFIG_ARGS=(--argjson s "${swap:-null}")
	update_config '.linux.resources.memory = ({limit: 16777216} + (if $s then {swap: $s} else {} end))'
	UPDATE_CONFIG_ARGS=()
	# tail keeps the whole of an endless line in memory.
	set_args sh -c 'tail /dev/zero; echo "tail exited $?" >/tmp/done; exec sleep 1000'
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	wait_for_file "$BUNDLE/rootfs/tmp/done" 30
	[ "$(cat "$BUNDLE/rootfs/tmp/done")" = "tail exited 137" ] || fail "tail: $(cat "$BUNDLE/rootfs/tmp/done")"
	# The kernel's OOM killer did it, in the container's cgroup.
	local kills
	kills=$(awk '$1 == "oom_kill" {print $2}' "$CGROUP_MNT/memory/$id/memory.oom_control")
	((kills > 0)) || fail "memory.oom_control: $(cat "$CGROUP_MNT/memory/$id/memory.oom_control")"
}

@test "a CPU hog is throttled by linux.resources.cpu.quota" {
	v1_mounted cpu || fail "no v1 cpu hierarchy"
	update_config '.linux.resources.cpu = {quota: 10000, period: 100000}'
	set_args sh -c 'while :; do :; done'
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	local stat=$CGROUP_MNT/cpu/$id/cpu.stat i
	for ((i = 0; i < 100; i++)); do
		(($(awk '$1 == "nr_throttled" {print $2}' "$stat") > 0)) && break
		sleep 0.1
	done
	(($(awk '$1 == "nr_throttled" {print $2}' "$stat") > 0)) || fail "never throttled: $(cat "$stat")"
	# 10% of one CPU: well under the 100% a free loop takes.
	local u0 u1
	u0=$(cat "$CGROUP_MNT/cpuacct/$id/cpuacct.usage")
	sleep 1
	u1=$(cat "$CGROUP_MNT/cpuacct/$id/cpuacct.usage")
	(((u1 - u0) < 300000000)) || fail "used $(((u1 - u0) / 1000000)) ms of CPU in 1 s under a 10% quota"
	berth kill "$id" KILL
}

@test "linux.cgroupsPath is honoured" {
	set_args sleep 1000
	id=$(new_id)
	path=/berth-test-$id/ctr
	register_cgroup "$path"
	UPDATE_CONFIG_ARGS=(--arg p "$path")
	update_config '.linux.cgroupsPath = $p | .linux.resources.pids.limit = 50'
	UPDATE_CONFIG_ARGS=()
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	for c in memory pids; do
		v1_mounted "$c" || continue
		grep -qx "$pid" "$CGROUP_MNT/$c$path/cgroup.procs" || fail "$pid is not in $c$path"
		[ ! -e "$CGROUP_MNT/$c/$id" ] || fail "$c/$id exists too"
	done
	[ "$(cat "$CGROUP_MNT/pids$path/pids.max")" = 50 ]
}

@test "delete removes the container's cgroup" {
	update_config '.linux.resources.pids.limit = 50'
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ -n "$(cgroup_dirs "$id")" ]
	run berth delete --force "$id"
	[ "$status" -eq 0 ]
	left=$(cgroup_dirs "$id")
	[ -z "$left" ] || fail "left behind: $left"
}

@test "delete removes the cgroup of a cgroupsPath, but not its parent's siblings" {
	id=$(new_id)
	parent=/berth-test-$id
	register_cgroup "$parent/ctr"
	register_cgroup "$parent/sibling"
	for c in $V1_CONTROLLERS; do
		v1_mounted "$c" && mkdir -p "$CGROUP_MNT/$c$parent/sibling"
	done
	UPDATE_CONFIG_ARGS=(--arg p "$parent/ctr")
	update_config '.linux.cgroupsPath = $p'
	UPDATE_CONFIG_ARGS=()
	set_args sleep 1000
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	run berth delete --force "$id"
	[ "$status" -eq 0 ]
	[ -z "$(cgroup_dirs "$parent/ctr")" ]
	[ -d "$CGROUP_MNT/pids$parent/sibling" ]
	for c in $V1_CONTROLLERS; do
		v1_mounted "$c" && rmdir "$CGROUP_MNT/$c$parent/sibling" "$CGROUP_MNT/$c$parent"
	done
}

@test "a cgroup is removed when its container's process exits under run" {
	update_config '.linux.resources.pids.limit = 50'
	set_args true
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	left=$(cgroup_dirs "$id")
	[ -z "$left" ] || fail "left behind: $left"
}

@test "--cgroup-manager=disabled leaves the container in berth's cgroup and makes none" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth --cgroup-manager=disabled run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	[ "$(grep ':pids:' "/proc/$pid/cgroup")" = "$(grep ':pids:' /proc/self/cgroup)" ]
	for c in $V1_CONTROLLERS; do
		[ ! -e "$CGROUP_MNT/$c/$id" ] || fail "$CGROUP_MNT/$c/$id exists"
	done
	run berth pause "$id"
	assert_error
	[[ $output == *"the container has no cgroup (--cgroup-manager=disabled)"* ]]
	run berth delete --force "$id"
	[ "$status" -eq 0 ]
	! pid_alive "$pid"
}

@test "--cgroup-manager=disabled refuses a limit in one line naming the field, leaving nothing" {
	update_config '.linux.resources.memory.limit = 67108864'
	id=$(new_id)
	run_detached berth --cgroup-manager=disabled create --bundle "$BUNDLE" "$id"
	assert_error
	[ "${lines[0]}" = "berth: linux.resources.memory: cannot set the limit: the container has no cgroup (--cgroup-manager=disabled): not supported" ]
	[ ! -e "$ROOT/$id" ]
}

@test "--cgroup-manager refuses unknown values and a contradiction with --systemd-cgroup" {
	id=$(new_id)
	run berth --cgroup-manager=none create --bundle "$BUNDLE" "$id"
	assert_error
	[ "${lines[0]}" = 'berth: --cgroup-manager: "none" is not cgroupfs, systemd or disabled' ]
	run berth --cgroup-manager=disabled --systemd-cgroup create --bundle "$BUNDLE" "$id"
	assert_error
	[ "${lines[0]}" = "berth: --cgroup-manager=disabled contradicts --systemd-cgroup" ]
	[ ! -e "$ROOT/$id" ]
}

@test "create refuses a cgroup that is already frozen, in one line, leaving no state and no frozen init" {
	v1_mounted freezer || skip "no v1 freezer hierarchy"
	id=$(new_id)
	path=/berth-test-$id
	register_cgroup "$path"
	frz=$CGROUP_MNT/freezer$path
	mkdir "$frz"
	echo FROZEN >"$frz/freezer.state"
	[ "$(cat "$frz/freezer.state")" = FROZEN ]
	UPDATE_CONFIG_ARGS=(--arg p "$path")
	update_config '.linux.cgroupsPath = $p'
	UPDATE_CONFIG_ARGS=()
	BERTH_CMD_TIMEOUT=20 run_detached berth create --bundle "$BUNDLE" "$id"
	# Thawed before any check, so nothing stays stuck if one fails.
	procs=""
	if [[ -d $frz ]]; then
		procs=$(cat "$frz/cgroup.procs")
		echo THAWED >"$frz/freezer.state"
		rmdir "$frz" # the test's: berth leaves it
	fi
	assert_error
	[[ ${lines[0]} == "berth: "*"cgroup $frz: container's cgroup unexpectedly frozen (thaw it"* ]] || fail "${lines[0]}"
	[ -z "$procs" ] || fail "processes left in the frozen cgroup: $procs"
	[ ! -e "$ROOT/$id" ] || fail "state left: $(ls "$ROOT/$id")"
}

@test "a frozen cgroup refused at create is left as it was: there, frozen, and refused again" {
	v1_mounted freezer || skip "no v1 freezer hierarchy"
	id=$(new_id)
	path=/berth-test-$id
	register_cgroup "$path"
	frz=$CGROUP_MNT/freezer$path
	mkdir "$frz"
	echo FROZEN >"$frz/freezer.state"
	UPDATE_CONFIG_ARGS=(--arg p "$path")
	update_config '.linux.cgroupsPath = $p'
	UPDATE_CONFIG_ARGS=()
	local -a out
	for cmd in "run -d" create; do
		# shellcheck disable=SC2086 # the command is two words for run -d
		BERTH_CMD_TIMEOUT=20 run_detached berth $cmd --bundle "$BUNDLE" "$id"
		out+=("$status ${lines[*]}")
		[[ -d $frz && $(cat "$frz/freezer.state") == FROZEN ]] || break
	done
	state=gone
	if [[ -d $frz ]]; then
		state=$(cat "$frz/freezer.state")
		procs=$(cat "$frz/cgroup.procs")
		echo THAWED >"$frz/freezer.state"
		rmdir "$frz"
	fi
	[ "$state" = FROZEN ] || fail "the frozen cgroup is $state after: ${out[*]}"
	[ -z "$procs" ] || fail "processes left in the frozen cgroup: $procs"
	[ "${#out[@]}" -eq 2 ] || fail "${out[*]}"
	for o in "${out[@]}"; do
		[[ $o == "1 berth: cgroup $frz: container's cgroup unexpectedly frozen ("* ]] || fail "$o"
	done
	[ ! -e "$ROOT/$id" ] || fail "state left: $(ls "$ROOT/$id")"
}

@test "create refuses a cgroup that holds another container's processes, and leaves that container running" {
	id1=$(new_id)
	id2=$(new_id)
	path=/berth-test-$id1
	register_cgroup "$path"
	UPDATE_CONFIG_ARGS=(--arg p "$path")
	update_config '.linux.cgroupsPath = $p | .process.args = ["sleep", "1000"]'
	UPDATE_CONFIG_ARGS=()
	run_detached berth run -d --bundle "$BUNDLE" "$id1"
	[ "$status" -eq 0 ] || fail "$output"
	pid=$(state_field "$id1" pid)
	procs=$CGROUP_MNT/pids$path/cgroup.procs
	[ -e "$procs" ] || procs=$CGROUP_MNT/memory$path/cgroup.procs
	for cmd in "run -d" create; do
		# shellcheck disable=SC2086 # the command is two words for run -d
		run_detached berth $cmd --bundle "$BUNDLE" "$id2"
		assert_error
		[[ ${lines[0]} == "berth: cgroup $CGROUP_MNT/"*"$path: container's cgroup is not empty: 1 process(es) found ("* ]] || fail "${lines[0]}"
		[ ! -e "$ROOT/$id2" ] || fail "state of $id2 left"
		[ "$(cat "$procs")" = "$pid" ] || fail "cgroup holds $(cat "$procs"), want $pid"
		[ "$(state_field "$id1" status)" = running ] || fail "$id1 is not running"
	done
}

@test "with berth spec's config, init and an exec'd process show the same host cgroup paths in every hierarchy" {
	[[ $(stat -f -c %T "$CGROUP_MNT") != cgroup2fs ]] || skip "a cgroup2-only host: berth spec adds a cgroup namespace there"
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	pid=$(state_field "$id" pid)
	run berth exec "$id" cat /proc/self/cgroup
	[ "$status" -eq 0 ] || fail "$output"
	[ "$output" = "$(cat "/proc/$pid/cgroup")" ] || fail "exec: $output; init: $(cat "/proc/$pid/cgroup")"
	while IFS=: read -r _ ctrl path; do
		[ "$path" = "/$id" ] || fail "$ctrl: $path, want /$id"
	done <<<"$output"
}

@test "a linux.resources.unified key of a cgroup v1 controller is an invalid configuration, in one line naming the key, leaving nothing" {
	[[ $(stat -f -c %T "$CGROUP_MNT") != cgroup2fs ]] || skip "a cgroup2-only host"
	v1_mounted memory || skip "no v1 memory hierarchy"
	id=$(new_id)
	update_config '.linux.resources.unified = {"memory.min": "131072"}'
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	assert_error
	[[ ${lines[0]} == 'berth: linux.resources.unified["memory.min"]: invalid configuration: '* ]] || fail "${lines[0]}"
	[ ! -e "$ROOT/$id" ] || fail "state left"
	[ ! -e "$CGROUP_MNT/memory/$id" ] || fail "cgroup left"
}
