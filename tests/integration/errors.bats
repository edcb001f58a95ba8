#!/usr/bin/env bats
# Failures: each exits 1 with one line "berth: <message>" on stderr, and
# leaves nothing behind (no state dir, no cgroup, no process).

load helpers

# create_fails: `berth create` of a new container from $BUNDLE fails; sets
# id, status, output, lines. stderr only: stdout must stay empty.
create_fails() {
	id=$(new_id)
	status=0
	berth create --bundle "$BUNDLE" "$id" </dev/null >"$TESTDIR/stdout" 2>"$TESTDIR/stderr" || status=$?
	output=$(<"$TESTDIR/stderr")
	lines=()
	if [[ -n $output ]]; then mapfile -t lines <<<"$output"; fi
	[ ! -s "$TESTDIR/stdout" ] || fail "stdout: $(cat "$TESTDIR/stdout")"
}

@test "invalid JSON in config.json: the error names line and column" {
	cat >"$BUNDLE/config.json" <<-'EOF'
		{
		  "ociVersion": "1.0.2",
		  "process": {"cwd": "/",, "args": ["true"]}
		}
	EOF
	create_fails
	assert_error
	[[ ${lines[0]} == "berth: config.json: "* ]]
	[[ ${lines[0]} =~ line\ 3\ col\ [0-9]+ ]]
	assert_nothing_left "$id"
}

@test "a missing config.json is an error naming it" {
	rm "$BUNDLE/config.json"
	create_fails
	assert_error
	[[ ${lines[0]} == *config.json* ]]
	assert_nothing_left "$id"
}

@test "a missing process.cwd is an error naming the field" {
	update_config 'del(.process.cwd)'
	create_fails
	assert_error
	[[ ${lines[0]} == "berth: config.json: process.cwd: "* ]]
	assert_nothing_left "$id"
}

@test "a relative process.cwd is an error naming the field" {
	update_config '.process.cwd = "tmp"'
	create_fails
	assert_error
	[ "${lines[0]}" = 'berth: config.json: process.cwd: "tmp" is not an absolute path' ]
	assert_nothing_left "$id"
}

@test "an unknown namespace type is an error naming linux.namespaces[i].type" {
	n=$(jq '.linux.namespaces | length' "$BUNDLE/config.json")
	update_config '.linux.namespaces += [{type: "foo"}]'
	create_fails
	assert_error
	[ "${lines[0]}" = "berth: config.json: linux.namespaces[$n].type: unknown namespace type \"foo\"" ]
	assert_nothing_left "$id"
}

@test "a missing rootfs is an error naming root.path" {
	update_config '.root.path = "no-such-rootfs"'
	create_fails
	assert_error
	[[ ${lines[0]} == "berth: config.json: root.path: "* ]]
	assert_nothing_left "$id"
}

@test "a mount that fails names its destination" {
	add_mount '{"destination": "/badmnt", "type": "nosuchfs", "source": "none"}'
	create_fails
	assert_error
	[[ ${lines[0]} == */badmnt* ]]
	assert_nothing_left "$id"
}

@test "an unknown mount option is passed as data, not refused" {
	# tmpfs knows "size"; an option berth has no flag for goes to the
	# filesystem as data.
	add_mount '{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nr_inodes=1000"]}'
	set_args sh -c 'grep " /scratch " /proc/mounts'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[[ $output == *nr_inodes=1000* ]]
}

@test "an args[0] not in the container fails create with 'executable file not found'" {
	set_args no-such-binary
	create_fails
	assert_error
	[[ ${lines[0]} == *no-such-binary* ]]
	[[ ${lines[0]} == *"executable file not found"* ]]
	assert_nothing_left "$id"
}

@test "overlapping uid mappings are an error naming linux.uidMappings" {
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 1000}, {containerID: 1000, hostID: 100500, size: 1000}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	create_fails
	assert_error
	[[ ${lines[0]} == *linux.uidMappings* ]]
	assert_nothing_left "$id"
}

@test "a config without a process is refused" {
	update_config 'del(.process)'
	create_fails
	assert_error
	[[ ${lines[0]} == *process* ]]
	assert_nothing_left "$id"
}

@test "creating an existing id fails with 'already exists' and leaves the first container intact" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)

	make_bundle "$TESTDIR/other"
	status=0
	berth create --bundle "$TESTDIR/other" "$id" </dev/null >/dev/null 2>"$TESTDIR/stderr" || status=$?
	output=$(<"$TESTDIR/stderr")
	mapfile -t lines <<<"$output"
	assert_error
	[ "${lines[0]}" = "berth: container $id already exists" ]

	[ "$(state_field "$id" status)" = created ]
	[ "$(state_field "$id" pid)" = "$pid" ]
	[ "$(state_field "$id" bundle)" = "$BUNDLE" ]
	pid_alive "$pid"
	run berth start "$id"
	[ "$status" -eq 0 ]
	wait_for_status "$id" running
}

@test "commands on an unknown id say 'container <id> does not exist'" {
	id=$(new_id)
	for cmd in state start kill delete; do
		run berth "$cmd" "$id"
		assert_error
		[ "${lines[0]}" = "berth: container $id does not exist" ] || fail "$cmd: ${lines[0]}"
	done
}

@test "ids with a slash or .. are rejected and create nothing" {
	set_args sleep 1000
	for bad in "a/b" ".." "../escape" "."; do
		run berth create --bundle "$BUNDLE" "$bad"
		assert_error
		[[ ${lines[0]} == *"$bad"* ]] || fail "the error does not name '$bad': ${lines[0]}"
	done
	[ ! -e "$TESTDIR/escape" ]
	[ ! -e "$ROOT/a" ]
	if [ -d "$ROOT" ]; then [ -z "$(ls -A "$ROOT")" ]; fi
	[ -z "$(runtime_procs)" ]
}

@test "--log with --log-format json records the error as a JSON line" {
	id=$(new_id)
	run berth --log "$TESTDIR/log.json" --log-format json state "$id"
	[ "$status" -eq 1 ]
	line=$(grep '"level":"error"' "$TESTDIR/log.json" | tail -n1)
	[ "$(jq -r .level <<<"$line")" = error ]
	[[ $(jq -r .msg <<<"$line") == *"$id"* ]]
	jq -e '.time | length > 0' <<<"$line"
}

@test "an unknown --log-format is an error" {
	run berth --log-format yaml list
	assert_error
}

@test "commands berth does not implement yet say so" {
	id=$(new_id)
	for cmd in checkpoint restore; do
		run berth "$cmd" "$id"
		assert_error
		[[ ${lines[0]} == *"not implemented yet"* ]] || fail "$cmd: ${lines[0]}"
	done
}

@test "an unknown flag is a one-line error, not the usage text" {
	run berth kill --no-such-flag x
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *"kill: flag provided but not defined"* ]]
	run berth --no-such-flag list
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
}
