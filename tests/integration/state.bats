#!/usr/bin/env bats
# `berth state ID`: the OCI state of one container, as JSON.

load helpers

@test "state of a created container has every OCI field" {
	set_args sleep 1000
	update_config '.annotations = {"org.berth.test": "state-annotation", "second": "2"}'
	id=$(new_id)
	before=$(date +%s)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	after=$(date +%s)

	run berth state "$id"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e . >/dev/null

	ver=$(jq -r .ociVersion <<<"$output")
	[[ $ver =~ ^1\.[0-9]+\.[0-9]+ ]]
	[ "$(jq -r .id <<<"$output")" = "$id" ]
	[ "$(jq -r .status <<<"$output")" = created ]
	pid=$(jq -r .pid <<<"$output")
	[[ $pid =~ ^[0-9]+$ ]] && [ "$pid" -gt 0 ]
	pid_alive "$pid"
	[ "$(jq -r .bundle <<<"$output")" = "$BUNDLE" ]
	[ "$(jq -r .rootfs <<<"$output")" = "$BUNDLE/rootfs" ]
	# created is an RFC 3339 time between the calls around create
	created=$(jq -r .created <<<"$output")
	[[ $created =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2} ]]
	t=$(date -d "$created" +%s)
	[ "$t" -ge "$before" ] && [ "$t" -le "$after" ]
	[ "$(jq -r '.owner | type' <<<"$output")" = string ]
	[ "$(jq -r '.annotations["org.berth.test"]' <<<"$output")" = state-annotation ]
	[ "$(jq -r '.annotations.second' <<<"$output")" = 2 ]
}

@test "state reports the process of the container as pid" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	[ "$(cat "/proc/$pid/comm")" = sleep ]
	# the pid is in the host's pid namespace, and is PID 1 of the container's
	[ "$(awk '/^NSpid:/ {print $NF}' "/proc/$pid/status")" = 1 ]
}

@test "state of a running container says running" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	run berth state "$id"
	[ "$status" -eq 0 ]
	[ "$(jq -r .status <<<"$output")" = running ]
}

@test "state of a container whose process exited says stopped" {
	set_args true
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	run berth start "$id"
	[ "$status" -eq 0 ]
	wait_for_status "$id" stopped
	run berth state "$id"
	[ "$status" -eq 0 ]
	[ "$(jq -r .id <<<"$output")" = "$id" ]
	[ "$(jq -r .bundle <<<"$output")" = "$BUNDLE" ]
}

@test "state says stopped when the process was killed behind the runtime's back" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	kill -KILL "$pid"
	wait_for_status "$id" stopped
}

@test "state has no annotations field, or an empty one, when config.json has none" {
	set_args sleep 1000
	update_config 'del(.annotations)'
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	run berth state "$id"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.annotations // {} | length' <<<"$output")" -eq 0 ]
}

@test "state shows the bundle as an absolute path when given a relative one" {
	set_args sleep 1000
	id=$(new_id)
	cd "$TESTDIR"
	run_detached berth create --bundle bundle "$id"
	[ "$status" -eq 0 ]
	[ "$(state_field "$id" bundle)" = "$TESTDIR/bundle" ]
	[ "$(state_field "$id" rootfs)" = "$TESTDIR/bundle/rootfs" ]
}

@test "state of a nonexistent id fails" {
	id=$(new_id)
	run berth state "$id"
	[ "$status" -eq 1 ]
	[[ $output == *"container $id does not exist"* ]]
}
