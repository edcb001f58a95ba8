#!/usr/bin/env bats
# `berth list`: every container in --root, as a table, JSON or ids.

load helpers

# list_status ID: the status `list --format json` gives container ID.
list_status() {
	berth list --format json | jq -r --arg id "$1" '.[] | select(.id == $id) | .status'
}

# Two containers: one created, one running.
two_containers() {
	set_args sleep 1000
	id_created=$(new_id)
	id_running=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id_created"
	[ "$status" -eq 0 ]
	run_detached berth run -d --bundle "$BUNDLE" "$id_running"
	[ "$status" -eq 0 ]
}

@test "list prints a table with runc's header and one row per container" {
	two_containers
	run berth list
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	read -ra header <<<"${lines[0]}"
	[ "${header[*]}" = "ID PID STATUS BUNDLE CREATED OWNER" ]

	row=$(printf '%s\n' "${lines[@]:1}" | grep "^$id_created ")
	read -ra f <<<"$row"
	[ "${f[0]}" = "$id_created" ]
	[ "${f[1]}" = "$(state_field "$id_created" pid)" ]
	[ "${f[2]}" = created ]
	[ "${f[3]}" = "$BUNDLE" ]
	[[ ${f[4]} =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T ]]

	row=$(printf '%s\n' "${lines[@]:1}" | grep "^$id_running ")
	read -ra f <<<"$row"
	[ "${f[1]}" = "$(state_field "$id_running" pid)" ]
	[ "${f[2]}" = running ]
}

@test "list of an empty root prints only the header" {
	mkdir -m 0700 "$ROOT"
	run berth list
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	read -ra header <<<"${lines[0]}"
	[ "${header[*]}" = "ID PID STATUS BUNDLE CREATED OWNER" ]
}

@test "list --format json prints every container's state" {
	two_containers
	run berth list --format json
	[ "$status" -eq 0 ]
	[ "$(jq -r 'type' <<<"$output")" = array ]
	[ "$(jq -r 'length' <<<"$output")" -eq 2 ]
	c=$(jq -c --arg id "$id_created" '.[] | select(.id == $id)' <<<"$output")
	[ "$(jq -r .status <<<"$c")" = created ]
	[ "$(jq -r .pid <<<"$c")" = "$(state_field "$id_created" pid)" ]
	[ "$(jq -r .bundle <<<"$c")" = "$BUNDLE" ]
	jq -e '.created | test("^[0-9]{4}-")' <<<"$c"
	r=$(jq -c --arg id "$id_running" '.[] | select(.id == $id)' <<<"$output")
	[ "$(jq -r .status <<<"$r")" = running ]
}

@test "list -f json is the short form of --format json" {
	two_containers
	run berth list -f json
	[ "$status" -eq 0 ]
	[ "$(jq -r '[.[].id] | sort | join(" ")' <<<"$output")" = "$(printf '%s\n' "$id_created" "$id_running" | sort | tr '\n' ' ' | sed 's/ $//')" ]
}

@test "list --format json of an empty root has no entries" {
	mkdir -m 0700 "$ROOT"
	run berth list --format json
	[ "$status" -eq 0 ]
	[ "$(jq -r 'length' <<<"$output")" -eq 0 ]
}

@test "list -q prints only the ids" {
	two_containers
	run berth list -q
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "${lines[@]}" | sort)" = "$(printf '%s\n' "$id_created" "$id_running" | sort)" ]
}

@test "list --quiet is the long form of -q" {
	two_containers
	run berth list --quiet
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "list shows a stopped container as stopped" {
	set_args true
	id=$(new_id)
	run berth run --keep --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$(list_status "$id")" = stopped ]
}

@test "list does not show deleted containers" {
	two_containers
	run berth delete --force "$id_running"
	[ "$status" -eq 0 ]
	run berth list -q
	[ "$status" -eq 0 ]
	[ "$output" = "$id_created" ]
}

@test "a created container's init is named berth:init until it execs the process" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	[ "$(cat /proc/"$pid"/comm)" = berth:init ]
	run berth start "$id"
	[ "$status" -eq 0 ]
	[ "$(cat /proc/"$pid"/comm)" = sleep ]
}

@test "list shows a running process that names itself berth:init as running" {
	set_args sh -c 'printf berth:init >/proc/$$/comm; while :; do sleep 1; done'
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	for _ in $(seq 100); do
		[ "$(cat /proc/"$pid"/comm)" = berth:init ] && break
		sleep 0.05
	done
	[ "$(cat /proc/"$pid"/comm)" = berth:init ]
	[ "$(list_status "$id")" = running ]
}

@test "list shows a created container as created from a state that does not name init" {
	# States written before init was named: the exec fifo alone tells.
	set_args sleep 1000
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	jq -c 'del(.initComm)' "$ROOT/$id/state.json" >"$TESTDIR/state.json"
	cat "$TESTDIR/state.json" >"$ROOT/$id/state.json"
	[ "$(jq -r 'has("initComm")' "$ROOT/$id/state.json")" = false ]
	[ "$(list_status "$id")" = created ]
	run berth start "$id"
	[ "$status" -eq 0 ]
	[ "$(list_status "$id")" = running ]
}

@test "list with a --root that does not exist fails in one line naming it" {
	run "$BERTH" --root "$TESTDIR/no-such-root" list
	assert_error
	[ "${lines[0]}" = "berth: --root: stat $TESTDIR/no-such-root: no such file or directory" ]
	[ ! -e "$TESTDIR/no-such-root" ]
}
