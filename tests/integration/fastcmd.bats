#!/usr/bin/env bats
# start, kill and delete in C (internal/fastcmd): which cases the C path
# takes, that it leaves exactly what the Go path leaves, and that it hands
# everything else to Go. _BERTH_FASTCMD=trace makes berth say on stderr
# which path ran; _BERTH_FASTCMD=off forces Go.

load helpers

# traced CMD...: runs berth with the trace on; sets status, output, lines.
traced() {
	run env _BERTH_FASTCMD=trace timeout --kill-after=5 "$BERTH_CMD_TIMEOUT" "$BERTH" --root "$ROOT" "$@"
}

# cgroup_dirs ID: the cgroup directories state.json names.
cgroup_dirs() {
	jq -r '.cgroup.paths[]' "$ROOT/$1/state.json" | sort -u
}

# assert_gone ID DIRS: no state directory and none of DIRS.
assert_gone() {
	local id=$1 d
	[ ! -e "$ROOT/$id" ] || fail "$ROOT/$id is still there"
	for d in $2; do
		[ ! -e "$d" ] || fail "cgroup $d is still there"
	done
}

@test "start, kill and delete of a plain container run in C and leave nothing" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ -s "$ROOT/$id/fast" ]
	dirs=$(cgroup_dirs "$id")
	[ -n "$dirs" ]

	traced start "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "berth: fast path: start $id: done" ]
	[ "$(state_field "$id" status)" = running ]
	[ ! -e "$ROOT/$id/exec.fifo" ]

	traced kill "$id" KILL
	[ "$status" -eq 0 ]
	[ "$output" = "berth: fast path: kill $id: done" ]
	wait_for_status "$id" stopped

	traced delete "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "berth: fast path: delete $id: done" ]
	assert_gone "$id" "$dirs"
}

@test "kill in C takes a signal as a name, SIG name, lower case or number" {
	mkdir -p "$TESTDIR/out"
	add_mount "{\"destination\": \"/out\", \"type\": \"bind\", \"source\": \"$TESTDIR/out\", \"options\": [\"rbind\", \"rw\"]}"
	set_args sh -c 'trap "echo >> /out/usr1" USR1; while :; do sleep 1 & wait $!; done'
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	n=0
	for sig in USR1 SIGUSR1 usr1 10; do
		traced kill "$id" "$sig"
		[ "$status" -eq 0 ]
		[ "$output" = "berth: fast path: kill $id: done" ]
		n=$((n + 1))
		for _ in $(seq 100); do
			[[ $(wc -l <"$TESTDIR/out/usr1" 2>/dev/null) -ge $n ]] && break
			sleep 0.05
		done
		[ "$(wc -l <"$TESTDIR/out/usr1")" -eq "$n" ]
	done
}

@test "kill of an unknown signal or of a stopped container gets Go's one-line error" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	traced kill "$id" SIGNOTREAL
	assert_error
	[[ $output == *'invalid signal "SIGNOTREAL"'* ]]
	[ "$(state_field "$id" status)" = running ]

	berth kill "$id" KILL
	wait_for_status "$id" stopped
	traced kill "$id" TERM
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "berth: fast path: kill $id: fell back (not running)" ]
	[ "${lines[1]}" = "berth: cannot signal container $id: container not running" ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "delete in C removes a created container without --force and kills its init" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	dirs=$(cgroup_dirs "$id")
	traced delete "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "berth: fast path: delete $id: done" ]
	assert_gone "$id" "$dirs"
	! pid_alive "$pid"
}

@test "delete --force in C kills a running container and removes it" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	dirs=$(cgroup_dirs "$id")
	traced delete --force "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "berth: fast path: delete $id: done" ]
	assert_gone "$id" "$dirs"
	! pid_alive "$pid"
}

@test "delete of a running container without --force gets Go's refusal and changes nothing" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	traced delete "$id"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "berth: fast path: delete $id: fell back (running without --force)" ]
	[ "${lines[1]}" = "berth: cannot delete container $id: it is running, not stopped (use --force)" ]
	[ "$(state_field "$id" status)" = running ]
	[ -s "$ROOT/$id/fast" ]
}

@test "delete --force of a paused container goes to Go, which thaws and removes it" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	berth pause "$id"
	dirs=$(cgroup_dirs "$id")
	traced delete --force "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "berth: fast path: delete $id: fell back (paused)" ]
	assert_gone "$id" "$dirs"
}

@test "a sub-cgroup left behind makes delete go to Go, which removes it" {
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	wait_for_status "$id" stopped
	dirs=$(cgroup_dirs "$id")
	first=$(head -n1 <<<"$dirs")
	mkdir "$first/sub"
	traced delete "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "berth: fast path: delete $id: fell back (cgroup not removable)" ]
	assert_gone "$id" "$dirs"
}

@test "an exec failure at start is reported in C as Go reports it, on stderr and in --log" {
	update_config '.process.cwd = "/etc/passwd/x"'
	for mode in trace off; do
		id=$(new_id)
		run_detached berth create --bundle "$BUNDLE" "$id"
		[ "$status" -eq 0 ]
		run env _BERTH_FASTCMD=$mode "$BERTH" --root "$ROOT" --log "$TESTDIR/log.$mode" --log-format json start "$id"
		[ "$status" -eq 1 ]
		if [[ $mode == trace ]]; then
			[ "${lines[0]}" = "berth: fast path: start $id: failed" ]
			[ "${#lines[@]}" -eq 2 ]
		else
			[ "${#lines[@]}" -eq 1 ]
		fi
		want="start container $id: process.cwd /etc/passwd/x: chdir: not a directory"
		[ "${lines[-1]}" = "berth: $want" ]
		[ "$(jq -r 'select(.level == "error") | .msg' "$TESTDIR/log.$mode")" = "$want" ]
		[ "$(state_field "$id" status)" = stopped ]
		[ ! -e "$ROOT/$id/exec.fifo" ]
	done
}

@test "the C path creates the --log file as the Go path does" {
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	run env _BERTH_FASTCMD=trace "$BERTH" --root "$ROOT" --log "$TESTDIR/berth.log" --log-format text start "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "berth: fast path: start $id: done" ]
	[ -f "$TESTDIR/berth.log" ]
}

@test "a container with poststart or poststop hooks gets no record and Go runs its hooks" {
	update_config ".hooks = {poststop: [{path: \"/bin/sh\", args: [\"sh\", \"-c\", \"echo ran > $TESTDIR/poststop\"]}]}"
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ ! -e "$ROOT/$id/fast" ]
	wait_for_status "$id" stopped
	traced delete "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "berth: fast path: delete $id: fell back (no fast record)" ]
	[ "$(cat "$TESTDIR/poststop")" = ran ]
}

@test "a damaged record sends start to Go, which starts the container" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	head -c 20 "$ROOT/$id/fast" >"$ROOT/$id/fast.tmp"
	mv "$ROOT/$id/fast.tmp" "$ROOT/$id/fast"
	traced start "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "berth: fast path: start $id: fell back (no fast record)" ]
	[ "$(state_field "$id" status)" = running ]
}

@test "start in C waits for the container's lock" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	exec {lock}<"$ROOT/$id"
	flock -x "$lock"
	BERTH_CMD_TIMEOUT=1 run berth start "$id"
	exec {lock}<&-
	[ "$status" -eq 124 ]
	[ "$(state_field "$id" status)" = created ]
	traced start "$id"
	[ "$status" -eq 0 ]
	[ "$(state_field "$id" status)" = running ]
}

@test "flags the C path does not know send the command to Go" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	# --debug (phase timings) and kill --all are Go's; nothing traced.
	traced --debug kill "$id" CONT
	[ "$status" -eq 0 ]
	[[ $output != *"fast path"* ]]
	traced kill --all "$id" CONT
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# A --root Go would clean first, and ids urfave/cli takes for help.
	run env _BERTH_FASTCMD=trace "$BERTH" --root "$ROOT/" kill "$id" CONT
	[ "$status" -eq 0 ]
	[ "$output" = "berth: fast path: kill $id: fell back (bad --root or id)" ]
	run env _BERTH_FASTCMD=trace "$BERTH" --root "$ROOT" kill help
	[[ $output != *"fast path"* ]]
	run env _BERTH_FASTCMD=off "$BERTH" --root "$ROOT" delete --force "$id"
	[ "$status" -eq 0 ]
	[ ! -e "$ROOT/$id" ]
}
