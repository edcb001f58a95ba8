#!/usr/bin/env bats
# exec: a new process joins a running container's namespaces, cgroup,
# user, capabilities and seccomp filter; its exit status passes through.

load helpers

# start_sleeper: a running container whose process sleeps; sets ID and PID.
start_sleeper() {
	set_args sleep 300
	ID=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ] || fail "run -d: $output"
	PID=$(state_field "$ID" pid)
}

@test "exec joins every namespace of the container" {
	start_sleeper
	for ns in pid net mnt ipc uts cgroup; do
		run berth exec "$ID" readlink "/proc/self/ns/$ns"
		[ "$status" -eq 0 ]
		[ "$output" = "$(readlink "/proc/$PID/ns/$ns")" ] || fail "$ns: $output"
		[ "$output" != "$(readlink "/proc/self/ns/$ns")" ] || fail "$ns is the host's"
	done
}

@test "exec sees the container's root filesystem and hostname" {
	start_sleeper
	echo marker-in-rootfs >"$BUNDLE/rootfs/marker"
	run berth exec "$ID" sh -c 'cat /marker; hostname'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = marker-in-rootfs ]
	[ "${lines[1]}" = "$(jq -r .hostname "$BUNDLE/config.json")" ]
}

@test "exec passes the process's exit status through" {
	start_sleeper
	run berth exec "$ID" sh -c 'exit 7'
	[ "$status" -eq 7 ]
	run berth exec "$ID" sh -c 'kill -TERM $$'
	[ "$status" -eq $((128 + 15)) ]
}

@test "exec of a missing executable fails with one line and exit 1" {
	start_sleeper
	run berth exec "$ID" no-such-binary
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *"executable file not found"* ]]
}

@test "exec puts the process in the container's cgroup" {
	start_sleeper
	run berth exec "$ID" sh -c 'cat /proc/self/cgroup'
	[ "$status" -eq 0 ]
	host_mem=$(grep ':memory:' "/proc/$PID/cgroup")
	# Inside the cgroup namespace the container's cgroup reads as "/".
	grep -qx '[0-9]*:memory:/' <<<"$output" || fail "in-container view: $output; init: $host_mem"
	run_detached berth exec -d --pid-file "$TESTDIR/exec.pid" "$ID" sleep 30
	[ "$status" -eq 0 ]
	epid=$(cat "$TESTDIR/exec.pid")
	[ "$(grep ':memory:' "/proc/$epid/cgroup")" = "$host_mem" ]
}

@test "exec -e, --cwd, -u and --additional-gids set the process" {
	start_sleeper
	run berth exec -e FOO=bar --cwd /tmp -u 1000:1001 --additional-gids 5 --additional-gids 6 "$ID" \
		sh -c 'echo "$FOO"; pwd; id -u; id -g; id -G'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = bar ]
	[ "${lines[1]}" = /tmp ]
	[ "${lines[2]}" = 1000 ]
	[ "${lines[3]}" = 1001 ]
	[ "${lines[4]}" = "1001 5 6" ]
}

@test "exec --cap adds the capability but leaves the inheritable set empty (CVE-2022-29162)" {
	start_sleeper
	run berth exec --cap CAP_NET_ADMIN "$ID" grep -E '^Cap(Eff|Inh)' /proc/self/status
	[ "$status" -eq 0 ]
	eff=$(awk '$1 == "CapEff:" {print $2}' <<<"$output")
	inh=$(awk '$1 == "CapInh:" {print $2}' <<<"$output")
	(( (0x$eff >> 12) & 1 )) || fail "CAP_NET_ADMIN (12) not effective: $eff"
	[ "$inh" = 0000000000000000 ]
	run berth exec "$ID" grep '^CapEff' /proc/self/status
	eff=$(awk '{print $2}' <<<"$output")
	! (( (0x$eff >> 12) & 1 )) || fail "CAP_NET_ADMIN effective without --cap: $eff"
}

@test "exec --process runs the given OCI process" {
	start_sleeper
	cat >"$TESTDIR/process.json" <<-'JSON'
	{"args": ["sh", "-c", "echo from-process-json $ONE; pwd"], "env": ["ONE=1", "PATH=/bin"],
	 "cwd": "/etc", "user": {"uid": 0, "gid": 0}}
	JSON
	run berth exec --process "$TESTDIR/process.json" "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "from-process-json 1" ]
	[ "${lines[1]}" = /etc ]
}

@test "exec --process with an invalid field names it" {
	start_sleeper
	echo '{"args": ["true"], "cwd": "relative"}' >"$TESTDIR/process.json"
	run berth exec --process "$TESTDIR/process.json" "$ID"
	[ "$status" -eq 1 ]
	[[ $output == *"process.cwd"* ]]
}

@test "exec -d returns at once and --pid-file names the running process" {
	start_sleeper
	run_detached berth exec -d --pid-file "$TESTDIR/exec.pid" "$ID" sleep 30
	[ "$status" -eq 0 ]
	epid=$(cat "$TESTDIR/exec.pid")
	pid_alive "$epid"
	[ "$(readlink "/proc/$epid/ns/pid")" = "$(readlink "/proc/$PID/ns/pid")" ]
}

@test "exec -t with --console-socket puts the process on a pty" {
	start_sleeper
	start_recvtty
	run_detached berth exec -t -d --console-socket "$SOCK" "$ID" sh -c 'tty; [ -t 0 ] && echo stdin-is-tty'
	[ "$status" -eq 0 ]
	for _ in $(seq 200); do pid_alive "$RECVTTY_PID" || break; sleep 0.05; done
	out=$(tr -d '\r' <"$TESTDIR/tty.out")
	grep -Eqx '/dev/pts/[0-9]+' <<<"$out" || fail "tty output: $out"
	grep -qx stdin-is-tty <<<"$out"
}

@test "exec leaks no fd of berth into the process" {
	start_sleeper
	run_detached berth exec -d --pid-file "$TESTDIR/exec.pid" "$ID" sleep 30
	[ "$status" -eq 0 ]
	epid=$(cat "$TESTDIR/exec.pid")
	# Read from the host: a listing from inside would count its own fd.
	[ "$(ls "/proc/$epid/fd" | sort -n | xargs)" = "0 1 2" ]
}

@test "exec applies the container's seccomp filter" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
	start_sleeper
	run berth exec "$ID" mkdir /tmp/denied
	[ "$status" -ne 0 ]
	[[ $output == *"not permitted"* ]]
	[ ! -e "$BUNDLE/rootfs/tmp/denied" ]
}

@test "exec into a stopped container fails with one line" {
	set_args true
	ID=$(new_id)
	run berth run --keep --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	run berth exec "$ID" true
	[ "$status" -eq 1 ]
	[[ $output == *"cannot exec in container $ID: it is stopped"* ]]
}

@test "exec into an unknown container says it does not exist" {
	run berth exec nosuch-container true
	[ "$status" -eq 1 ]
	[[ $output == *"container nosuch-container does not exist"* ]]
}

@test "exec into a paused container fails unless --ignore-paused" {
	start_sleeper
	run berth pause "$ID"
	[ "$status" -eq 0 ]
	run berth exec "$ID" true
	[ "$status" -eq 1 ]
	[[ $output == *"it is paused (use --ignore-paused)"* ]]
	run berth resume "$ID"
	[ "$status" -eq 0 ]
}
