#!/bin/bash
# berth's systemd cgroup driver tests (--systemd-cgroup). They run inside
# the VM that scripts/vm/systemd.sh boots: systemd is PID 1, cgroup2 is
# mounted on /sys/fs/cgroup, bash-static, busybox, jq, systemctl and berth
# are in /bin and a container rootfs is at /bundle/rootfs. Not for the host.
#
# Each test_* function runs in a subshell under `set -euo pipefail`, in a
# temp dir of its own; its teardown deletes (--force) every container it
# made, then fails the test if a unit or cgroup of one of them is left.
# Output is TAP-like: "ok N name", "not ok N name" (followed by the test's
# output as "# " lines), "SKIP N name: reason". The last line is
#   BERTH-SYSTEMD-RESULT: <passed> passed, <failed> failed, <skipped> skipped
# TESTS (a regular expression) selects tests by name.

# ---------------------------------------------------------------- helpers ---

BERTH_FLAGS=(--systemd-cgroup)
. "${BASH_SOURCE[0]%/*}/runner.bash"

# new_id: a container id for this test, remembered for the teardown.
new_id() {
	local id="sd$TESTNO-$RANDOM"
	echo "$id" >>"$TESTDIR/.ids"
	echo "$id"
}

# unit ID: the scope berth makes for "system.slice:berth:ID" (and the default).
unit() { echo "berth-$1.scope"; }
# cgdir ID [SLICE-DIR]: that scope's cgroup.
cgdir() { echo "$CG${2:-/system.slice}/berth-$1.scope"; }

# prop UNIT PROPERTY: a unit property as systemctl shows it.
prop() { systemctl show -P "$2" "$1"; }

# assert_prop UNIT PROPERTY WANT
assert_prop() {
	local got
	got=$(prop "$1" "$2")
	[[ $got == "$3" ]] || fail "$1 $2: got '$got', want '$3'"
}

# unit_gone UNIT: systemd has no active (or failed) unit of that name.
unit_gone() {
	local st
	st=$(prop "$1" ActiveState)
	[[ $st == inactive || $st == "" ]]
}

# make_bundle DIR CGROUPS-PATH [JQ-EXPR [ARG...]]: a bundle (config.json
# only; the rootfs is shared) with linux.cgroupsPath (none if empty),
# JQ-EXPR applied and, if given, process.args = ARG...
make_bundle() {
	local dir=$1 cp=$2 expr=${3:-.} args="" a
	shift $(($# < 3 ? $# : 3))
	if [[ -n $cp ]]; then
		expr="($expr) | .linux.cgroupsPath = $(json_str "$cp")"
	fi
	if (($#)); then
		for a in "$@"; do args+=${args:+,}$(json_str "$a"); done
		expr="($expr) | .process.args = [$args]"
	fi
	mkdir -p "$dir"
	jq "$expr" "$TEMPLATE" >"$dir/config.json"
}

# assert_clean ID [SLICE-DIR]: no unit, cgroup or state of ID is left.
assert_clean() {
	unit_gone "$(unit "$1")" || fail "unit $(unit "$1") is $(prop "$(unit "$1")" ActiveState)"
	[[ ! -d $(cgdir "$1" "${2:-}") ]] || fail "cgroup $(cgdir "$1" "${2:-}") left behind"
	[[ ! -d $ROOT/$1 ]] || fail "state $ROOT/$1 left behind"
}

teardown() {
	local rc=$? id u
	set +e
	if [[ -s $TESTDIR/.ids ]]; then
		while read -r id; do
			"$BERTH_BIN" --root "$ROOT" --systemd-cgroup delete --force "$id" >/dev/null 2>&1
			u=$(unit "$id")
			if ! unit_gone "$u"; then
				echo "FAIL: unit $u left $(prop "$u" ActiveState)" >&2
				[[ $rc == 0 ]] && rc=1
			fi
			systemctl stop "$u" 2>/dev/null
			systemctl reset-failed "$u" 2>/dev/null
			if [[ -d $(cgdir "$id") ]]; then
				echo "FAIL: cgroup $(cgdir "$id") left behind" >&2
				[[ $rc == 0 ]] && rc=1
			fi
		done <"$TESTDIR/.ids"
	fi
	# Slices a test made systemd start.
	if [[ -s $TESTDIR/.units ]]; then
		while read -r u; do systemctl stop "$u" 2>/dev/null; done <"$TESTDIR/.units"
	fi
	if [[ -d $ROOT ]] && [[ -n $(ls -A "$ROOT") ]]; then
		echo "FAIL: state left in $ROOT: $(ls -A "$ROOT")" >&2
		[[ $rc == 0 ]] && rc=1
	fi
	rm -rf "$TESTDIR"
	exit "$rc"
}

# ------------------------------------------------------------------ tests ---

test_create_starts_a_delegated_scope_holding_init() {
	local id b d u pid
	id=$(new_id) b=$TESTDIR/b u=$(unit "$id")
	make_bundle "$b" "system.slice:berth:$id" . sleep 100
	create "$id" "$b"
	d=$(cgdir "$id")
	assert_prop "$u" ActiveState active
	assert_prop "$u" Slice system.slice
	assert_prop "$u" Delegate yes
	assert_prop "$u" Description "berth container $id"
	pid=$(state_field "$id" pid)
	grep -qx "$pid" "$d/cgroup.procs" || fail "init $pid not in $d/cgroup.procs: $(cat "$d/cgroup.procs")"
	assert_file "/proc/$pid/cgroup" "0::/system.slice/$u"
	assert_prop "$u" ControlGroup "/system.slice/$u"
	berth start "$id"
	wait_status "$id" running
	# state.json names the driver and the unit for later commands.
	jq -e --arg u "$u" '.cgroup.driver == "systemd" and .cgroup.unit == $u' "$ROOT/$id/state.json" >/dev/null ||
		fail "state.json cgroup: $(jq -c .cgroup "$ROOT/$id/state.json")"
	berth delete --force "$id"
	assert_clean "$id"
}

test_default_cgroups_path_is_berth_id_scope_in_system_slice() {
	local id b
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b" "" . sleep 100
	create "$id" "$b"
	assert_prop "$(unit "$id")" ActiveState active
	[[ -d $(cgdir "$id") ]] || fail "no $(cgdir "$id")"
	berth delete "$id"
	assert_clean "$id"
}

test_limits_reach_unit_properties_and_cgroup_files() {
	local id b d u
	id=$(new_id) b=$TESTDIR/b u=$(unit "$id")
	make_bundle "$b" "system.slice:berth:$id" \
		'.linux.resources = {memory: {limit: 33554432, reservation: 16777216}, pids: {limit: 10},
		  cpu: {shares: 1024, quota: 20000, period: 50000, cpus: "1", mems: "0"}}' sleep 100
	create "$id" "$b"
	d=$(cgdir "$id")
	assert_prop "$u" MemoryMax 33554432
	assert_prop "$u" MemoryLow 16777216
	assert_prop "$u" TasksMax 10
	assert_prop "$u" CPUWeight "$(share_weight 1024)"
	assert_prop "$u" CPUQuotaPerSecUSec 400ms
	assert_prop "$u" CPUQuotaPeriodUSec 50ms
	assert_prop "$u" AllowedCPUs 1
	assert_prop "$u" AllowedMemoryNodes 0
	assert_file "$d/memory.max" 33554432
	assert_file "$d/memory.low" 16777216
	assert_file "$d/pids.max" 10
	assert_file "$d/cpu.weight" "$(share_weight 1024)"
	assert_file "$d/cpu.max" "20000 50000"
	assert_file "$d/cpuset.cpus" 1
	assert_file "$d/cpuset.mems" 0
	# systemd re-applies a unit's whole cgroup context when any property
	# changes: the files must still hold the container's limits.
	systemctl set-property --runtime "$u" IOAccounting=yes
	assert_file "$d/memory.max" 33554432
	assert_file "$d/pids.max" 10
	assert_file "$d/cpu.weight" "$(share_weight 1024)"
	assert_file "$d/cpu.max" "20000 50000"
	assert_file "$d/cpuset.cpus" 1
	berth delete "$id"
	assert_clean "$id"
}

test_pids_limit_stops_forks() {
	local id b d out
	id=$(new_id) b=$TESTDIR/b
	# init stays while an exec'd shell forks: systemd removes a scope (and
	# its pids.events) once it is empty.
	make_bundle "$b" "system.slice:berth:$id" '.linux.resources.pids = {limit: 10}' sleep 100
	create "$id" "$b"
	d=$(cgdir "$id")
	berth start "$id"
	out=$(berth exec "$id" sh -c 'i=0; while [ $i -lt 20 ]; do sleep 30 >/dev/null 2>&1 & i=$((i+1)); done; echo all-forked' 2>&1 </dev/null) || true
	[[ $out != *all-forked* ]] || fail "every fork succeeded: $out"
	(($(kvn "$d/pids.events" max) >= 1)) || fail "pids.events: $(cat "$d/pids.events")"
	(($(cat "$d/pids.current") <= 10)) || fail "pids.current $(cat "$d/pids.current") is above 10"
	berth delete --force "$id"
	assert_clean "$id"
}

test_memory_limit_oom_kills() {
	local id b d kills
	id=$(new_id) b=$TESTDIR/b
	# The shell stays: systemd removes a scope (and its memory.events) once
	# it is empty.
	make_bundle "$b" "system.slice:berth:$id" '.linux.resources.memory = {limit: 33554432}' \
		sh -c 'dd if=/dev/zero of=/dev/null bs=64M count=1; echo dd-exited; sleep 100'
	create "$id" "$b"
	d=$(cgdir "$id")
	berth start "$id"
	wait_until 60 "dd to end" grep -q dd-exited "$b/out"
	kills=$(kvn "$d/memory.events" oom_kill)
	((kills >= 1)) || fail "memory.events: $(cat "$d/memory.events")"
	berth delete --force "$id"
	assert_clean "$id"
}

test_update_changes_unit_properties_and_cgroup_files() {
	local id b d u
	id=$(new_id) b=$TESTDIR/b u=$(unit "$id")
	make_bundle "$b" "system.slice:berth:$id" '.linux.resources.memory = {limit: 33554432} | .linux.resources.pids = {limit: 10}' sleep 100
	create "$id" "$b"
	berth start "$id"
	d=$(cgdir "$id")
	berth update --memory 64m --pids-limit 20 --cpu-quota 20000 --cpu-period 50000 --cpu-share 2 "$id"
	assert_prop "$u" MemoryMax 67108864
	assert_prop "$u" TasksMax 20
	assert_prop "$u" CPUWeight "$(share_weight 2)"
	assert_prop "$u" CPUQuotaPerSecUSec 400ms
	assert_file "$d/memory.max" 67108864
	assert_file "$d/pids.max" 20
	assert_file "$d/cpu.max" "20000 50000"
	assert_file "$d/cpu.weight" "$(share_weight 2)"
	# Only the period: the quota stays, in the unit too.
	berth update --cpu-period 200000 "$id"
	assert_file "$d/cpu.max" "20000 200000"
	assert_prop "$u" CPUQuotaPerSecUSec 100ms
	assert_prop "$u" CPUQuotaPeriodUSec 200ms
	echo '{"memory": {"limit": -1}, "pids": {"limit": -1}, "cpu": {"quota": -1}}' | berth update -r - "$id"
	assert_prop "$u" MemoryMax infinity
	assert_prop "$u" TasksMax infinity
	assert_prop "$u" CPUQuotaPerSecUSec infinity
	assert_file "$d/memory.max" max
	assert_file "$d/pids.max" max
	[[ $(cut -d' ' -f1 "$d/cpu.max") == max ]] || fail "cpu.max: $(cat "$d/cpu.max")"
	berth delete --force "$id"
	assert_clean "$id"
}

test_pause_resume_freeze_the_scope() {
	local id b d
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b" "system.slice:berth:$id" . sh -c 'while :; do :; done'
	create "$id" "$b"
	berth start "$id"
	d=$(cgdir "$id")
	berth pause "$id"
	[[ $(kv "$d/cgroup.events" frozen) == 1 ]] || fail "cgroup.events: $(cat "$d/cgroup.events")"
	[[ $(state_field "$id" status) == paused ]] || fail "state: $(berth state "$id")"
	berth resume "$id"
	[[ $(kv "$d/cgroup.events" frozen) == 0 ]] || fail "cgroup.events after resume: $(cat "$d/cgroup.events")"
	[[ $(state_field "$id" status) == running ]] || fail "state after resume: $(berth state "$id")"
	# A paused container goes with delete --force, unit and all.
	berth pause "$id"
	berth delete --force "$id"
	assert_clean "$id"
}

test_exec_joins_the_scope() {
	local id b d pid out
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b" "system.slice:berth:$id" . sleep 100
	create "$id" "$b"
	berth start "$id"
	d=$(cgdir "$id")
	out=$(berth exec "$id" cat /proc/self/cgroup </dev/null 2>&1) || fail "exec: $out"
	[[ $out == "0::/" ]] || fail "exec sees cgroup '$out', want '0::/'"
	berth exec -d --pid-file "$TESTDIR/exec.pid" "$id" sleep 100 </dev/null >"$TESTDIR/exec.out" 2>&1 ||
		fail "exec -d: $(cat "$TESTDIR/exec.out")"
	pid=$(cat "$TESTDIR/exec.pid")
	assert_file "/proc/$pid/cgroup" "0::/system.slice/$(unit "$id")"
	berth delete --force "$id"
	! kill -0 "$pid" 2>/dev/null || fail "the exec'd process $pid survived delete --force"
	assert_clean "$id"
}

test_kill_all_kills_every_process_of_the_scope() {
	local id b d
	id=$(new_id) b=$TESTDIR/b
	# No pid namespace: killing init would not take the others with it.
	make_bundle "$b" "system.slice:berth:$id" '.linux.namespaces |= map(select(.type != "pid"))' \
		sh -c 'sleep 1001 & sleep 1002 & wait'
	create "$id" "$b"
	berth start "$id"
	d=$(cgdir "$id")
	wait_until 10 "3 processes" eval '(( $(wc -l <"$d/cgroup.procs") == 3 ))'
	berth kill --all "$id" KILL
	# systemd stops an empty scope and removes its cgroup.
	wait_until 10 "an empty scope" eval '[[ ! -d $d || $(kv "$d/cgroup.events" populated 2>/dev/null) == 0 ]]'
	wait_until 10 "the scope to stop" unit_gone "$(unit "$id")"
	wait_status "$id" stopped
	berth delete "$id"
	assert_clean "$id"
}

test_delete_force_removes_running_scope_with_subcgroups() {
	local id b d
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b" "system.slice:berth:$id" . sleep 100
	create "$id" "$b"
	berth start "$id"
	d=$(cgdir "$id")
	# Delegate=yes: the container's cgroup subtree is berth's (and its users').
	mkdir "$d/sub"
	! berth delete "$id" 2>/dev/null || fail "delete of a running container succeeded"
	berth delete --force "$id"
	assert_clean "$id"
	# The unit name is free again.
	create "$id" "$b"
	assert_prop "$(unit "$id")" ActiveState active
	berth delete "$id"
	assert_clean "$id"
}

test_custom_slice_holds_the_scope() {
	local id b d u
	id=$(new_id) b=$TESTDIR/b u=$(unit "$id")
	echo berthtest.slice >>"$TESTDIR/.units"
	make_bundle "$b" "berthtest.slice:berth:$id" . sleep 100
	create "$id" "$b"
	d=$(cgdir "$id" /berthtest.slice)
	assert_prop "$u" Slice berthtest.slice
	assert_prop berthtest.slice ActiveState active
	[[ $(wc -l <"$d/cgroup.procs") == 1 ]] || fail "$d/cgroup.procs: $(cat "$d/cgroup.procs")"
	berth delete "$id"
	assert_clean "$id" /berthtest.slice
}

test_name_ending_in_slice_makes_a_slice_unit() {
	local id b s d pid
	id=$(new_id) b=$TESTDIR/b s="berthc-${id//-/_}.slice"
	d=$CG/berthc.slice/$s
	printf '%s\n' "$s" berthc.slice >>"$TESTDIR/.units"
	make_bundle "$b" "system.slice:berth:$s" . sleep 100
	create "$id" "$b"
	assert_prop "$s" ActiveState active
	pid=$(state_field "$id" pid)
	assert_file "/proc/$pid/cgroup" "0::/berthc.slice/$s"
	berth delete "$id"
	unit_gone "$s" || fail "slice $s is $(prop "$s" ActiveState)"
	[[ ! -d $d ]] || fail "$d left behind"
}

test_bad_cgroups_path_fails_in_one_line_and_leaves_nothing() {
	local id b p out
	for p in "system.slice:berth:a/b" "nosuffix:berth:x" "a--b.slice:berth:x" "system.slice:berth"; do
		id=$(new_id) b=$TESTDIR/b
		make_bundle "$b" "$p"
		if out=$(berth create --bundle "$b" "$id" 2>&1 </dev/null); then
			fail "cgroupsPath $p: create succeeded"
		fi
		[[ $(printf '%s\n' "$out" | wc -l) == 1 && $out == *cgroupsPath* ]] ||
			fail "cgroupsPath $p: error is not one line naming cgroupsPath: $out"
		assert_clean "$id"
	done
}

test_same_cgroups_path_twice_fails_and_keeps_the_first() {
	local id1 id2 b u
	id1=$(new_id) id2=$(new_id) b=$TESTDIR/b u=$(unit "$id1")
	make_bundle "$b" "system.slice:berth:$id1" . sleep 100
	create "$id1" "$b"
	! out=$(berth create --bundle "$b" "$id2" 2>&1 </dev/null) || fail "second create succeeded"
	# Refused before systemd is asked: the scope's cgroup holds a process.
	[[ $out == *"$u: container's cgroup is not empty"* ]] || fail "error: $out"
	[[ ! -d $ROOT/$id2 ]] || fail "state of the failed create left"
	assert_prop "$u" ActiveState active
	[[ $(wc -l <"$(cgdir "$id1")/cgroup.procs") == 1 ]] || fail "the first container's scope lost its process"
	berth delete "$id1"
	assert_clean "$id1"
}

test_failed_create_stops_the_unit() {
	local id b
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b" "system.slice:berth:$id" . /no/such/program
	! out=$(berth create --bundle "$b" "$id" 2>&1 </dev/null) || fail "create succeeded"
	[[ $out == *no/such/program* ]] || fail "error: $out"
	assert_clean "$id"
}

TESTS_IN_ORDER=(
	test_create_starts_a_delegated_scope_holding_init
	test_default_cgroups_path_is_berth_id_scope_in_system_slice
	test_limits_reach_unit_properties_and_cgroup_files
	test_pids_limit_stops_forks
	test_memory_limit_oom_kills
	test_update_changes_unit_properties_and_cgroup_files
	test_pause_resume_freeze_the_scope
	test_exec_joins_the_scope
	test_kill_all_kills_every_process_of_the_scope
	test_delete_force_removes_running_scope_with_subcgroups
	test_custom_slice_holds_the_scope
	test_name_ending_in_slice_makes_a_slice_unit
	test_bad_cgroups_path_fails_in_one_line_and_leaves_nothing
	test_same_cgroups_path_twice_fails_and_keeps_the_first
	test_failed_create_stops_the_unit
)

# ----------------------------------------------------------------- runner ---

run_tests BERTH-SYSTEMD-RESULT sd .ids .units
