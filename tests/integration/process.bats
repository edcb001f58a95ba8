#!/usr/bin/env bats
# The container's process: args, env, cwd, user, umask, rlimits,
# no_new_privs, capabilities, oom_score_adj and the terminal.

load helpers

# status_field NAME: prints the value of NAME from /proc/self/status lines in
# $output.
status_field() {
	printf '%s\n' "${lines[@]}" | awk -v k="$1:" '$1 == k { $1 = ""; sub(/^[ \t]+/, ""); print }'
}

@test "args[0] is found through PATH from process.env" {
	mkdir -p "$BUNDLE/rootfs/opt/tools"
	printf '#!/bin/sh\necho "mytool ran with $*"\n' >"$BUNDLE/rootfs/opt/tools/mytool"
	chmod +x "$BUNDLE/rootfs/opt/tools/mytool"
	update_config '.process.env = ["PATH=/opt/tools:/bin"]'
	set_args mytool one two
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "mytool ran with one two" ]
}

@test "args[0] with a slash is used as a path" {
	set_args /bin/echo by-path
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$output" = by-path ]
}

@test "args reach the process unchanged" {
	set_args sh -c 'for a in "$@"; do echo "[$a]"; done' argv0 "two words" '' '$HOME' '*'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "[two words]" ]
	[ "${lines[1]}" = "[]" ]
	[ "${lines[2]}" = '[$HOME]' ]
	[ "${lines[3]}" = "[*]" ]
}

@test "the process gets exactly process.env" {
	update_config '.process.env = ["PATH=/bin", "FOO=bar baz", "EMPTY="]'
	set_args sh -c 'echo "FOO=$FOO"; echo "EMPTY=${EMPTY-unset}"; env | grep -c "^HOST_ONLY=" || true'
	id=$(new_id)
	HOST_ONLY=leak run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "FOO=bar baz" ]
	[ "${lines[1]}" = "EMPTY=" ]
	[ "${lines[2]}" = 0 ]
}

@test "the process starts in process.cwd" {
	mkdir -p "$BUNDLE/rootfs/work/dir"
	update_config '.process.cwd = "/work/dir"'
	set_args pwd
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$output" = /work/dir ]
}

@test "the process runs as process.user uid, gid and additionalGids" {
	update_config '.process.user = {uid: 1000, gid: 1001, additionalGids: [10, 20]}'
	set_args cat /proc/self/status
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	read -ra uids <<<"$(status_field Uid)"
	read -ra gids <<<"$(status_field Gid)"
	read -ra groups <<<"$(status_field Groups)"
	[ "${uids[*]}" = "1000 1000 1000 1000" ]
	[ "${gids[*]}" = "1001 1001 1001 1001" ]
	[ "$(printf '%s\n' "${groups[@]}" | sort -n | tr '\n' ' ')" = "10 20 " ]
}

@test "a non-root process can write only what its uid may" {
	update_config '.process.user = {uid: 1000, gid: 1000}'
	set_args sh -c 'touch /root/x 2>/dev/null && echo root-dir-writable || echo root-dir-refused; touch /tmp/x && stat -c %u:%g /tmp/x'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = root-dir-refused ]
	[ "${lines[1]}" = 1000:1000 ]
}

@test "process.user.umask sets the umask" {
	update_config '.process.user.umask = 63' # 0077
	set_args sh -c 'umask; touch /tmp/f; stat -c %a /tmp/f'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0077 ]
	[ "${lines[1]}" = 600 ]
}

@test "process.rlimits set soft and hard limits" {
	hard=$(ulimit -Hn)
	[ "$hard" = unlimited ] || [ "$hard" -ge 512 ]
	update_config '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 256, hard: 512}, {type: "RLIMIT_CORE", soft: 0, hard: 0}]'
	set_args sh -c 'grep -E "^Max (open files|core file size)" /proc/self/limits'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	nofile=$(printf '%s\n' "${lines[@]}" | grep '^Max open files')
	core=$(printf '%s\n' "${lines[@]}" | grep '^Max core file size')
	read -ra f <<<"${nofile#Max open files}"
	[ "${f[0]} ${f[1]}" = "256 512" ]
	read -ra f <<<"${core#Max core file size}"
	[ "${f[0]} ${f[1]}" = "0 0" ]
}

@test "noNewPrivileges true sets no_new_privs" {
	update_config '.process.noNewPrivileges = true'
	set_args cat /proc/self/status
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$(status_field NoNewPrivs)" = 1 ]
}

@test "noNewPrivileges false leaves no_new_privs unset" {
	update_config '.process.noNewPrivileges = false'
	set_args cat /proc/self/status
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$(status_field NoNewPrivs)" = 0 ]
}

@test "process.capabilities set the bounding, effective, permitted, inheritable and ambient sets" {
	# CAP_CHOWN is bit 0, CAP_KILL bit 5, CAP_NET_BIND_SERVICE bit 10
	update_config '.process.capabilities = {
		bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
		effective: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
		permitted: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
		inheritable: ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
		ambient: ["CAP_NET_BIND_SERVICE"]}'
	set_args cat /proc/self/status
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$(status_field CapBnd)" = 0000000000000421 ]
	[ "$(status_field CapEff)" = 0000000000000421 ]
	[ "$(status_field CapPrm)" = 0000000000000421 ]
	[ "$(status_field CapInh)" = 0000000000000420 ]
	[ "$(status_field CapAmb)" = 0000000000000400 ]
}

@test "a non-root process keeps only its ambient capabilities" {
	update_config '.process.user = {uid: 1000, gid: 1000}
		| .process.capabilities = {
		bounding: ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
		effective: ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
		permitted: ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
		inheritable: ["CAP_NET_BIND_SERVICE"],
		ambient: ["CAP_NET_BIND_SERVICE"]}'
	set_args cat /proc/self/status
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$(status_field CapBnd)" = 0000000000000401 ]
	[ "$(status_field CapEff)" = 0000000000000400 ]
	[ "$(status_field CapPrm)" = 0000000000000400 ]
}

@test "without capabilities a root process cannot chown" {
	update_config '.process.capabilities = {bounding: [], effective: [], permitted: []}'
	set_args sh -c 'touch /tmp/f; chown 1000 /tmp/f 2>/dev/null && echo chowned || echo refused; grep CapEff /proc/self/status'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = refused ]
	[[ ${lines[1]} == *0000000000000000 ]]
}

@test "process.oomScoreAdj sets oom_score_adj" {
	update_config '.process.oomScoreAdj = 500'
	set_args cat /proc/self/oom_score_adj
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$output" = 500 ]
}

@test "terminal true sends a pty master to --console-socket, with the process's stdio on the pty" {
	start_recvtty
	update_config '.process.terminal = true'
	set_args sh -c '[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo "all-stdio-is-a-tty"; echo "tty:$(tty)"'
	id=$(new_id)
	run_detached berth run -d --console-socket "$SOCK" --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	# recvtty ends when the container's side of the pty closes
	for _ in $(seq 200); do pid_alive "$RECVTTY_PID" || break; sleep 0.05; done
	! pid_alive "$RECVTTY_PID" || fail "the terminal is still open after 10s"
	wait "$RECVTTY_PID"
	out=$(tr -d '\r' <"$TESTDIR/tty.out")
	echo "$out"
	grep -qx all-stdio-is-a-tty <<<"$out"
	grep -Eqx 'tty:/dev/(console|pts/[0-9]+)' <<<"$out"
}

@test "create --console-socket: the terminal carries output once started" {
	start_recvtty
	update_config '.process.terminal = true'
	set_args sh -c 'echo started-on-tty'
	id=$(new_id)
	run_detached berth create --console-socket "$SOCK" --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	run berth start "$id"
	[ "$status" -eq 0 ]
	for _ in $(seq 200); do pid_alive "$RECVTTY_PID" || break; sleep 0.05; done
	! pid_alive "$RECVTTY_PID" || fail "the terminal is still open after 10s"
	grep -q started-on-tty "$TESTDIR/tty.out"
}

@test "the process joins a new session keyring named _ses.<id>" {
	update_config '.linux.maskedPaths -= ["/proc/keys"]'
	set_args cat /proc/keys
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[[ $output == *"keyring   _ses.$id: "* ]] || fail "no _ses.$id keyring: $output"
}

@test "--no-new-keyring keeps the caller's session keyring" {
	update_config '.linux.maskedPaths -= ["/proc/keys"]'
	set_args cat /proc/keys
	id=$(new_id)
	run berth run --no-new-keyring --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[[ $output != *"_ses.$id"* ]] || fail "a new keyring was made: $output"
}

@test "proc mount options (hidepid, subset) reach the container's procfs" {
	update_config '(.mounts[] | select(.type == "proc")).options = ["nosuid", "noexec", "nodev", "hidepid=invisible", "subset=pid"]'
	set_args sh -c 'grep " /proc " /proc/self/mountinfo; ls /proc/sys 2>&1 || echo no-sys'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[[ $output == *hidepid=invisible* ]] || fail "hidepid missing: $output"
	[[ $output == *subset=pid* ]] || fail "subset missing: $output"
	[[ $output == *nosuid* && $output == *noexec* && $output == *nodev* ]] || fail "flags missing: $output"
	[[ $output == *no-sys* ]] || fail "subset=pid still shows /proc/sys: $output"
}

@test "a created container's init is one thread without a Go runtime, also with a terminal; a createContainer hook needs Go init" {
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	pid=$(state_field "$id" pid)
	grep -qx 'Threads:[[:space:]]*1' "/proc/$pid/status" || fail "init of $id: $(grep Threads "/proc/$pid/status")"

	start_recvtty
	update_config '.process.terminal = true'
	id=$(new_id)
	run_detached berth create --console-socket "$SOCK" --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	pid=$(state_field "$id" pid)
	grep -qx 'Threads:[[:space:]]*1' "/proc/$pid/status" || fail "init of $id with a terminal: $(grep Threads "/proc/$pid/status")"

	# A hook that runs inside the container is init's child: Go init.
	UPDATE_CONFIG_ARGS=(--arg t "$(type -P true)")
	update_config '.process.terminal = false | .hooks = {createContainer: [{path: $t}]}'
	UPDATE_CONFIG_ARGS=()
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	pid=$(state_field "$id" pid)
	! grep -qx 'Threads:[[:space:]]*1' "/proc/$pid/status" || fail "init of $id with a createContainer hook is single-threaded"
}

@test "process.scheduler SCHED_DEADLINE with a cpuset narrower than the host fails saying the scheduler can't go with AllowedCPUs" {
	[ "$(nproc --all)" -ge 2 ] || skip "needs two CPUs"
	[ -e "$CGROUP_MNT/cpuset" ] || [ -e "$CGROUP_MNT/cgroup.controllers" ] || skip "no cpuset controller"
	update_config '.linux.resources.cpu.cpus = "0"
		| .process.scheduler = {policy: "SCHED_DEADLINE", runtime: 42000, deadline: 1000000, period: 1000000}'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 1 ] || fail "status $status: $output"
	[[ $output == *"process.scheduler: sched_setattr SCHED_DEADLINE: operation not permitted"* ]] || fail "$output"
	[[ $output == *"process scheduler can't be used together with AllowedCPUs, linux.resources.cpu.cpus"* ]] || fail "$output"
}

@test "an empty HOME in process.env is replaced by the user's home from the container's /etc/passwd" {
	replace_in_rootfs etc/passwd
	echo 'someone:x:2000:2000:someone:/home/someone:/bin/sh' >>"$BUNDLE/rootfs/etc/passwd"
	update_config '.process.env += ["HOME="] | .process.user = {uid: 2000, gid: 2000}'
	set_args sh -c 'echo "HOME=$HOME"; env | grep -c "^HOME="'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ "${lines[0]}" = HOME=/home/someone ]
	[ "${lines[1]}" = 1 ]
}

@test "a variable given twice in process.env is set once, to its last value" {
	update_config '.process.env = ["PATH=/bin", "ONE=two", "HOME=/x", "ONE=three", "HOME=", "TWO=a", "TWO="]'
	set_args env
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(grep -c '^ONE=' <<<"$output")" = 1 ] || fail "$output"
	grep -qx 'ONE=three' <<<"$output" || fail "$output"
	grep -qx 'TWO=' <<<"$output" || fail "$output"
	# the last HOME is empty: the passwd entry of uid 0 replaces it
	grep -qx 'HOME=/root' <<<"$output" || fail "$output"
	[ "${#lines[@]}" -eq 4 ] || fail "want PATH, ONE, HOME, TWO once each: $output"
}

@test "a process.cwd only root can enter is entered before the process's uid is set" {
	mkdir -p "$BUNDLE/rootfs/private/dir"
	chmod 700 "$BUNDLE/rootfs/private"
	update_config '.process.cwd = "/private/dir" | .process.user = {uid: 42, gid: 42}'
	set_args sh -c 'pwd; id -u; ls /private 2>/dev/null && echo listed || echo refused'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ "${lines[0]}" = /private/dir ]
	[ "${lines[1]}" = 42 ]
	# the user still cannot read what it could not
	[ "${lines[2]}" = refused ]
}

@test "an unknown capability name in the config is ignored with a warning" {
	update_config '.process.capabilities.bounding = ["CAP_KILL", "CAP_NOT_A_CAP", "NOT_EVEN_PREFIXED"]'
	set_args grep CapBnd /proc/self/status
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[[ $output == *'warning: process.capabilities.bounding: ignoring unknown or unavailable capabilities ["CAP_NOT_A_CAP" "NOT_EVEN_PREFIXED"]'* ]] || fail "$output"
	[[ $output == *"CapBnd:"*0000000000000020* ]] || fail "$output"
}

@test "an ambient capability the config does not make inheritable is dropped with a warning, the others raised" {
	# CAP_CHOWN is bit 0, CAP_KILL bit 5
	update_config '.process.capabilities.inheritable = ["CAP_KILL"]
		| .process.capabilities.permitted += ["CAP_CHOWN"]
		| .process.capabilities.ambient = ["CAP_KILL", "CAP_CHOWN"]'
	set_args cat /proc/self/status
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[[ $output == *"can't raise ambient capability CAP_CHOWN: "* ]] || fail "$output"
	[[ $output != *"ambient capability CAP_KILL"* ]] || fail "$output"
	[ "$(status_field CapAmb)" = 0000000000000020 ]
}

# tty_out: the terminal's output recvtty got, once the pty closed.
tty_out() {
	for _ in $(seq 200); do pid_alive "$RECVTTY_PID" || break; sleep 0.05; done
	! pid_alive "$RECVTTY_PID" || fail "the terminal is still open after 10s"
	cat "$TESTDIR/tty.out"
}

@test "the pty of a non-root process is owned by its uid, with the group devpts gives it" {
	start_recvtty
	update_config '.process.terminal = true | .process.user = {uid: 1000, gid: 100}'
	set_args sh -c 'stat -c "owner=%u:%g" "$(tty)"'
	id=$(new_id)
	run_detached berth run -d --console-socket "$SOCK" --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	out=$(tty_out)
	# gid=5 is the /dev/pts mount option of berth spec's config
	[[ $out == *owner=1000:5* ]] || fail "$out"
}

@test "the terminal passes newlines as written: no carriage return is added (ONLCR off)" {
	start_recvtty
	update_config '.process.terminal = true'
	set_args printf 'one\ntwo\n'
	id=$(new_id)
	run_detached berth run -d --console-socket "$SOCK" --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	tty_out >/dev/null
	[ "$(od -An -c "$TESTDIR/tty.out" | tr -s ' ')" = " o n e \n t w o \n" ] || fail "$(od -c "$TESTDIR/tty.out")"
}

@test "the process's CPU affinity is reset to its cgroup's cpuset, not inherited from berth's caller (run and exec)" {
	[ "$(nproc --all)" -ge 2 ] || skip "needs two CPUs"
	all=$(awk '/^Cpus_allowed_list:/ {print $2}' /proc/self/status)
	[ "$all" != 0 ] || skip "this shell is pinned to CPU 0 already"
	update_config '.process.args = ["sleep", "1000"]'
	id=$(new_id)
	run_detached taskset -c 0 "$BERTH" --root "$ROOT" run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	pid=$(state_field "$id" pid)
	got=$(awk '/^Cpus_allowed_list:/ {print $2}' "/proc/$pid/status")
	[ "$got" = "$all" ] || fail "init: $got, want $all"
	run taskset -c 0 "$BERTH" --root "$ROOT" exec "$id" sh -c 'grep Cpus_allowed_list /proc/self/status'
	[ "$status" -eq 0 ] || fail "$output"
	[[ $output == *"Cpus_allowed_list:"*"$all" ]] || fail "exec: $output"
}
