#!/usr/bin/env bats
# pause and resume: the v1 freezer of the container's cgroup.

load helpers

# freezer_state ID: freezer.state of the container's cgroup, found through
# its init's /proc/<pid>/cgroup.
freezer_state() {
	local pid path
	pid=$(state_field "$1" pid)
	path=$(awk -F: '$2 ~ /(^|,)freezer(,|$)/ { print $3 }' "/proc/$pid/cgroup")
	[[ -n $path ]] || fail "init $pid has no freezer cgroup"
	cat "$CGROUP_MNT/freezer$path/freezer.state"
}

# start_sleeper: runs a detached container whose init and one child sleep;
# sets id.
start_sleeper() {
	set_args sh -c 'sleep 1000 & exec sleep 1000'
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "run: $output"
}

@test "pause freezes the container, resume thaws it" {
	start_sleeper
	run berth pause "$id"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(state_field "$id" status)" = paused ]
	[ "$(berth list --format json | jq -r --arg id "$id" '.[] | select(.id == $id) | .status')" = paused ]
	[ "$(freezer_state "$id")" = FROZEN ]
	# Every process of the container is frozen, the child too.
	for p in $(berth ps --format json "$id" | jq -r '.[]'); do
		[ "$(awk '/^State:/ { print $2 }' "/proc/$p/status")" = D ] || fail "process $p is not frozen: $(grep State "/proc/$p/status")"
	done
	run berth resume "$id"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(state_field "$id" status)" = running ]
	[ "$(freezer_state "$id")" = THAWED ]
	pid=$(state_field "$id" pid)
	[ "$(awk '/^State:/ { print $2 }' "/proc/$pid/status")" = S ]
}

@test "pause of a paused container and resume of a running one fail" {
	start_sleeper
	run berth resume "$id"
	assert_error
	[[ $output == *"container not paused"* ]]
	[ "$(state_field "$id" status)" = running ]
	berth pause "$id"
	run berth pause "$id"
	assert_error
	[[ $output == *"container not running"* ]]
	[ "$(state_field "$id" status)" = paused ]
}

@test "a paused container can be deleted with --force" {
	start_sleeper
	berth pause "$id"
	run berth delete --force "$id"
	[ "$status" -eq 0 ]
	assert_nothing_left "$id"
}

@test "pause of a created or stopped container fails" {
	set_args true
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	run berth pause "$id"
	assert_error
	[[ $output == *"container not running"* ]]
	[ "$(state_field "$id" status)" = created ]
	berth start "$id"
	wait_for_status "$id" stopped
	run berth pause "$id"
	assert_error
	[[ $output == *"container not running"* ]]
	run berth resume "$id"
	assert_error
	[[ $output == *"container not paused"* ]]
}

@test "pause and resume of an unknown container fail" {
	for cmd in pause resume; do
		run berth "$cmd" nosuch-container
		assert_error
		[ "$output" = "berth: container nosuch-container does not exist" ]
	done
	run berth pause
	assert_error
}
