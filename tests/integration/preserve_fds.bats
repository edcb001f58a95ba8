#!/usr/bin/env bats
# --preserve-fds N: fds 3..3+N-1 of the runtime reach the container's
# process; every other fd but stdio is closed.

load helpers

# The fds of the container's shell (pid 1), not of ls: ls's own directory
# fd would show up in /proc/self/fd. A simple command, not the last one (sh
# would exec it) nor in a pipeline (sh would hold pipe fds meanwhile).
FDS_SCRIPT='echo fds; ls /proc/1/fd; true'

# fds_listed: the fd numbers printed after the "fds" line, sorted, on one line.
fds_listed() {
	printf '%s\n' "${lines[@]}" | sed -n '/^fds$/,$p' | sed 1d | sort -n | tr '\n' ' '
}

@test "without --preserve-fds the process has only fds 0, 1 and 2" {
	set_args sh -c "$FDS_SCRIPT"
	id=$(new_id)
	# fds the runtime inherits (bats keeps some of its own open too)
	run berth run --bundle "$BUNDLE" "$id" 3</dev/null 4</dev/null 7</dev/null
	[ "$status" -eq 0 ]
	[ "$(fds_listed)" = "0 1 2 " ]
}

@test "--preserve-fds 1 passes fd 3 and closes the others" {
	echo "through fd 3" >"$TESTDIR/fd3"
	set_args sh -c "cat <&3; $FDS_SCRIPT"
	id=$(new_id)
	run berth run --preserve-fds 1 --bundle "$BUNDLE" "$id" 3<"$TESTDIR/fd3" 4</dev/null
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "through fd 3" ]
	[ "$(fds_listed)" = "0 1 2 3 " ]
}

@test "--preserve-fds 2 passes fds 3 and 4, writable ones too" {
	echo "read me" >"$TESTDIR/fd3"
	set_args sh -c "cat <&3; echo written-through-fd4 >&4; $FDS_SCRIPT"
	id=$(new_id)
	run berth run --preserve-fds 2 --bundle "$BUNDLE" "$id" 3<"$TESTDIR/fd3" 4>"$TESTDIR/fd4" 5</dev/null
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "read me" ]
	[ "$(fds_listed)" = "0 1 2 3 4 " ]
	[ "$(cat "$TESTDIR/fd4")" = written-through-fd4 ]
}

@test "create --preserve-fds keeps the fd until start" {
	echo "kept until start" >"$TESTDIR/fd3"
	set_args sh -c 'cat <&3 > /tmp/got'
	id=$(new_id)
	status=0
	berth create --preserve-fds 1 --bundle "$BUNDLE" "$id" 3<"$TESTDIR/fd3" </dev/null >/dev/null 2>"$TESTDIR/err" || status=$?
	[ "$status" -eq 0 ] || fail "$(cat "$TESTDIR/err")"
	run berth start "$id"
	[ "$status" -eq 0 ]
	wait_for_status "$id" stopped
	[ "$(cat "$BUNDLE/rootfs/tmp/got")" = "kept until start" ]
}

@test "LISTEN_FDS passes socket-activation fds on with LISTEN_PID=1" {
	echo "activated" >"$TESTDIR/fd3"
	set_args sh -c "cat <&3; echo \"LISTEN_FDS=\$LISTEN_FDS LISTEN_PID=\$LISTEN_PID\"; $FDS_SCRIPT"
	id=$(new_id)
	# The fds are berth's only when LISTEN_PID is berth's pid: exec keeps
	# the shell's.
	run timeout 60 bash -c 'export LISTEN_FDS=1 LISTEN_PID=$$; exec "$0" --root "$1" run --bundle "$2" "$3"' \
		"$BERTH" "$ROOT" "$BUNDLE" "$id" 3<"$TESTDIR/fd3" 4</dev/null
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = activated ]
	[ "${lines[1]}" = "LISTEN_FDS=1 LISTEN_PID=1" ]
	[ "$(fds_listed)" = "0 1 2 3 " ]
}
