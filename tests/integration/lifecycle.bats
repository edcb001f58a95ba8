#!/usr/bin/env bats
# The container lifecycle: create, start, run, kill, delete.

load helpers

# A process that is PID 1 of its namespace ignores signals it has no handler
# for, so the long-running containers here trap the ones the tests send.
# On SIGTERM it writes "TERM" to /out/signal (a bind mount of $TESTDIR/out).
trapping_container() {
	mkdir -p "$TESTDIR/out"
	add_mount "{\"destination\": \"/out\", \"type\": \"bind\", \"source\": \"$TESTDIR/out\", \"options\": [\"rbind\", \"rw\"]}"
	set_args sh -c 'trap "echo TERM > /out/signal; exit 0" TERM; sleep 1000 & wait $!'
}

@test "create leaves the container created; start makes it running; kill stops it; delete removes it" {
	trapping_container
	id=$(new_id)

	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$(state_field "$id" status)" = created ]
	pid=$(state_field "$id" pid)
	pid_alive "$pid"

	run berth start "$id"
	[ "$status" -eq 0 ]
	[ "$(state_field "$id" status)" = running ]
	[ "$(state_field "$id" pid)" = "$pid" ]

	run berth kill "$id"
	[ "$status" -eq 0 ]
	wait_for_status "$id" stopped
	[ "$(cat "$TESTDIR/out/signal")" = TERM ]

	run berth delete "$id"
	[ "$status" -eq 0 ]
	run berth state "$id"
	[ "$status" -eq 1 ]
	[ ! -e "$ROOT/$id" ]
}

@test "the process does not run before start" {
	set_args sh -c 'echo ran > /tmp/ran'
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	sleep 0.3
	[ ! -e "$BUNDLE/rootfs/tmp/ran" ]
	run berth start "$id"
	[ "$status" -eq 0 ]
	wait_for_status "$id" stopped
	[ "$(cat "$BUNDLE/rootfs/tmp/ran")" = ran ]
}

@test "start of a running container fails and leaves it running" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	run berth start "$id"
	[ "$status" -eq 1 ]
	[ "$(state_field "$id" status)" = running ]
}

@test "run in the foreground passes the process's output and exit status" {
	set_args sh -c 'echo out-line; echo err-line >&2; exit 3'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 3 ]
	[[ $output == *out-line* ]]
	[[ $output == *err-line* ]]
	# without --keep, run deletes the container once it exits
	run berth state "$id"
	[ "$status" -eq 1 ]
	[ ! -e "$ROOT/$id" ]
}

@test "run with a terminal in the foreground passes the process's newlines as they are (no CR added)" {
	update_config '.process.terminal = true'
	set_args printf 'one\ntwo\n'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[[ $output != *$'\r'* ]] || fail "CR in the output: $(od -c <<<"$output")"
	[[ $output == *$'one\ntwo'* ]] || fail "output: $output"
}

@test "run exits 0 when the process exits 0" {
	set_args true
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
}

@test "run exits 128+N when the process is killed by signal N from outside" {
	set_args sleep 1000
	id=$(new_id)
	(
		set +e
		berth run --bundle "$BUNDLE" "$id" </dev/null >"$TESTDIR/run.out" 2>&1
		echo $? >"$TESTDIR/run.status"
	) &
	runner=$!
	track_pid "$runner"
	wait_for_status "$id" running
	run berth kill "$id" KILL
	[ "$status" -eq 0 ]
	wait "$runner" || true
	[ "$(cat "$TESTDIR/run.status")" -eq 137 ]
}

@test "run and exec in the foreground forward the signals they get to the process" {
	local script='trap "echo got-usr1" USR1; trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 0.1; done'
	set_args sh -c "$script"
	id=$(new_id)
	# berth itself, not the timeout wrapper: the signals are for berth.
	"$BERTH" --root "$ROOT" run --bundle "$BUNDLE" "$id" >"$TESTDIR/run.out" 2>&1 </dev/null &
	local bpid=$!
	track_pid "$bpid"
	for _ in $(seq 200); do grep -q ready "$TESTDIR/run.out" && break; sleep 0.05; done
	kill -USR1 "$bpid"
	for _ in $(seq 200); do grep -q got-usr1 "$TESTDIR/run.out" && break; sleep 0.05; done
	grep -q got-usr1 "$TESTDIR/run.out" || fail "USR1 not forwarded: $(cat "$TESTDIR/run.out")"

	# exec into it, in the foreground, with its own process
	"$BERTH" --root "$ROOT" exec "$id" sh -c "$script" >"$TESTDIR/exec.out" 2>&1 </dev/null &
	local epid=$!
	track_pid "$epid"
	for _ in $(seq 200); do grep -q ready "$TESTDIR/exec.out" && break; sleep 0.05; done
	kill -USR1 "$epid"
	kill -TERM "$epid"
	local st=0
	wait "$epid" || st=$?
	[ "$st" -eq 3 ] || fail "exec exited $st, want 3: $(cat "$TESTDIR/exec.out")"
	grep -q got-usr1 "$TESTDIR/exec.out" && grep -q got-term "$TESTDIR/exec.out" || fail "exec: $(cat "$TESTDIR/exec.out")"

	kill -TERM "$bpid"
	st=0
	wait "$bpid" || st=$?
	[ "$st" -eq 3 ] || fail "run exited $st, want 3: $(cat "$TESTDIR/run.out")"
	grep -q got-term "$TESTDIR/run.out" || fail "TERM not forwarded: $(cat "$TESTDIR/run.out")"
}

@test "run exits 128+N when the process kills itself with signal N" {
	# Without a pid namespace the process is not an init and can signal itself.
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	set_args sh -c 'kill -USR1 $$; sleep 5'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 138 ] # SIGUSR1 is 10
}

@test "run -d returns at once and leaves the container running" {
	set_args sleep 1000
	id=$(new_id)
	start=$SECONDS
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ $((SECONDS - start)) -lt 20 ]
	[ "$(state_field "$id" status)" = running ]
	pid_alive "$(state_field "$id" pid)"
}

@test "run --detach is the long form of -d" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run --detach --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$(state_field "$id" status)" = running ]
}

@test "run --keep keeps the stopped container until delete" {
	set_args sh -c 'exit 7'
	id=$(new_id)
	run berth run --keep --bundle "$BUNDLE" "$id"
	[ "$status" -eq 7 ]
	[ "$(state_field "$id" status)" = stopped ]
	run berth delete "$id"
	[ "$status" -eq 0 ]
	run berth state "$id"
	[ "$status" -eq 1 ]
}

@test "run uses the current directory as the bundle by default" {
	set_args sh -c 'echo from-cwd-bundle'
	id=$(new_id)
	cd "$BUNDLE"
	run berth run "$id"
	[ "$status" -eq 0 ]
	[[ $output == *from-cwd-bundle* ]]
}

@test "create --pid-file writes the pid of the container's process" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth create --pid-file "$TESTDIR/pidfile" --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(cat "$TESTDIR/pidfile")
	[ "$pid" = "$(state_field "$id" pid)" ]
	pid_alive "$pid"
}

@test "run -d --pid-file writes the pid of the running process" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --pid-file "$TESTDIR/pidfile" --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(cat "$TESTDIR/pidfile")
	[ "$pid" = "$(state_field "$id" pid)" ]
	[ "$(cat "/proc/$pid/comm")" = sleep ]
}

@test "delete --force removes a running container and kills its process" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	pid_alive "$pid"

	run berth delete --force "$id"
	[ "$status" -eq 0 ]
	run berth state "$id"
	[ "$status" -eq 1 ]
	[ ! -e "$ROOT/$id" ]
	for _ in $(seq 50); do pid_alive "$pid" || break; sleep 0.05; done
	! pid_alive "$pid"
}

@test "delete -f removes a created container" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	run berth delete -f "$id"
	[ "$status" -eq 0 ]
	run berth state "$id"
	[ "$status" -eq 1 ]
	for _ in $(seq 50); do pid_alive "$pid" || break; sleep 0.05; done
	! pid_alive "$pid"
}

@test "delete without --force refuses a running container" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	run berth delete "$id"
	[ "$status" -eq 1 ]
	[ "$(state_field "$id" status)" = running ]
}

@test "delete of a nonexistent id fails" {
	id=$(new_id)
	run berth delete "$id"
	[ "$status" -eq 1 ]
	[[ $output == *"container $id does not exist"* ]]
}

@test "kill accepts a signal as SIGTERM, TERM and 15" {
	trapping_container
	for sig in SIGTERM TERM 15; do
		id=$(new_id)
		rm -f "$TESTDIR/out/signal"
		run_detached berth run -d --bundle "$BUNDLE" "$id"
		[ "$status" -eq 0 ]
		run berth kill "$id" "$sig"
		[ "$status" -eq 0 ]
		wait_for_status "$id" stopped
		[ "$(cat "$TESTDIR/out/signal")" = TERM ]
		run berth delete "$id"
		[ "$status" -eq 0 ]
	done
}

@test "kill TERM ends a created container, whose init is PID 1 of its namespace, and delete removes it" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	run berth kill "$id" TERM
	[ "$status" -eq 0 ] || fail "$output"
	wait_for_status "$id" stopped
	run berth delete "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ ! -e "$ROOT/$id" ]
}

@test "kill KILL stops a process that traps nothing" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	run berth kill "$id" KILL
	[ "$status" -eq 0 ]
	wait_for_status "$id" stopped
}

@test "kill with an unknown signal fails and leaves the container running" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	run berth kill "$id" SIGNOTREAL
	[ "$status" -eq 1 ]
	[[ $output == *NOTREAL* ]]
	[ "$(state_field "$id" status)" = running ]
}

@test "kill with signal 0 succeeds on a running container and says container not running on a stopped one" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	run berth kill "$id" 0
	[ "$status" -eq 0 ] || fail "kill 0 of a running container: $output"
	[ "$(state_field "$id" status)" = running ]
	run berth kill "$id" KILL
	[ "$status" -eq 0 ]
	wait_for_status "$id" stopped
	run berth kill "$id" 0
	assert_error
	[[ $output == *"container not running"* ]] || fail "$output"
	run berth kill --all "$id" 0
	[ "$status" -eq 0 ] || fail "kill --all 0 of a stopped container: $output"
}

@test "kill of a nonexistent id fails" {
	id=$(new_id)
	run berth kill "$id" KILL
	[ "$status" -eq 1 ]
	[[ $output == *"container $id does not exist"* ]]
}

@test "kill --all signals every process of the container" {
	mkdir -p "$TESTDIR/out"
	add_mount "{\"destination\": \"/out\", \"type\": \"bind\", \"source\": \"$TESTDIR/out\", \"options\": [\"rbind\", \"rw\"]}"
	# A child with its own handler: only kill --all reaches it.
	set_args sh -c 'sh -c "trap \"echo child > /out/child; exit 0\" USR1; echo ready > /out/ready; sleep 1000 & wait \$!" & trap "" USR1; sleep 1000 & wait $!; wait'
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	wait_for_file "$TESTDIR/out/ready"
	run berth kill --all "$id" USR1
	[ "$status" -eq 0 ]
	wait_for_file "$TESTDIR/out/child"
	[ "$(cat "$TESTDIR/out/child")" = child ]
}

# start_hostpid_sleepers: a container without a pid namespace of its own
# running sleep as init and three more exec'd; sets id and procs (its
# cgroup.procs file).
start_hostpid_sleepers() {
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "run: $output"
	for _ in 1 2 3; do
		run_detached berth exec -d "$id" sleep 1000
		[ "$status" -eq 0 ] || fail "exec: $output"
	done
	procs=$CGROUP_MNT/pids/$id/cgroup.procs
	[ -e "$procs" ] || procs=$CGROUP_MNT/memory/$id/cgroup.procs
	[ "$(wc -l <"$procs")" -eq 4 ] || fail "cgroup holds: $(cat "$procs")"
}

# all_gone FILE: every pid listed in FILE at the call is dead within 5 s.
all_gone() {
	local pids p i
	pids=$(cat "$1")
	for ((i = 0; i < 100; i++)); do
		for p in $pids; do pid_alive "$p" && { sleep 0.05; continue 2; }; done
		return 0
	done
	fail "still alive: $(for p in $pids; do pid_alive "$p" && echo "$p"; done)"
}

@test "kill KILL of a container without its own pid namespace kills every process of its cgroup, as runc" {
	start_hostpid_sleepers
	cp "$procs" "$TESTDIR/pids"
	run berth kill "$id" KILL
	[ "$status" -eq 0 ] || fail "$output"
	all_gone "$TESTDIR/pids"
	[ "$(state_field "$id" status)" = stopped ]
}

@test "kill KILL without a pid namespace, once init is gone, kills what is left in the cgroup; then says not running" {
	start_hostpid_sleepers
	init=$(state_field "$id" pid)
	kill -9 "$init"
	for ((i = 0; i < 100; i++)); do pid_alive "$init" || break; sleep 0.05; done
	[ "$(state_field "$id" status)" = stopped ]
	grep -vx "$init" "$procs" >"$TESTDIR/pids" || true
	[ "$(wc -l <"$TESTDIR/pids")" -eq 3 ] || fail "left: $(cat "$TESTDIR/pids")"
	run berth kill "$id" KILL
	[ "$status" -eq 0 ] || fail "$output"
	all_gone "$TESTDIR/pids"
	run berth kill "$id" KILL
	assert_error
	[[ $output == *"container not running"* ]] || fail "$output"
}

@test "run works when berth inherits nothing but stdio" {
	set_args true
	id=$(new_id)
	# With only fds 0-2 open, berth's own fds get the low numbers that the
	# child's fd shuffle uses; init must still start.
	run bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; exec "$@"' \
		_ "$BERTH" --root "$ROOT" run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
}

@test "a container whose config mounts no /proc is created, started and runs its process" {
	update_config '.mounts |= map(select(.destination != "/proc"))'
	set_args sh -c 'echo ran >/tmp/ran; exec sleep 1000'
	cp "$BUNDLE/config.json" "$TESTDIR/config.orig"
	local init
	# Both inits: C (the common case) and Go (a createContainer hook,
	# which runs in init before pivot_root, needs it).
	for init in c go; do
		cp "$TESTDIR/config.orig" "$BUNDLE/config.json"
		if [[ $init == go ]]; then
			update_config '.hooks = {createContainer: [{path: "/bin/true"}]}'
		fi
		rm -f "$BUNDLE/rootfs/tmp/ran"
		id=$(new_id)
		run_detached berth create --bundle "$BUNDLE" "$id"
		echo "$init: $output"
		[ "$status" -eq 0 ]
		[ "$(state_field "$id" status)" = created ]
		sleep 0.3
		[ ! -e "$BUNDLE/rootfs/tmp/ran" ] || fail "$init: the process ran before start"
		run berth start "$id"
		echo "$init: $output"
		[ "$status" -eq 0 ]
		wait_for_file "$BUNDLE/rootfs/tmp/ran"
		[ "$(state_field "$id" status)" = running ]
		pid=$(state_field "$id" pid)
		[ "$(cat "/proc/$pid/comm")" = sleep ]
		# Nothing is mounted on the container's /proc.
		[ ! -e "$BUNDLE/rootfs/proc/self" ]
		berth delete --force "$id"
	done
}

@test "an execve failure ends foreground run with one line 'exec PATH: error' and status 255; start says where" {
	printf '#!/no/such/interpreter\necho never\n' >"$BUNDLE/rootfs/bad-interp"
	chmod +x "$BUNDLE/rootfs/bad-interp"
	set_args /bad-interp
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 255 ] || fail "status $status: $output"
	[ "${#lines[@]}" -eq 1 ] || fail "want one line: $output"
	[ "${lines[0]}" = "exec /bad-interp: no such file or directory" ] || fail "${lines[0]}"
	run berth state "$id"
	[ "$status" -ne 0 ] || fail "run left the container behind"

	# Created, then started apart: start's caller is told which container.
	id=$(new_id)
	berth create --bundle "$BUNDLE" "$id" </dev/null >"$TESTDIR/create.out" 2>&1 || fail "create: $(cat "$TESTDIR/create.out")"
	run berth start "$id"
	assert_error
	[ "${lines[0]}" = "berth: start container $id: exec /bad-interp: no such file or directory" ] || fail "${lines[0]}"
	[ ! -s "$TESTDIR/create.out" ] || fail "init also said it: $(cat "$TESTDIR/create.out")"
}
