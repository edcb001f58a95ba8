#!/usr/bin/env bats
# --pidfd-socket PATH (create, run, exec): berth connects to the unix socket
# at PATH and sends one pidfd of the container's process over it, named
# "standard" for init and "setns" for an exec'd process, as runc does.

load helpers

PIDFDRECV=${PIDFDRECV:-$REPO/tests/integration/tools/bin/pidfdrecv}

# start_pidfdrecv SIGNUM: a receiver on $PSOCK that writes "NAME PID" to
# $TESTDIR/pidfd.out and, on SIGUSR1, sends SIGNUM through the pidfd.
start_pidfdrecv() {
	[ -x "$PIDFDRECV" ] || fail "no $PIDFDRECV (make recvtty)"
	PSOCK=$TESTDIR/pidfd.sock
	"$PIDFDRECV" -signal "$1" -out "$TESTDIR/pidfd.out" -pid-file "$TESTDIR/pidfdrecv.pid" "$PSOCK" \
		</dev/null >"$TESTDIR/pidfdrecv.err" 2>&1 &
	PIDFDRECV_PID=$!
	track_pid "$PIDFDRECV_PID"
	wait_for_file "$TESTDIR/pidfdrecv.pid"
}

# signal_through_pidfd: the receiver sends its signal and must exit 0.
signal_through_pidfd() {
	local st=0
	kill -USR1 "$PIDFDRECV_PID"
	wait "$PIDFDRECV_PID" || st=$?
	[ "$st" -eq 0 ] || fail "pidfdrecv exited $st: $(cat "$TESTDIR/pidfdrecv.err")"
}

@test "create --pidfd-socket sends init's pidfd; SIGTERM through it ends the created container" {
	set_args sleep 1000
	start_pidfdrecv 15
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" --pidfd-socket "$PSOCK" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	wait_for_file "$TESTDIR/pidfd.out"
	[ "$(cat "$TESTDIR/pidfd.out")" = "standard $(state_field "$id" pid)" ] ||
		fail "got $(cat "$TESTDIR/pidfd.out"), want init's pid $(state_field "$id" pid)"
	[ "$(state_field "$id" status)" = created ]

	# init is PID 1 of its namespace: it has to end on SIGTERM by itself.
	signal_through_pidfd
	wait_for_status "$id" stopped
	run berth delete "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ ! -e "$ROOT/$id" ]
}

@test "run -d --pidfd-socket sends init's pidfd; SIGKILL through it stops the container" {
	set_args sleep 1000
	start_pidfdrecv 9
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" --pidfd-socket "$PSOCK" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	wait_for_file "$TESTDIR/pidfd.out"
	[ "$(cat "$TESTDIR/pidfd.out")" = "standard $(state_field "$id" pid)" ]
	[ "$(state_field "$id" status)" = running ]
	signal_through_pidfd
	wait_for_status "$id" stopped
}

@test "exec --pidfd-socket sends the exec'd process's pidfd; SIGKILL through it ends only that process" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	start_pidfdrecv 9
	run_detached berth exec -d --pid-file "$TESTDIR/exec.pid" --pidfd-socket "$PSOCK" "$id" sleep 1000
	[ "$status" -eq 0 ] || fail "$output"
	wait_for_file "$TESTDIR/pidfd.out"
	pid=$(cat "$TESTDIR/exec.pid")
	[ "$(cat "$TESTDIR/pidfd.out")" = "setns $pid" ] || fail "got $(cat "$TESTDIR/pidfd.out"), want setns $pid"
	signal_through_pidfd
	for _ in $(seq 100); do pid_alive "$pid" || break; sleep 0.05; done
	if pid_alive "$pid"; then fail "the exec'd process $pid is still alive"; fi
	[ "$(state_field "$id" status)" = running ]
}

@test "a --pidfd-socket nobody listens on fails create and exec naming it, and leaves nothing behind" {
	set_args sleep 1000
	id=$(new_id)
	run berth create --bundle "$BUNDLE" --pidfd-socket "$TESTDIR/none.sock" "$id"
	assert_error
	[[ $output == *"--pidfd-socket $TESTDIR/none.sock"* ]] || fail "$output"
	assert_nothing_left "$id"

	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	run berth exec --pidfd-socket "$TESTDIR/none.sock" "$id" true
	assert_error 255 # every exec failure, as runc
	[[ $output == *"--pidfd-socket $TESTDIR/none.sock"* ]] || fail "$output"
}
