#!/usr/bin/env bats
# NOTIFY_SOCKET (sd_notify passthrough, as runc does it): the container
# sees NOTIFY_SOCKET=/run/notify/notify.sock on a read-only bind mount of a
# directory in its state dir; start and run -d wait for READY= and relay it
# to berth's own NOTIFY_SOCKET with MAINPID set to the container's init.

load helpers

SDNOTIFY=${SDNOTIFY:-$REPO/tests/integration/tools/bin/sdnotify}

setup() {
	berth_setup
	[ -x "$SDNOTIFY" ] || fail "no $SDNOTIFY (make recvtty)"
	# busybox cannot send unix datagrams: the container gets the tool.
	cp "$SDNOTIFY" "$BUNDLE/rootfs/bin/sdnotify"
	HOST_SOCK=$TESTDIR/host-notify.sock
}

# start_listener N [SECS]: the host side of NOTIFY_SOCKET, writing the first
# N datagrams it gets to $TESTDIR/notify.out, one per line.
start_listener() {
	"$SDNOTIFY" listen -n "$1" -t "${2:-30}" "$HOST_SOCK" >"$TESTDIR/notify.out" 2>"$TESTDIR/notify.err" &
	LISTENER_PID=$!
	track_pid "$LISTENER_PID"
	for _ in $(seq 200); do
		[ -S "$HOST_SOCK" ] && return 0
		sleep 0.05
	done
	fail "the listener did not bind $HOST_SOCK"
}

# wait_listener: it exits 0 once it got its N datagrams.
wait_listener() {
	wait "$LISTENER_PID" || fail "listener: $(cat "$TESTDIR/notify.err")"
	mapfile -t got <"$TESTDIR/notify.out"
}

# notify_berth ARGS...: berth with NOTIFY_SOCKET set to the listener.
notify_berth() {
	NOTIFY_SOCKET=$HOST_SOCK timeout --kill-after=5 "$BERTH_CMD_TIMEOUT" "$BERTH" --root "$ROOT" "$@"
}

@test "without NOTIFY_SOCKET the container gets no notify mount or variable" {
	set_args sh -c 'echo "[$NOTIFY_SOCKET]"; grep -c " /run/notify " /proc/mounts; exit 0'
	ID=$(new_id)
	run env -u NOTIFY_SOCKET "$BERTH" --root "$ROOT" run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ] || fail "$output"
	[ "${lines[0]}" = "[]" ]
	[ "${lines[1]}" = 0 ]
	[ ! -e "$ROOT/$ID" ]
}

@test "NOTIFY_SOCKET gives the process /run/notify/notify.sock on a read-only nosuid nodev noexec bind mount" {
	set_args sh -c 'echo "$NOTIFY_SOCKET"; [ -S /run/notify/notify.sock ] && echo socket
		awk '\''$2 == "/run/notify" { print $4 }'\'' /proc/mounts'
	start_listener 1 60
	ID=$(new_id)
	run notify_berth run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ] || fail "$output"
	[ "${lines[0]}" = /run/notify/notify.sock ]
	[ "${lines[1]}" = socket ]
	for opt in ro nosuid nodev noexec; do
		[[ ,${lines[2]}, == *,$opt,* ]] || fail "mount options ${lines[2]} lack $opt"
	done
}

@test "start waits for READY=1 and relays it with MAINPID of the container's init" {
	set_args sh -c 'while [ ! -e /go ]; do sleep 0.05; done; sdnotify send READY=1; exec sleep 300'
	start_listener 3
	ID=$(new_id)
	run_detached notify_berth create --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ] || fail "$output"
	PID=$(state_field "$ID" pid)
	notify_berth start "$ID" &
	spid=$!
	track_pid "$spid"
	sleep 0.5
	pid_alive "$spid" || fail "start returned before READY=1"
	[ ! -s "$TESTDIR/notify.out" ]
	touch "$BUNDLE/rootfs/go"
	wait "$spid"
	wait_listener
	[ "${got[0]}" = READY=1 ]
	[ "${got[1]}" = "MAINPID=$PID" ]
	[ "${got[2]}" = BARRIER=1 ]
	[ "$(state_field "$ID" status)" = running ]
}

@test "run -d relays messages before READY=1 but not the container's own MAINPID" {
	set_args sh -c 'sdnotify send STATUS=booting "MAINPID=1\nREADY=1"; exec sleep 300'
	start_listener 4
	ID=$(new_id)
	run_detached notify_berth run -d --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ] || fail "$output"
	PID=$(state_field "$ID" pid)
	wait_listener
	[ "${got[0]}" = STATUS=booting ]
	[ "${got[1]}" = READY=1 ]
	[ "${got[2]}" = "MAINPID=$PID" ]
	[ "${got[3]}" = BARRIER=1 ]
}

@test "foreground run names itself as MAINPID and relays later messages until the container exits" {
	set_args sh -c 'sdnotify send READY=1 && sdnotify send STATUS=later && exit 3'
	start_listener 4
	ID=$(new_id)
	NOTIFY_SOCKET=$HOST_SOCK "$BERTH" --root "$ROOT" run --bundle "$BUNDLE" "$ID" </dev/null &
	bpid=$!
	track_pid "$bpid"
	code=0
	wait "$bpid" || code=$?
	[ "$code" -eq 3 ]
	wait_listener
	[ "${got[0]}" = READY=1 ]
	[ "${got[1]}" = "MAINPID=$bpid" ]
	[ "${got[2]}" = BARRIER=1 ]
	[ "${got[3]}" = STATUS=later ]
	[ ! -e "$ROOT/$ID" ]
}

@test "start returns once the process exits without READY=1" {
	set_args sh -c 'exit 0'
	start_listener 1 60
	ID=$(new_id)
	run_detached notify_berth create --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ] || fail "$output"
	run notify_berth start "$ID"
	[ "$status" -eq 0 ]
	[ ! -s "$TESTDIR/notify.out" ]
	# The relay's socket goes away with start.
	[ ! -e "$ROOT/$ID/notify/notify.sock" ]
}

@test "start with an unreachable NOTIFY_SOCKET fails naming it and leaves the container created" {
	set_args sleep 300
	HOST_SOCK=$TESTDIR/nobody.sock
	ID=$(new_id)
	run_detached notify_berth create --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ] || fail "$output"
	run notify_berth start "$ID"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *"NOTIFY_SOCKET $HOST_SOCK: connect: "* ]] || fail "$output"
	[ "$(state_field "$ID" status)" = created ]
	[ ! -e "$ROOT/$ID/notify/notify.sock" ]
}

@test "start with NOTIFY_SOCKET of a container created without it warns and does not wait" {
	set_args sleep 300
	start_listener 1 60
	ID=$(new_id)
	run_detached env -u NOTIFY_SOCKET "$BERTH" --root "$ROOT" create --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ] || fail "$output"
	run notify_berth start "$ID"
	[ "$status" -eq 0 ]
	[[ $output == *"created without it: not relaying"* ]] || fail "$output"
	[ "$(state_field "$ID" status)" = running ]
}
