#!/usr/bin/env bats
# events: one stats event (--stats), or a stream of stats and oom events
# that ends when the container stops.

load helpers

# start_events ID ARGS...: `berth events ARGS ID` in the background, output
# in $TESTDIR/events; sets evpid. Bounded by its own timeout.
start_events() {
	local id=$1
	shift
	timeout --kill-after=5 30 "$BERTH" --root "$ROOT" events "$@" "$id" >"$TESTDIR/events" 2>"$TESTDIR/events.err" &
	evpid=$!
	track_pid "$evpid"
}

# wait_events: waits for the background events command; sets evstatus.
wait_events() {
	evstatus=0
	wait "$evpid" || evstatus=$?
}

@test "events --stats prints one stats event with runc's fields" {
	update_config '.linux.resources.memory.limit = 67108864'
	set_args sh -c 'sleep 1000 & wait'
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	run berth events --stats "$id"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ] || fail "want one line: $output"
	ev=${lines[0]}
	[ "$(jq -r .type <<<"$ev")" = stats ]
	[ "$(jq -r .id <<<"$ev")" = "$id" ]
	for k in cpu memory pids blkio; do
		[ "$(jq --arg k "$k" '.data | has($k)' <<<"$ev")" = true ] || fail "no data.$k: $ev"
	done
	# hugetlb is counted where the host gives it: a v1 hierarchy, or the
	# controller enabled in the cgroup2 root (berth enables it only for
	# a hugepage limit); without either there is nothing to report.
	local huge=false
	if [[ -d /sys/fs/cgroup/hugetlb ]] || grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.subtree_control 2>/dev/null ||
		grep -qw hugetlb /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
		huge=true
	fi
	[ "$(jq '.data | has("hugetlb")' <<<"$ev")" = "$huge" ] || fail "data.hugetlb present: want $huge: $ev"
	[ "$(jq '.data.cpu.usage.total > 0' <<<"$ev")" = true ]
	[ "$(jq '.data.cpu.usage.percpu | length' <<<"$ev")" -ge 1 ]
	[ "$(jq '.data.cpu.usage | has("kernel") and has("user")' <<<"$ev")" = true ]
	[ "$(jq '.data.cpu | has("throttling")' <<<"$ev")" = true ]
	# Two busybox processes use more than a page and far less than the limit.
	[ "$(jq '.data.memory.usage.usage > 4096 and .data.memory.usage.usage < 67108864' <<<"$ev")" = true ]
	[ "$(jq '.data.memory.usage.limit' <<<"$ev")" -eq 67108864 ]
	[ "$(jq '.data.memory | has("swap") and has("kernel") and has("kernelTCP") and has("raw")' <<<"$ev")" = true ]
	[ "$(jq '.data.memory.raw | has("rss")' <<<"$ev")" = true ]
	[ "$(jq '.data.pids.current' <<<"$ev")" -eq 2 ]
	[ "$huge" = false ] || [ "$(jq '.data.hugetlb | type' <<<"$ev")" = '"object"' ]
}

@test "events streams stats every interval and ends when the container stops" {
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	start_events "$id" --interval 100ms
	for ((i = 0; i < 200; i++)); do
		[[ $(grep -c '"type":"stats"' "$TESTDIR/events") -ge 3 ]] && break
		sleep 0.05
	done
	[ "$(grep -c '"type":"stats"' "$TESTDIR/events")" -ge 3 ]
	berth kill "$id" KILL
	wait_events
	[ "$evstatus" -eq 0 ] || fail "events exited $evstatus: $(cat "$TESTDIR/events.err")"
	while read -r ev; do
		[ "$(jq -r '.type + " " + .id' <<<"$ev")" = "stats $id" ]
		[ "$(jq '.data.pids.current' <<<"$ev")" -eq 1 ]
	done <"$TESTDIR/events"
	[ ! -s "$TESTDIR/events.err" ]
}

@test "events reports an oom event when a process is OOM-killed" {
	# 32 MiB of memory and no swap; the hog starts once events watches.
	update_config '.linux.resources.memory = {limit: 33554432, swap: 33554432}'
	set_args sh -c 'while [ ! -e /tmp/go ]; do sleep 0.05; done; tail /dev/zero; echo $? > /tmp/hog'
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	start_events "$id" --interval 100ms
	wait_for_file "$TESTDIR/events"
	touch "$BUNDLE/rootfs/tmp/go"
	# The hog is killed (SIGKILL: 137), sh exits, the stream ends.
	wait_events
	[ "$evstatus" -eq 0 ] || fail "events exited $evstatus: $(cat "$TESTDIR/events.err")"
	[ "$(cat "$BUNDLE/rootfs/tmp/hog")" = 137 ]
	grep -qx "{\"type\":\"oom\",\"id\":\"$id\"}" "$TESTDIR/events" || fail "no oom event: $(cut -c1-80 "$TESTDIR/events")"
}

@test "events errors: stopped or unknown container, bad interval" {
	set_args true
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	wait_for_status "$id" stopped
	run berth events "$id"
	assert_error
	[[ $output == *"container not running"* ]]
	run berth events --stats "$id"
	assert_error
	[[ $output == *"container not running"* ]]
	run berth events --stats nosuch-container
	assert_error
	[ "$output" = "berth: container nosuch-container does not exist" ]
	set_args sleep 1000
	id2=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id2"
	[ "$status" -eq 0 ]
	run berth events --interval 0s "$id2"
	assert_error
	[[ $output == *"interval must be greater than 0"* ]]
}
