#!/usr/bin/env bats
# exec: a new process joins a running container's namespaces, cgroup,
# user, capabilities and seccomp filter; its exit status passes through.

load helpers

# start_sleeper: a running container whose process sleeps; sets ID and PID.
start_sleeper() {
	# berth spec gives one only on cgroup2-only hosts (as runc's): these
	# tests are of exec joining every namespace, the cgroup one included.
	update_config 'if any(.linux.namespaces[]; .type == "cgroup") then . else .linux.namespaces += [{type: "cgroup"}] end'
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

@test "exec exits 255 when berth cannot run the process, with the process's own status otherwise" {
	start_sleeper
	run berth exec "$ID" false
	[ "$status" -eq 1 ]
	run berth exec "$ID" sh -c 'exit 255'
	[ "$status" -eq 255 ]
	run berth exec "$ID" sh -c 'exit 42'
	[ "$status" -eq 42 ]
	# Each of these is berth's failure: 255 and one line.
	run berth exec --pid-file "$TESTDIR/no/such/dir/pid" "$ID" true
	assert_error 255
	[[ $output == *"--pid-file"* ]] || fail "$output"
	run berth exec "$ID" no-such-binary
	assert_error 255
	run berth exec -u abc "$ID" true
	assert_error 255
	run berth exec "$ID"
	assert_error 255
	run berth exec no-such-container true
	assert_error 255
	run berth pause "$ID"
	[ "$status" -eq 0 ]
	run berth exec "$ID" true
	assert_error 255
	run berth resume "$ID"
	[ "$status" -eq 0 ]
	# A usage error is not an exec failure.
	run berth exec
	assert_error 1
	run berth exec --no-such-flag "$ID" true
	assert_error 1
}

@test "exec of a missing executable fails with one line and exit 255" {
	start_sleeper
	run berth exec "$ID" no-such-binary
	[ "$status" -eq 255 ]
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
	[ "$status" -eq 255 ]
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
	[ "$status" -eq 255 ]
	[[ $output == *"cannot exec in container $ID: it is stopped"* ]]
}

@test "exec into an unknown container says it does not exist" {
	run berth exec nosuch-container true
	[ "$status" -eq 255 ]
	[[ $output == *"container nosuch-container does not exist"* ]]
}

@test "exec into a paused container fails, in runc's words, unless --ignore-paused" {
	start_sleeper
	run berth pause "$ID"
	[ "$status" -eq 0 ]
	run berth exec "$ID" true
	[ "$status" -eq 255 ] || fail "status $status"
	[[ $output == "berth: cannot exec in a paused container ($ID): use --ignore-paused to override" ]] || fail "$output"
	run berth resume "$ID"
	[ "$status" -eq 0 ]
}

# init_cgroup CTRL: the host directory of the container's cgroup in the v1
# hierarchy of CTRL, from its init's /proc/PID/cgroup.
init_cgroup() {
	local rel
	rel=$(awk -F: -v c="$1" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) { sub(/^name=/, "", a[i]); if (a[i] == c) print $3 } }' "/proc/$PID/cgroup")
	[ -n "$rel" ] || fail "init has no $1 cgroup"
	echo "$CGROUP_MNT/$1$rel"
}

# only_init_in_cgroup: nothing but the container's init is in its memory
# cgroup or below (a failed exec left no process).
only_init_in_cgroup() {
	local procs
	procs=$(find "$(init_cgroup memory)" -name cgroup.procs -exec cat {} + | sort -u | xargs)
	[ "$procs" = "$PID" ] || fail "processes in the container's cgroup: $procs (init: $PID)"
}

@test "exec --cgroup controller:path puts the process in that sub-cgroup of that controller only" {
	start_sleeper
	mkdir "$(init_cgroup memory)/sub"
	run berth exec --cgroup memory:sub "$ID" cat /proc/self/cgroup
	[ "$status" -eq 0 ] || fail "$output"
	# The cgroup namespace shows the container's cgroup as "/".
	grep -qx '[0-9]*:memory:/sub' <<<"$output" || fail "$output"
	grep -qx '[0-9]*:pids:/' <<<"$output" || fail "$output"
}

@test "exec --cgroup with several controllers, repeated, joins each named sub-cgroup" {
	start_sleeper
	mkdir "$(init_cgroup memory)/a" "$(init_cgroup pids)/a" "$(init_cgroup blkio)/b"
	run berth exec --cgroup memory,pids:a --cgroup blkio:b "$ID" cat /proc/self/cgroup
	[ "$status" -eq 0 ] || fail "$output"
	grep -qx '[0-9]*:memory:/a' <<<"$output" || fail "$output"
	grep -qx '[0-9]*:pids:/a' <<<"$output" || fail "$output"
	grep -qx '[0-9]*:blkio:/b' <<<"$output" || fail "$output"
	grep -qx '[0-9]*:devices:/' <<<"$output" || fail "$output"
}

@test "exec --cgroup path puts the process in that sub-cgroup of every v1 hierarchy" {
	start_sleeper
	local ctrl
	for ctrl in $(awk -F: '$2 != "" { sub(/^name=/, "", $2); gsub(/,/, " ", $2); print $2 }' "/proc/$PID/cgroup"); do
		[ -d "$(init_cgroup "$ctrl")/sub" ] || mkdir "$(init_cgroup "$ctrl")/sub"
	done
	# A new v1 cpuset starts without cpus and mems.
	cat "$(init_cgroup cpuset)/cpuset.cpus" >"$(init_cgroup cpuset)/sub/cpuset.cpus"
	cat "$(init_cgroup cpuset)/cpuset.mems" >"$(init_cgroup cpuset)/sub/cpuset.mems"
	run_detached berth exec -d --pid-file "$TESTDIR/exec.pid" --cgroup sub "$ID" sleep 30
	[ "$status" -eq 0 ] || fail "$output"
	epid=$(cat "$TESTDIR/exec.pid")
	# From the host: every v1 line is init's path plus /sub.
	diff <(awk -F: '$2 != "" { print $1 ":" $2 ":" $3 "/sub" }' "/proc/$PID/cgroup" | sed 's|//sub$|/sub|') \
		<(awk -F: '$2 != ""' "/proc/$epid/cgroup")
}

@test "exec --cgroup with a missing, escaping or unknown-controller sub-cgroup fails in runc's words, naming --cgroup, and starts nothing" {
	start_sleeper
	run berth exec --cgroup memory:nosuch "$ID" true
	[ "$status" -eq 255 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *'--cgroup "memory:nosuch": not adding pid to cgroup '*'/nosuch: no such file or directory'* ]] || fail "$output"
	run berth exec --cgroup ../escape "$ID" true
	[ "$status" -eq 255 ]
	[[ $output == *'--cgroup "../escape": bad sub cgroup path: ".." is not allowed'* ]] || fail "$output"
	run berth exec --cgroup nosuchctrl:sub "$ID" true
	[ "$status" -eq 255 ]
	[[ $output == *"--cgroup nosuchctrl:sub: unknown controller nosuchctrl"* ]] || fail "$output"
	only_init_in_cgroup
}

@test "exec --cgroup into a sub-cgroup the kernel refuses kills the half-started process" {
	start_sleeper
	# A new v1 cpuset has no cpus: the kernel refuses tasks in it.
	mkdir "$(init_cgroup cpuset)/empty"
	mkdir "$(init_cgroup memory)/empty"
	run berth exec --cgroup cpuset,memory:empty "$ID" true
	[ "$status" -eq 255 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *"--cgroup: adding pid "*"/empty/cgroup.procs: "* ]] || fail "$output"
	only_init_in_cgroup
}

@test "exec --no-new-privs sets no_new_privs for the process only" {
	update_config '.process.noNewPrivileges = false'
	start_sleeper
	run berth exec "$ID" grep NoNewPrivs /proc/self/status
	[ "$status" -eq 0 ]
	[[ $output == *"NoNewPrivs:"*0 ]] || fail "$output"
	run berth exec --no-new-privs "$ID" grep NoNewPrivs /proc/self/status
	[ "$status" -eq 0 ]
	[[ $output == *"NoNewPrivs:"*1 ]] || fail "$output"
}

@test "exec --apparmor on a host without AppArmor fails with one line and starts nothing" {
	[[ $(cat /sys/module/apparmor/parameters/enabled 2>/dev/null) != Y* ]] || skip "AppArmor is enabled here"
	start_sleeper
	run berth exec --apparmor some-profile "$ID" true
	[ "$status" -eq 255 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *"process.apparmorProfile: AppArmor is not enabled on this host"* ]] || fail "$output"
	only_init_in_cgroup
}

@test "exec --process-label on a host without SELinux fails with one line and starts nothing" {
	[ ! -e /sys/fs/selinux/enforce ] || skip "SELinux is enabled here"
	start_sleeper
	run berth exec --process-label system_u:system_r:container_t:s0 "$ID" true
	[ "$status" -eq 255 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *"process.selinuxLabel: SELinux is not enabled on this host"* ]] || fail "$output"
	only_init_in_cgroup
}

@test "exec --preserve-fds passes fd 3 and closes the others" {
	start_sleeper
	echo "through fd 3" >"$TESTDIR/fd3"
	# The shell's own fds, listed from a child (not the last command), and
	# with no pipeline in the shell: it would hold the pipe's fds meanwhile.
	run berth exec --preserve-fds 1 "$ID" sh -c 'cat <&3; ls -1 /proc/$$/fd; true' \
		3<"$TESTDIR/fd3" 4</dev/null 5</dev/null
	[ "$status" -eq 0 ] || fail "$output"
	[ "${lines[0]}" = "through fd 3" ]
	[ "$(printf '%s\n' "${lines[@]:1}" | sort -n | xargs)" = "0 1 2 3" ] || fail "fds: ${lines[*]:1}"
}

@test "exec --ignore-paused starts the process, which runs once the container resumes" {
	start_sleeper
	run berth pause "$ID"
	[ "$status" -eq 0 ]
	# In the frozen cgroup the exec cannot get far: run it in the background.
	berth exec --ignore-paused "$ID" sh -c 'echo ran >/tmp/ignore-paused' </dev/null >"$TESTDIR/exec.out" 2>&1 &
	epid=$!
	track_pid "$epid"
	sleep 0.3
	[ ! -e "$BUNDLE/rootfs/tmp/ignore-paused" ]
	run berth resume "$ID"
	[ "$status" -eq 0 ] || fail "resume: $output"
	wait "$epid" || fail "exec: $(cat "$TESTDIR/exec.out")"
	[ "$(cat "$BUNDLE/rootfs/tmp/ignore-paused")" = ran ]
}

@test "exec -t without --console-socket relays the pty in the foreground" {
	start_sleeper
	run berth exec -t "$ID" sh -c 'tty; [ -t 0 ] && echo stdin-is-tty'
	[ "$status" -eq 0 ] || fail "$output"
	out=$(tr -d '\r' <<<"$output")
	grep -Eqx '/dev/pts/[0-9]+' <<<"$out" || fail "tty output: $out"
	grep -qx stdin-is-tty <<<"$out"
}

@test "exec -e keeps commas in the value and -u uid keeps the container's gid" {
	start_sleeper
	run berth exec -e LIST=a,b,c -u 1000 "$ID" sh -c 'echo "$LIST"; id -u; id -g'
	[ "$status" -eq 0 ] || fail "$output"
	[ "${lines[0]}" = a,b,c ]
	[ "${lines[1]}" = 1000 ]
	[ "${lines[2]}" = "$(jq -r .process.user.gid "$BUNDLE/config.json")" ]
}

# root_marker: a file only the container's rootfs has.
root_marker() {
	echo "container root" >"$BUNDLE/rootfs/.exec-root-marker"
}

@test "exec runs in the container's root under --no-pivot without a pid namespace (not /proc/1's, the host's)" {
	root_marker
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	set_args sleep 300
	ID=$(new_id)
	run_detached berth run -d --no-pivot --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ] || fail "run -d: $output"
	run berth exec "$ID" cat /.exec-root-marker
	[ "$status" -eq 0 ] || fail "exec saw another root: $output"
	[ "$output" = "container root" ]
}

@test "exec keeps the config's ambient capabilities, and --cap adds to ambient what the config makes inheritable" {
	# CAP_CHOWN is bit 0, CAP_KILL bit 5, CAP_SYSLOG bit 34
	update_config '.process.capabilities = {
		bounding: ["CAP_KILL", "CAP_CHOWN", "CAP_SYSLOG"],
		effective: ["CAP_KILL"],
		permitted: ["CAP_KILL", "CAP_CHOWN"],
		inheritable: ["CAP_CHOWN", "CAP_SYSLOG"],
		ambient: ["CAP_CHOWN"]}'
	start_sleeper
	run berth exec "$ID" grep -E '^Cap(Inh|Amb)' /proc/self/status
	[ "$status" -eq 0 ] || fail "$output"
	[[ $output == *"CapInh:"*0000000400000001* ]] || fail "$output"
	[[ $output == *"CapAmb:"*0000000000000001* ]] || fail "$output"
	run berth exec --cap CAP_SYSLOG --cap CAP_NET_ADMIN "$ID" grep -E '^Cap(Inh|Amb)' /proc/self/status
	[ "$status" -eq 0 ] || fail "$output"
	[[ $output == *"CapInh:"*0000000400000001* ]] || fail "$output"
	[[ $output == *"CapAmb:"*0000000400000001* ]] || fail "$output"
}

@test "exec -t gives the pty of a non-root process to its uid and adds no carriage returns" {
	start_sleeper
	start_recvtty
	run_detached berth exec -t -d -u 1000:100 --console-socket "$SOCK" "$ID" sh -c 'stat -c "owner=%u:%g" "$(tty)"'
	[ "$status" -eq 0 ] || fail "$output"
	for _ in $(seq 200); do pid_alive "$RECVTTY_PID" || break; sleep 0.05; done
	out=$(cat "$TESTDIR/tty.out")
	[ "$out" = owner=1000:5 ] || fail "$(od -c <<<"$out")"
}
