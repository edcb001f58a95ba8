#!/usr/bin/env bats
# --debug: records in logrus's format (text on stderr or in --log, JSON
# with --log-format json), with the phases of berth init named as runc
# names its own: "nsexec container setup" (the namespace constructor),
# "child process in init()" (init's C or Go stage, or exec's),
# "init: closing the pipe to signal completion" (init ready, before it
# waits for start), "setns_init: about to exec" (exec, just before execve).

load helpers

# init_phases_named TEXT: TEXT has create's phase lines.
init_phases_named() {
	local p
	for p in "nsexec container setup" "child process in init()" "init: closing the pipe to signal completion"; do
		[[ $1 == *"$p"* ]] || fail "no '$p' in: $1"
	done
}

@test "--debug writes logrus text records with init's phases to stderr, C init and Go init alike, and the process gets no log fd" {
	set_args sh -c 'ls /proc/self/fd'
	local flags
	# --no-pivot keeps init in Go (cinit.go's useCInit).
	for flags in "" --no-pivot; do
		id=$(new_id)
		run berth --debug run $flags --bundle "$BUNDLE" "$id"
		echo "run $flags: $output"
		[ "$status" -eq 0 ]
		init_phases_named "$output"
		grep -Eq '^time="[0-9T:.+Z-]+" level=debug msg="' <<<"$output" || fail "not logrus text"
		! grep -v -e '^time="[^"]*" level=debug msg=".*"$' -e '^[0-3]$' <<<"$output" || fail "run $flags: a line that is neither a record nor the fds 0-3"
		if [[ -n $flags ]]; then
			[[ $output == *"child process in init(): Go init"* ]] || fail "Go init not named"
		else
			[[ $output == *"child process in init(): C init"* ]] || fail "C init not named"
		fi
	done
}

@test "--debug --log FILE sends the records to FILE as logrus text and none to stderr" {
	set_args true
	id=$(new_id)
	run berth --debug --log "$TESTDIR/log" run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ -z "$output" ] || fail "stderr: $output"
	init_phases_named "$(cat "$TESTDIR/log")"
	! grep -v '^time="[^"]*" level=debug msg=".*"$' "$TESTDIR/log" || fail "not all logrus text"
	rm "$TESTDIR/log"
	run berth --debug --log "$TESTDIR/log" --log-format text run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -eq 0 ]
	[ -z "$output" ] || fail "stderr: $output"
	init_phases_named "$(cat "$TESTDIR/log")"
}

@test "--debug --log FILE --log-format json writes one JSON record a line, level debug" {
	set_args true
	id=$(new_id)
	run berth --debug --log "$TESTDIR/log.json" --log-format json run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ -z "$output" ] || fail "stderr: $output"
	jq -e -s 'length > 3 and all(.[]; .level == "debug" and (.time | length > 0) and (.msg | type == "string"))' "$TESTDIR/log.json" >/dev/null || fail "$(cat "$TESTDIR/log.json")"
	init_phases_named "$(jq -r .msg "$TESTDIR/log.json")"
}

@test "--debug exec names its phases, to stderr or to --log" {
	set_args sleep 300
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "run -d: $output"
	local p
	run berth --debug exec "$id" true
	[ "$status" -eq 0 ]
	for p in "nsexec container setup (exec)" "child process in init()" "setns_init: about to exec /bin/true"; do
		[[ $output == *"level=debug msg=\""*"$p"* ]] || fail "no '$p' in: $output"
	done
	run berth --debug --log "$TESTDIR/log" exec "$id" true
	[ "$status" -eq 0 ]
	[ -z "$output" ] || fail "stderr: $output"
	for p in "nsexec container setup (exec)" "child process in init()" "setns_init: about to exec /bin/true"; do
		grep -qF "$p" "$TESTDIR/log" || fail "no '$p' in: $(cat "$TESTDIR/log")"
	done
	# Without --debug: nothing.
	run berth exec "$id" true
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}
