#!/usr/bin/env bats
# ps: the container's processes, as host pids (json) or host ps lines.

load helpers

# start_sleeper: a detached container whose init (a shell) started a
# child; sets id, pid (init) and child (the child's host pid).
start_sleeper() {
	set_args sh -c 'sleep 1000 & echo $! > /tmp/child; wait'
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "run: $output"
	pid=$(state_field "$id" pid)
	wait_for_file "$BUNDLE/rootfs/tmp/child"
	# The child's host pid: init's only child.
	child=$(cat "/proc/$pid/task/$pid/children")
	child=${child% }
	[[ $child =~ ^[0-9]+$ ]] || fail "init $pid has children '$child', want one"
}

@test "ps --format json lists init and its child as host pids" {
	start_sleeper
	run berth ps --format json "$id"
	[ "$status" -eq 0 ]
	[ "$(jq -c 'sort' <<<"$output")" = "$(jq -nc --argjson a "$pid" --argjson b "$child" '[$a, $b] | sort')" ]
	# -f and --format=json are the same.
	run berth ps -f json "$id"
	[ "$status" -eq 0 ]
	[ "$(jq length <<<"$output")" -eq 2 ]
	run berth ps --format=json "$id"
	[ "$status" -eq 0 ]
	[ "$(jq length <<<"$output")" -eq 2 ]
}

@test "ps (table) keeps the header and only the container's lines" {
	start_sleeper
	run berth ps "$id"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ] || fail "want header + 2 lines: $output"
	[[ ${lines[0]} == UID*PID*PPID*CMD* ]]
	got=$(printf '%s\n' "${lines[@]:1}" | awk '{ print $2 }' | sort -n | tr '\n' ' ')
	want=$(printf '%s\n' "$pid" "$child" | sort -n | tr '\n' ' ')
	[ "$got" = "$want" ]
}

@test "ps passes its extra arguments to the host ps" {
	start_sleeper
	run berth ps "$id" -o pid,ppid,comm
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ] || fail "want header + 2 lines: $output"
	[ "$(echo ${lines[0]})" = "PID PPID COMMAND" ]
	line=$(printf '%s\n' "${lines[@]}" | awk -v c="$child" '$1 == c')
	[ "$(echo $line)" = "$child $pid sleep" ]
	# A ps output without a PID column cannot be filtered.
	run berth ps "$id" -o comm
	assert_error
	[[ $output == *"no PID column"* ]]
}

@test "ps errors: unknown format, unknown container" {
	start_sleeper
	run berth ps --format xml "$id"
	assert_error
	[ "$output" = 'berth: ps: invalid format "xml": must be table or json' ]
	run berth ps --format json nosuch-container
	assert_error
	[ "$output" = "berth: container nosuch-container does not exist" ]
}
