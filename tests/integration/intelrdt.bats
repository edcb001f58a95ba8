#!/usr/bin/env bats
# linux.intelRdt: the container's processes in a resctrl group. This host
# has no RDT, so the groups are checked against a fake resctrl tree (a
# plain directory berth is pointed at with _BERTH_RESCTRL, shaped like the
# kernel's), and the real-host error path against the host itself.

load helpers

setup() {
	berth_setup
	FAKE=$TESTDIR/resctrl
	mkdir -p "$FAKE/mon_groups" "$FAKE/gold/mon_groups"
	printf '    L3:0=0f0\n    MB:0= 20\n' >"$FAKE/gold/schemata"
}

@test "linux.intelRdt without a resctrl mount fails create with one line naming the field, and leaves nothing" {
	if grep -qw resctrl /proc/self/mountinfo; then
		skip "this host has resctrl mounted"
	fi
	update_config '.linux.intelRdt = {closID: "gold"}'
	id=$(new_id)
	run berth create --bundle "$BUNDLE" "$id"
	assert_error
	[[ $output == *"linux.intelRdt: no resctrl filesystem is mounted"* ]] || fail "$output"
	[ ! -e "$ROOT/$id" ] || fail "state left behind"
}

@test "linux.intelRdt without closID: init and exec'd processes join a group named after the container, which delete removes" {
	update_config '.linux.intelRdt = {l3CacheSchema: "L3:0=f", memBwSchema: "MB:0=50", schemata: ["L2:0=3"]}'
	set_args sleep 100
	id=$(new_id)
	_BERTH_RESCTRL=$FAKE run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	pid=$(state_field "$id" pid)
	[ "$(cat "$FAKE/$id/tasks")" = "$pid" ] || fail "init $pid not in $FAKE/$id/tasks: $(cat "$FAKE/$id/tasks")"
	[ "$(cat "$FAKE/$id/schemata")" = $'L3:0=f\nMB:0=50\nL2:0=3' ] || fail "schemata: $(cat "$FAKE/$id/schemata")"
	_BERTH_RESCTRL=$FAKE run_detached berth exec -d "$id" sleep 100
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(wc -l <"$FAKE/$id/tasks")" = 2 ] || fail "the exec'd process did not join: $(cat "$FAKE/$id/tasks")"
	_BERTH_RESCTRL=$FAKE run berth delete --force "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ ! -e "$FAKE/$id" ] || fail "the group berth made is still there"
}

@test "linux.intelRdt closID of a pre-configured group with monitoring: the group stays on delete, the monitoring group goes" {
	update_config '.linux.intelRdt = {closID: "gold", schemata: ["L3:0=F0", "MB:0=20"], enableMonitoring: true}'
	set_args sleep 100
	id=$(new_id)
	_BERTH_RESCTRL=$FAKE run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	pid=$(state_field "$id" pid)
	[ "$(cat "$FAKE/gold/tasks")" = "$pid" ] || fail "init not in the closID group"
	[ "$(cat "$FAKE/gold/mon_groups/$id/tasks")" = "$pid" ] || fail "init not in its monitoring group"
	[ "$(wc -l <"$FAKE/gold/schemata")" = 2 ] || fail "matching schemata written again: $(cat "$FAKE/gold/schemata")"
	_BERTH_RESCTRL=$FAKE run berth delete --force "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ -d "$FAKE/gold" ] || fail "the closID group was removed"
	[ ! -e "$FAKE/gold/mon_groups/$id" ] || fail "the monitoring group is still there"
}

@test "linux.intelRdt schemata that an existing closID group does not hold fail create, leaving the group as it was" {
	update_config '.linux.intelRdt = {closID: "gold", l3CacheSchema: "L3:0=ff"}'
	id=$(new_id)
	_BERTH_RESCTRL=$FAKE run_detached berth create --bundle "$BUNDLE" "$id"
	assert_error
	[[ $output == *"linux.intelRdt: closID \"gold\": the existing group's schemata do not hold \"L3:0=ff\""* ]] || fail "$output"
	[ "$(cat "$FAKE/gold/schemata")" = $'    L3:0=0f0\n    MB:0= 20' ] || fail "schemata changed"
	[ ! -e "$ROOT/$id" ] || fail "state left behind"
}

@test "linux.intelRdt closID of a group that does not exist, without schemata, fails create" {
	update_config '.linux.intelRdt = {closID: "silver"}'
	id=$(new_id)
	_BERTH_RESCTRL=$FAKE run_detached berth create --bundle "$BUNDLE" "$id"
	assert_error
	[[ $output == *'linux.intelRdt: closID "silver": no resctrl group'* ]] || fail "$output"
	[ ! -e "$FAKE/silver" ] || fail "a group was made"
}
