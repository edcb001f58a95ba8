#!/usr/bin/env bats
# Commands on one container id run one at a time; readers (state, list) never
# fail or see a torn state.json while other commands change --root.

load helpers

setup() {
	berth_setup
	set_args sleep 1000
}

# parallel N OUTDIR CMD...: runs CMD (a berth subcommand with its
# arguments) N times at once. Each run's exit status goes to OUTDIR/<i>.rc
# and its output to OUTDIR/<i>.out (files: a created container's init keeps
# its stdio). The runs start together: each waits for OUTDIR/go.
parallel() {
	local n=$1 dir=$2 i
	shift 2
	mkdir -p "$dir"
	local pids=()
	for ((i = 0; i < n; i++)); do
		(
			while [[ ! -e $dir/go ]]; do sleep 0.01; done
			rc=0
			berth "$@" </dev/null >"$dir/$i.out" 2>&1 || rc=$?
			echo "$rc" >"$dir/$i.rc"
		) &
		pids+=($!)
	done
	sleep 0.2
	touch "$dir/go"
	for i in "${pids[@]}"; do wait "$i" || true; done
}

# count_rc DIR RC: how many runs in DIR exited with RC.
count_rc() {
	local n=0 f
	for f in "$1"/*.rc; do
		[[ $(cat "$f") == "$2" ]] && n=$((n + 1))
	done
	echo "$n"
}

# failures_say DIR PATTERN: every failed run in DIR printed one line
# "berth: ..." that matches the extended regexp PATTERN.
failures_say() {
	local f out
	for f in "$1"/*.rc; do
		[[ $(cat "$f") == 0 ]] && continue
		[[ $(cat "$f") == 1 ]] || fail "${f%.rc}: exit status $(cat "$f"), want 1: $(cat "${f%.rc}.out")"
		out=$(cat "${f%.rc}.out")
		[[ $(wc -l <"${f%.rc}.out") -eq 1 ]] || fail "${f%.rc}: want one line: $out"
		[[ $out == "berth: "* ]] || fail "${f%.rc}: not a berth error: $out"
		[[ $out =~ $2 ]] || fail "${f%.rc}: error does not match /$2/: $out"
	done
	return 0
}

@test "10 parallel start of one created container: exactly one succeeds, the others say why they cannot" {
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	parallel 10 "$TESTDIR/start" start "$id"
	[ "$(count_rc "$TESTDIR/start" 0)" -eq 1 ] || fail "$(count_rc "$TESTDIR/start" 0) starts succeeded: $(cat "$TESTDIR"/start/*.out)"
	[ "$(count_rc "$TESTDIR/start" 1)" -eq 9 ]
	failures_say "$TESTDIR/start" "^berth: cannot start container $id: it is running, not created$"
	[ "$(state_field "$id" status)" = running ]
	[ "$(state_field "$id" pid)" = "$pid" ]
	[ "$(cat "/proc/$pid/comm")" = sleep ]
}

@test "10 parallel create of one id: exactly one succeeds, the others say 'already exists'; the winner is intact" {
	id=$(new_id)
	parallel 10 "$TESTDIR/create" create --bundle "$BUNDLE" "$id"
	[ "$(count_rc "$TESTDIR/create" 0)" -eq 1 ] || fail "$(count_rc "$TESTDIR/create" 0) creates succeeded: $(cat "$TESTDIR"/create/*.out)"
	[ "$(count_rc "$TESTDIR/create" 1)" -eq 9 ]
	failures_say "$TESTDIR/create" "^berth: container $id already exists$"
	[ "$(state_field "$id" status)" = created ]
	pid=$(state_field "$id" pid)
	pid_alive "$pid"
	# Exactly one init was made: the cgroup holds only the winner's.
	for d in $(cgroup_dirs "$id"); do
		[ "$(cat "$d/cgroup.procs")" = "$pid" ] || fail "$d holds $(cat "$d/cgroup.procs" | tr '\n' ' '), want only $pid"
	done
	run berth start "$id"
	[ "$status" -eq 0 ]
	[ "$(state_field "$id" status)" = running ]
}

@test "10 parallel delete of one stopped container: one succeeds, the others say 'does not exist'; poststop runs once" {
	UPDATE_CONFIG_ARGS=(--arg sh "$(type -P sh)" --arg f "$TESTDIR/poststop")
	update_config '.hooks = {poststop: [{path: $sh, args: ["sh", "-c", "echo ran >> \($f)"]}]}'
	UPDATE_CONFIG_ARGS=()
	set_args true
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	wait_for_status "$id" stopped
	parallel 10 "$TESTDIR/delete" delete "$id"
	[ "$(count_rc "$TESTDIR/delete" 0)" -eq 1 ] || fail "$(count_rc "$TESTDIR/delete" 0) deletes succeeded: $(cat "$TESTDIR"/delete/*.out)"
	failures_say "$TESTDIR/delete" "^berth: container $id does not exist$"
	[ "$(wc -l <"$TESTDIR/poststop")" -eq 1 ] || fail "poststop ran $(wc -l <"$TESTDIR/poststop") times"
	assert_nothing_left "$id"
}

@test "10 parallel delete --force of one running container: all succeed, the container is gone" {
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	parallel 10 "$TESTDIR/delete" delete --force "$id"
	[ "$(count_rc "$TESTDIR/delete" 0)" -eq 10 ] || fail "$(cat "$TESTDIR"/delete/*.out)"
	for _ in $(seq 50); do pid_alive "$pid" || break; sleep 0.05; done
	if pid_alive "$pid"; then fail "init $pid is still alive"; fi
	assert_nothing_left "$id"
}

# check_state_output FILE RC ID: one `state ID` run: valid JSON naming ID,
# or (for ids that come and go) a failure saying it does not exist.
check_state_output() {
	local out=$1 rc=$2 id=$3
	if [[ $rc -eq 0 ]]; then
		jq -e --arg id "$id" '.id == $id and (.status | type) == "string"' "$out" >/dev/null ||
			fail "state $id printed what is not its state JSON: $(cat "$out")"
	else
		[[ $(cat "$out") == "berth: container $id does not exist" ]] ||
			fail "state $id failed (status $rc): $(cat "$out")"
	fi
}

@test "list and state never fail or print torn JSON while containers are created and deleted" {
	# A container that stays: its state must always be readable.
	stable=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$stable"
	[ "$status" -eq 0 ]
	churn=()
	for i in $(seq 20); do churn+=("$(new_id)"); done
	# The writer: 20 create/start/kill/delete cycles, one id each.
	(
		set +e
		for c in "${churn[@]}"; do
			berth create --bundle "$BUNDLE" "$c" </dev/null >>"$TESTDIR/writer.out" 2>&1 || echo "create $c failed" >>"$TESTDIR/writer.err"
			berth start "$c" >>"$TESTDIR/writer.out" 2>&1 || echo "start $c failed" >>"$TESTDIR/writer.err"
			berth kill "$c" KILL >>"$TESTDIR/writer.out" 2>&1 || echo "kill $c failed" >>"$TESTDIR/writer.err"
			berth delete --force "$c" >>"$TESTDIR/writer.out" 2>&1 || echo "delete $c failed" >>"$TESTDIR/writer.err"
		done
		touch "$TESTDIR/writer.done"
	) &
	writer=$!
	track_pid "$writer"
	n=0
	overlap=0
	while ((n < 50)) || [[ ! -e $TESTDIR/writer.done ]]; do
		[[ -e $TESTDIR/writer.done ]] || overlap=$((overlap + 1))
		rc=0
		berth list >"$TESTDIR/list.out" 2>&1 || rc=$?
		[ "$rc" -eq 0 ] || fail "list failed (status $rc): $(cat "$TESTDIR/list.out")"
		head -n1 "$TESTDIR/list.out" | grep -q '^ID' || fail "list printed no header: $(cat "$TESTDIR/list.out")"
		grep -q "^$stable " "$TESTDIR/list.out" || fail "list lost $stable: $(cat "$TESTDIR/list.out")"
		rc=0
		berth list --format json >"$TESTDIR/list.json" 2>&1 || rc=$?
		[ "$rc" -eq 0 ] || fail "list --format json failed (status $rc): $(cat "$TESTDIR/list.json")"
		jq -e --arg id "$stable" 'type == "array" and any(.[]; .id == $id)' "$TESTDIR/list.json" >/dev/null ||
			fail "list --format json printed torn or incomplete JSON: $(cat "$TESTDIR/list.json")"
		rc=0
		berth state "$stable" >"$TESTDIR/state.out" 2>&1 || rc=$?
		[ "$rc" -eq 0 ] || fail "state of $stable failed: $(cat "$TESTDIR/state.out")"
		check_state_output "$TESTDIR/state.out" 0 "$stable"
		c=${churn[$((n % 20))]}
		rc=0
		berth state "$c" >"$TESTDIR/state.out" 2>&1 || rc=$?
		check_state_output "$TESTDIR/state.out" "$rc" "$c"
		n=$((n + 1))
		((n < 1000)) || fail "the writer did not finish"
	done
	wait "$writer"
	[ ! -e "$TESTDIR/writer.err" ] || fail "the writer's commands failed: $(cat "$TESTDIR/writer.err") $(cat "$TESTDIR/writer.out")"
	# The readers ran while the writer did.
	[ "$overlap" -ge 5 ] || fail "only $overlap reads overlapped the writer"
	for c in "${churn[@]}"; do assert_nothing_left "$c"; done
}

@test "state.json is never seen torn: state of one id, read while it is created, started and deleted 20 times" {
	id=$(new_id)
	(
		set +e
		for i in $(seq 20); do
			berth create --bundle "$BUNDLE" "$id" </dev/null >>"$TESTDIR/writer.out" 2>&1 || echo "create failed" >>"$TESTDIR/writer.err"
			berth start "$id" >>"$TESTDIR/writer.out" 2>&1 || echo "start failed" >>"$TESTDIR/writer.err"
			berth delete --force "$id" >>"$TESTDIR/writer.out" 2>&1 || echo "delete failed" >>"$TESTDIR/writer.err"
		done
		touch "$TESTDIR/writer.done"
	) &
	writer=$!
	track_pid "$writer"
	seen=0
	n=0
	while [[ ! -e $TESTDIR/writer.done ]]; do
		rc=0
		berth state "$id" >"$TESTDIR/state.out" 2>&1 || rc=$?
		check_state_output "$TESTDIR/state.out" "$rc" "$id"
		[[ $rc -eq 0 ]] && seen=$((seen + 1))
		n=$((n + 1))
		((n < 5000)) || fail "the writer did not finish"
	done
	wait "$writer"
	[ ! -e "$TESTDIR/writer.err" ] || fail "the writer's commands failed: $(cat "$TESTDIR/writer.err") $(cat "$TESTDIR/writer.out")"
	# Some reads found the container, or the test checked nothing.
	[ "$seen" -ge 1 ] || fail "no state read found the container ($n reads)"
	assert_nothing_left "$id"
}

@test "delete --force racing a foreground run's own delete succeeds without a word, and so does run" {
	# run deletes its container under the lock once init exits; a delete
	# that waited for the lock finds it gone. The race went one way or the
	# other in about one try in eight.
	local i id rp rc
	for i in $(seq 16); do
		id=$(new_id)
		# Not the berth function: TERM goes to run itself.
		"$BERTH" --root "$ROOT" run --bundle "$BUNDLE" "$id" </dev/null >"$TESTDIR/run.$i.out" 2>&1 &
		rp=$!
		wait_for_status "$id" running
		kill -TERM "$rp"
		rc=0
		berth delete --force "$id" >"$TESTDIR/delete.$i.out" 2>&1 || rc=$?
		wait "$rp" || true
		[ "$rc" -eq 0 ] || fail "try $i: delete --force exited $rc: $(cat "$TESTDIR/delete.$i.out")"
		[ ! -s "$TESTDIR/delete.$i.out" ] || fail "try $i: delete --force said: $(cat "$TESTDIR/delete.$i.out")"
		[ ! -s "$TESTDIR/run.$i.out" ] || fail "try $i: run said: $(cat "$TESTDIR/run.$i.out")"
		[ ! -e "$ROOT/$id" ]
	done
}
