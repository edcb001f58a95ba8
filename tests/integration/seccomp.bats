#!/usr/bin/env bats
# linux.seccomp as runc applies it: ENOSYS for syscalls newer than the
# profile, the filter flags, the filter around startContainer hooks, and
# SCMP_ACT_NOTIFY's agent for run and exec. (security.bats has the
# profile's effect on attacks.)

load helpers

# rawsys NR...: a static helper that makes each raw syscall NR (no
# arguments) and prints "NR: ok" or "NR: errno N".
RAWSYS_SRC='package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

func main() {
	for _, a := range os.Args[1:] {
		nr, err := strconv.ParseUint(a, 0, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if _, _, e := syscall.RawSyscall(uintptr(nr), 0, 0, 0); e != 0 {
			fmt.Printf("%s: errno %d\n", a, int(e))
		} else {
			fmt.Printf("%s: ok\n", a)
		}
	}
}
'

# install_rawsys: builds the helper once per run into $BUNDLE's rootfs.
install_rawsys() {
	local cache=$BATS_RUN_TMPDIR/cache/rawsys
	if [[ ! -x $cache/rawsys ]]; then
		local go=${GO:-$(command -v go || echo /usr/local/go/bin/go)} tmp
		tmp=$(mktemp -d "$BATS_RUN_TMPDIR/rawsys.XXXXXX")
		printf '%s' "$RAWSYS_SRC" >"$tmp/main.go"
		(cd "$tmp" && "$go" mod init rawsys >/dev/null 2>&1 &&
			CGO_ENABLED=0 GOFLAGS= "$go" build -o rawsys main.go) >&2 ||
			fail "cannot build the rawsys helper"
		mkdir -p "$cache"
		mv "$tmp/rawsys" "$cache/rawsys"
		rm -rf "$tmp"
	fi
	cp "$cache/rawsys" "$BUNDLE/rootfs/rawsys"
}

# start_agent [CONNECTIONS]: berth's test agent on $AGENT_SOCK, failing
# every notified syscall with EXDEV (18); states go to $AGENT_STATE(.n).
start_agent() {
	local agent=$REPO/tests/integration/tools/bin/seccompagent
	[ -x "$agent" ] || fail "no $agent (make recvtty)"
	AGENT_SOCK=$TESTDIR/agent.sock
	AGENT_STATE=$TESTDIR/agent.state
	"$agent" "$AGENT_SOCK" "$AGENT_STATE" 18 "${1:-1}" </dev/null >"$TESTDIR/agent.out" 2>"$TESTDIR/agent.err" &
	track_pid $!
	wait_for_file "$TESTDIR/agent.out"
}

# notify_mkdir NNP: the profile sends mkdir and mkdirat to the agent.
notify_mkdir() {
	UPDATE_CONFIG_ARGS=(--arg s "${AGENT_SOCK:-$TESTDIR/agent.sock}" --argjson nnp "$1")
	update_config '.process.noNewPrivileges = $nnp | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		listenerPath: $s, syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}'
	UPDATE_CONFIG_ARGS=()
}

deny_mkdir() {
	update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO"}]}'
}

@test "a syscall above the highest one a deny-by-default profile names gets ENOSYS, an older unnamed one the default errno" {
	install_rawsys
	UPDATE_CONFIG_ARGS=(--slurpfile p "$REPO/libcontainer/seccomp/testdata/docker-default.json")
	update_config '.linux.seccomp = $p[0]'
	UPDATE_CONFIG_ARGS=()
	# 1000: no syscall yet; 0x40000000+1000: the same on x32; 101: ptrace,
	# which the profile does not name.
	set_args /rawsys 1000 0x400003e8 101
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '1000: errno 38\n0x400003e8: errno 38\n101: errno 1')" ]
}

@test "a profile that allows by default leaves unknown syscalls to the kernel" {
	install_rawsys
	deny_mkdir
	# 83 is mkdir (denied); 1000 reaches the kernel, which has no such call.
	set_args /rawsys 83 1000
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '83: errno 1\n1000: errno 38')" ]
}

@test "seccomp flags: absent means SPEC_ALLOW, empty means none, TSYNC is accepted but not passed, --debug names the value" {
	deny_mkdir
	set_args sh -c 'mkdir /tmp/d 2>/dev/null && echo made || echo refused'
	local flags want
	# flags JSON (or "absent") and the value seccomp(2) gets besides TSYNC.
	for c in 'absent 4' '[] 0' '["SECCOMP_FILTER_FLAG_TSYNC"] 0' '["SECCOMP_FILTER_FLAG_LOG"] 2' \
		'["SECCOMP_FILTER_FLAG_SPEC_ALLOW"] 4' '["SECCOMP_FILTER_FLAG_TSYNC","SECCOMP_FILTER_FLAG_LOG","SECCOMP_FILTER_FLAG_SPEC_ALLOW"] 6'; do
		flags=${c% *} want=${c##* }
		if [[ $flags == absent ]]; then
			update_config 'del(.linux.seccomp.flags)'
		else
			UPDATE_CONFIG_ARGS=(--argjson f "$flags")
			update_config '.linux.seccomp.flags = $f'
			UPDATE_CONFIG_ARGS=()
		fi
		id=$(new_id)
		run berth --debug run --bundle "$BUNDLE" "$id"
		echo "flags $flags: $output"
		[ "$status" -eq 0 ]
		[[ $output == *"seccomp filter flags: $want"* ]] || fail "flags $flags: want value $want"
		printf '%s\n' "${lines[@]}" | grep -qx refused || fail "flags $flags: the filter is not in place"
	done
}

@test "seccomp flags: exec compiles the flags create did, an empty list included" {
	deny_mkdir
	set_args sleep 1000
	local flags want
	for c in 'absent 4' '[] 0' '["SECCOMP_FILTER_FLAG_LOG"] 2'; do
		flags=${c% *} want=${c##* }
		if [[ $flags == absent ]]; then
			update_config 'del(.linux.seccomp.flags)'
		else
			UPDATE_CONFIG_ARGS=(--argjson f "$flags")
			update_config '.linux.seccomp.flags = $f'
			UPDATE_CONFIG_ARGS=()
		fi
		id=$(new_id)
		run_detached berth run -d --bundle "$BUNDLE" "$id"
		[ "$status" -eq 0 ] || fail "run -d: $output"
		run berth --debug exec "$id" sh -c 'mkdir /tmp/d 2>/dev/null && echo made || echo refused'
		echo "flags $flags: $output"
		[ "$status" -eq 0 ]
		[[ $output == *"seccomp filter flags: $want"* ]] || fail "flags $flags: exec's value is not $want"
		printf '%s\n' "${lines[@]}" | grep -qx refused || fail "flags $flags: exec's filter is not in place"
		berth delete --force "$id"
	done
}

@test "seccomp flags: WAIT_KILLABLE_RECV goes with the listener (40) and the agent still answers" {
	start_agent
	notify_mkdir false
	update_config '.linux.seccomp.flags = ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]'
	set_args sh -c 'mkdir /tmp/d; echo "status $?"'
	id=$(new_id)
	run berth --debug run --bundle "$BUNDLE" "$id"
	echo "$output"
	if [[ $status -ne 0 && $output == *"seccomp(SECCOMP_SET_MODE_FILTER"*"nvalid argument"* ]]; then
		skip "the kernel lacks SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (Linux 5.19)"
	fi
	[ "$status" -eq 0 ]
	[[ $output == *"seccomp filter flags: 40"* ]]
	[[ $output == *"ross-device link"* && $output == *"status 1"* ]] || fail "mkdir did not get the agent's EXDEV"
}

@test "SCMP_ACT_NOTIFY on write is refused at create, naming the field" {
	UPDATE_CONFIG_ARGS=(--arg s "$TESTDIR/agent.sock")
	update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $s,
		syscalls: [{names: ["mkdir"], action: "SCMP_ACT_ERRNO"}, {names: ["read", "write"], action: "SCMP_ACT_NOTIFY"}]}'
	UPDATE_CONFIG_ARGS=()
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	assert_error
	[ "${lines[0]}" = "berth: linux.seccomp.syscalls[1].names[1]: SCMP_ACT_NOTIFY cannot be used for the write syscall" ]
	[ ! -e "$ROOT/$id" ]
}

@test "SCMP_ACT_NOTIFY with no agent listening fails create saying it could not connect" {
	notify_mkdir false
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	assert_error
	[[ ${lines[0]} == "berth: linux.seccomp.listenerPath \"$TESTDIR/agent.sock\": failed to connect with seccomp agent: "* ]] || fail "${lines[0]}"
	[ ! -e "$ROOT/$id" ]
}

@test "exec with SCMP_ACT_NOTIFY hands its own listener and the container's state to the agent (noNewPrivileges false and true)" {
	local nnp n=1 st pid
	start_agent 4
	for nnp in false true; do
		notify_mkdir "$nnp"
		set_args sleep 1000
		id=$(new_id)
		run_detached berth run -d --bundle "$BUNDLE" "$id"
		[ "$status" -eq 0 ] || fail "run -d (nnp $nnp): $output"
		((n++))
		run berth exec "$id" sh -c 'mkdir /tmp/e; echo "status $?"'
		echo "nnp $nnp: $output"
		[ "$status" -eq 0 ]
		[[ $output == *"ross-device link"* && $output == *"status 1"* ]] || fail "nnp $nnp: exec's mkdir did not get the agent's EXDEV"
		wait_for_file "$AGENT_STATE.$n"
		st=$(<"$AGENT_STATE.$n")
		echo "$st"
		pid=$(state_field "$id" pid)
		# As runc sends: init's pid, the container running.
		jq -e --arg id "$id" --argjson pid "$pid" '.fds == ["seccompFd"] and .nfds == 1 and .pid == $pid
			and .state.id == $id and .state.status == "running" and .state.pid == $pid' <<<"$st" >/dev/null ||
			fail "exec's agent state: $st"
		berth delete --force "$id"
		((n++))
	done
}

@test "startContainer hooks run under the container's seccomp filter" {
	update_config '.process.rlimits = [{type: "RLIMIT_CORE", soft: 0, hard: 0}]
		| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_KILL"}]}
		| .hooks = {startContainer: [{path: "/bin/sh", args: ["sh", "-c", "mkdir /tmp/hook"]}]}'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *"error running startContainer hook #0: /bin/sh: signal: bad system call"* ]]
	[ ! -e "$BUNDLE/rootfs/tmp/hook" ]
}

@test "with SCMP_ACT_NOTIFY a startContainer hook gets only stdio, and the agent its listener first" {
	start_agent
	notify_mkdir false
	update_config '.hooks = {startContainer: [{path: "/bin/sh", args: ["sh", "-c", "ls /proc/self/fd >/tmp/hook-fds; mkdir /tmp/hook-dir; echo $? >/tmp/hook-mkdir"]}]}'
	set_args cat /tmp/hook-fds /tmp/hook-mkdir
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	# 0, 1, 2 and the directory ls reads; the hook's mkdir went to the agent.
	[ "$output" = "$(printf '0\n1\n2\n3\n1')" ]
	jq -e '.nfds == 1' "$AGENT_STATE" >/dev/null
}
