#!/usr/bin/env bats
# Foreground run and exec forward every signal they get to the container's
# process. Those Go ignores by default are held from berth's first
# instruction and read from a signalfd (internal/sigfwd); what berth starts
# (the container's process, hooks) must still see the signal mask berth
# was started with.

load helpers

# The container traps these and says so; "ready" once the traps are set.
TRAP_SCRIPT='for s in USR1 USR2 ALRM TSTP TTIN TTOU 40 64; do trap "echo got-$s" $s; done; trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 0.1; done'

# with_blocked SIGNUM CMD...: runs CMD with SIGNUM blocked (as a caller
# may). "${WITH_BLOCKED[@]}" SIGNUM CMD... & makes $! CMD's pid.
WITH_BLOCKED=(perl -MPOSIX -e 'sigprocmask(SIG_BLOCK, POSIX::SigSet->new(shift @ARGV)) or die "sigprocmask: $!"; exec @ARGV or die "exec: $!"')
with_blocked() {
	"${WITH_BLOCKED[@]}" "$@"
}

# status_field FIELD FILE: a field of a /proc/<pid>/status copy.
status_field() {
	awk -v f="$1:" '$1 == f {print $2}' "$2"
}

# wait_for_line FILE TEXT
wait_for_line() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q -- "$2" "$1" && return 0
		sleep 0.05
	done
	fail "no '$2' in $1: $(cat "$1")"
}

# send_each PID FILE: sends each trapped signal to PID and waits until the
# container reports it.
send_each() {
	local pid=$1 out=$2 s
	for s in USR1 USR2 ALRM TSTP TTIN TTOU 40 64; do
		kill -s "$s" "$pid"
		wait_for_line "$out" "got-$s"
	done
}

# term_and_wait PID OUT: TERM to PID, which must exit 3 (the trap's status).
term_and_wait() {
	local st=0
	kill -TERM "$1"
	wait "$1" || st=$?
	[ "$st" -eq 3 ] || fail "exited $st, want 3: $(cat "$2")"
}

@test "foreground run forwards USR1, USR2, ALRM, the terminal stops and real-time signals, then TERM" {
	set_args sh -c "$TRAP_SCRIPT"
	id=$(new_id)
	"$BERTH" --root "$ROOT" run --bundle "$BUNDLE" "$id" >"$TESTDIR/run.out" 2>&1 </dev/null &
	local bpid=$!
	track_pid "$bpid"
	wait_for_line "$TESTDIR/run.out" ready
	# held, not caught (compare the _BERTH_SIGFWD=off test)
	local blk
	blk=$(status_field SigBlk "/proc/$bpid/status")
	(((16#$blk & 0x380000) == 0x380000)) || fail "TSTP, TTIN and TTOU are not held: SigBlk $blk"
	send_each "$bpid" "$TESTDIR/run.out"
	term_and_wait "$bpid" "$TESTDIR/run.out"
	assert_nothing_left "$id"
}

@test "foreground exec forwards USR1, USR2, ALRM, the terminal stops and real-time signals, then TERM" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	"$BERTH" --root "$ROOT" exec "$id" sh -c "$TRAP_SCRIPT" >"$TESTDIR/exec.out" 2>&1 </dev/null &
	local epid=$!
	track_pid "$epid"
	wait_for_line "$TESTDIR/exec.out" ready
	send_each "$epid" "$TESTDIR/exec.out"
	term_and_wait "$epid" "$TESTDIR/exec.out"
}

@test "a signal sent while run is still creating the container reaches its process" {
	# A prestart hook holds create until the signal has been sent. The
	# caller blocks signal 40, so the process starts with it blocked and
	# the forwarded signal waits, visible, in its pending set.
	printf '#!/bin/sh\necho running >"%s/hook-running"\ni=0\nwhile [ ! -e "%s/sent" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done\n' "$TESTDIR" "$TESTDIR" >"$TESTDIR/hook.sh"
	chmod +x "$TESTDIR/hook.sh"
	UPDATE_CONFIG_ARGS=(--arg hook "$TESTDIR/hook.sh")
	update_config '.hooks.prestart = [{"path": $hook}]'
	UPDATE_CONFIG_ARGS=()
	set_args sh -c 'i=0; while [ $i -lt 200 ] && ! grep -q "^ShdPnd:.*[1-9a-f]" /proc/1/status; do sleep 0.05; i=$((i+1)); done; cat /proc/1/status'
	id=$(new_id)
	"${WITH_BLOCKED[@]}" 40 "$BERTH" --root "$ROOT" run --bundle "$BUNDLE" "$id" >"$TESTDIR/run.out" 2>&1 </dev/null &
	local bpid=$!
	track_pid "$bpid"
	wait_for_file "$TESTDIR/hook-running"
	kill -40 "$bpid"
	touch "$TESTDIR/sent"
	local st=0
	wait "$bpid" || st=$?
	[ "$st" -eq 0 ] || fail "run exited $st: $(cat "$TESTDIR/run.out")"
	[ "$(status_field ShdPnd "$TESTDIR/run.out")" = 0000008000000000 ] || fail "pending: $(cat "$TESTDIR/run.out")"
}

@test "the container's process starts with the signal mask its runtime was started with" {
	set_args cat /proc/self/status
	id=$(new_id)
	"$BERTH" --root "$ROOT" run --bundle "$BUNDLE" "$id" >"$TESTDIR/plain" 2>&1
	[ "$(status_field SigBlk "$TESTDIR/plain")" = 0000000000000000 ] || fail "$(cat "$TESTDIR/plain")"

	# USR2 (12, bit 11) blocked by the caller stays blocked, as with runc.
	id=$(new_id)
	with_blocked 12 "$BERTH" --root "$ROOT" run --bundle "$BUNDLE" "$id" >"$TESTDIR/blocked" 2>&1
	[ "$(status_field SigBlk "$TESTDIR/blocked")" = 0000000000000800 ] || fail "$(cat "$TESTDIR/blocked")"

	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	with_blocked 40 "$BERTH" --root "$ROOT" exec "$id" cat /proc/self/status >"$TESTDIR/exec" 2>&1
	[ "$(status_field SigBlk "$TESTDIR/exec")" = 0000008000000000 ] || fail "exec: $(cat "$TESTDIR/exec")"
}

@test "hooks of a foreground run start with the caller's signal mask and only their own environment" {
	# perl, not sh: dash clears the signal mask it starts with.
	local script='open(my $o, ">", $ARGV[1]) or die; open(my $s, "<", "/proc/self/status") or die; print $o "$ARGV[0]\n", <$s>, map { "$_=$ENV{$_}\n" } sort keys %ENV'
	UPDATE_CONFIG_ARGS=(--arg script "$script" --arg out "$TESTDIR/hook")
	update_config '.hooks.prestart = [{"path": "/usr/bin/perl", "args": ["hook-argv0", "-e", $script, "x", $out], "env": ["HOOKVAR=1"]}]'
	UPDATE_CONFIG_ARGS=()
	set_args true
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(status_field SigBlk "$TESTDIR/hook")" = 0000000000000000 ] || fail "$(cat "$TESTDIR/hook")"
	[ "$(head -1 "$TESTDIR/hook")" = x ] || fail "hook's arguments: $(head -1 "$TESTDIR/hook")"
	grep -q '^HOOKVAR=1$' "$TESTDIR/hook" || fail "hook's env: $(cat "$TESTDIR/hook")"
	! grep -q '^_BERTH' "$TESTDIR/hook" || fail "berth's variables reach the hook: $(grep '^_BERTH' "$TESTDIR/hook")"

	id=$(new_id)
	with_blocked 12 "$BERTH" --root "$ROOT" run --bundle "$BUNDLE" "$id"
	[ "$(status_field SigBlk "$TESTDIR/hook")" = 0000000000000800 ] || fail "$(cat "$TESTDIR/hook")"
}

@test "a hook that cannot be executed fails run as it fails create" {
	update_config '.hooks.prestart = [{"path": "/nonexistent/hook"}]'
	set_args true
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	assert_error
	[ "$output" = "berth: error running prestart hook #0: /nonexistent/hook: fork/exec /nonexistent/hook: no such file or directory" ] || fail "$output"
	assert_nothing_left "$id"
	local run_msg=$output

	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$output" = "$run_msg" ] || fail "create: $output"
	assert_nothing_left "$id"
}

@test "with _BERTH_SIGFWD=off run forwards the same signals through os/signal" {
	set_args sh -c "$TRAP_SCRIPT"
	id=$(new_id)
	_BERTH_SIGFWD=off "$BERTH" --root "$ROOT" run --bundle "$BUNDLE" "$id" >"$TESTDIR/run.out" 2>&1 </dev/null &
	local bpid=$!
	track_pid "$bpid"
	wait_for_line "$TESTDIR/run.out" ready
	[ "$(status_field SigBlk "/proc/$bpid/status")" = 0000000000000000 ] || fail "berth holds $(status_field SigBlk "/proc/$bpid/status")"
	send_each "$bpid" "$TESTDIR/run.out"
	term_and_wait "$bpid" "$TESTDIR/run.out"
}
