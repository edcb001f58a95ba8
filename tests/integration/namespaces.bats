#!/usr/bin/env bats
# Namespaces: created, joined by path, and what the process sees in them.

load helpers

teardown() {
	local rc=0
	berth_teardown || rc=$?
	if [[ -n ${NETNS:-} ]]; then
		ip netns del "$NETNS" 2>/dev/null || rc=1
	fi
	return $rc
}

@test "the process is PID 1 and sees only its own processes" {
	set_args sh -c 'echo "pid $$"; ls /proc | grep -c "^[0-9]"'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "pid 1" ]
	# sh, ls and grep at most
	[ "${lines[1]}" -le 3 ]
}

@test "the container gets the hostname from config.json and the host keeps its own" {
	host=$(hostname)
	update_config '.hostname = "berth-ns-test"'
	set_args hostname
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$output" = berth-ns-test ]
	[ "$(hostname)" = "$host" ]
}

@test "a new network namespace has only lo" {
	set_args ls /sys/class/net
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$output" = lo ]
}

@test "each namespace in config.json is new, the others are the host's" {
	update_config '.linux.namespaces = [{type: "pid"}, {type: "mount"}, {type: "uts"}, {type: "ipc"}]'
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	for ns in pid mnt uts ipc; do
		[ "$(readlink "/proc/$pid/ns/$ns")" != "$(readlink "/proc/self/ns/$ns")" ] || fail "$ns is the host's"
	done
	for ns in net user; do
		[ "$(readlink "/proc/$pid/ns/$ns")" = "$(readlink "/proc/self/ns/$ns")" ] || fail "$ns is not the host's"
	done
}

@test "a namespace with a path is joined" {
	NETNS=berth-$(new_id)
	ip netns add "$NETNS"
	want=$(stat -L -c %i "/run/netns/$NETNS")
	UPDATE_CONFIG_ARGS=(--arg p "/run/netns/$NETNS")
	update_config '.linux.namespaces = [.linux.namespaces[] | if .type == "network" then .path = $p else . end]'
	UPDATE_CONFIG_ARGS=()
	set_args readlink /proc/self/ns/net
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "net:[$want]" ]
}

@test "two containers joining one network namespace share it" {
	NETNS=berth-$(new_id)
	ip netns add "$NETNS"
	UPDATE_CONFIG_ARGS=(--arg p "/run/netns/$NETNS")
	update_config '.linux.namespaces = [.linux.namespaces[] | if .type == "network" then .path = $p else . end]'
	UPDATE_CONFIG_ARGS=()
	set_args sleep 1000
	a=$(new_id)
	b=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$a"
	[ "$status" -eq 0 ]
	run_detached berth run -d --bundle "$BUNDLE" "$b"
	[ "$status" -eq 0 ]
	pa=$(state_field "$a" pid)
	pb=$(state_field "$b" pid)
	[ "$(readlink "/proc/$pa/ns/net")" = "$(readlink "/proc/$pb/ns/net")" ]
	[ "$(readlink "/proc/$pa/ns/pid")" != "$(readlink "/proc/$pb/ns/pid")" ]
}

@test "a user namespace maps container root to the configured host ids" {
	userns_config
	set_args sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	read -ra uidmap <<<"${lines[0]}"
	read -ra gidmap <<<"${lines[1]}"
	[ "${uidmap[*]}" = "0 100000 65536" ]
	[ "${gidmap[*]}" = "0 200000 65536" ]
	[ "${lines[2]}" = 0 ]
	[ "${lines[3]}" = 0 ]
}

@test "a user namespace's root is an unprivileged host uid" {
	userns_config
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" = 100000 ]
	[ "$(awk '/^Gid:/ {print $2}' "/proc/$pid/status")" = 200000 ]
	[ "$(readlink "/proc/$pid/ns/user")" != "$(readlink /proc/self/ns/user)" ]
}

@test "a cgroup namespace shows the container's cgroup as its root" {
	update_config 'if any(.linux.namespaces[]; .type == "cgroup") then . else .linux.namespaces += [{type: "cgroup"}] end'
	set_args cat /proc/self/cgroup
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -gt 0 ]
	for l in "${lines[@]}"; do
		[ "${l##*:}" = / ] || fail "not at the root: $l"
	done
}

@test "a time namespace applies linux.timeOffsets" {
	[ -e /proc/self/ns/time ] || fail "this kernel has no time namespaces"
	update_config '.linux.namespaces += [{type: "time"}]
		| .linux.timeOffsets = {monotonic: {secs: 864000, nanosecs: 0}, boottime: {secs: 1728000, nanosecs: 0}}'
	set_args sh -c 'cat /proc/self/timens_offsets; cut -d. -f1 /proc/uptime'
	id=$(new_id)
	host_uptime=$(cut -d. -f1 /proc/uptime)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	printf '%s\n' "${lines[@]}" | grep -Eq '^monotonic +864000 +0$'
	printf '%s\n' "${lines[@]}" | grep -Eq '^boottime +1728000 +0$'
	# /proc/uptime counts boot time, moved by the offset
	up=${lines[-1]}
	[ "$up" -ge $((host_uptime + 1728000)) ]
	[ "$up" -lt $((host_uptime + 1728000 + 60)) ]
}

@test "a time namespace gets linux.timeOffsets inside a new user namespace too" {
	[ -e /proc/self/ns/time ] || skip "this kernel has no time namespaces"
	userns_config
	update_config '.linux.namespaces += [{type: "time"}]
		| .linux.timeOffsets = {monotonic: {secs: 4242, nanosecs: 17}, boottime: {secs: 777, nanosecs: 0}}'
	set_args cat /proc/self/timens_offsets
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	printf '%s\n' "${lines[@]}" | grep -Eq '^monotonic +4242 +17$' || fail "$output"
	printf '%s\n' "${lines[@]}" | grep -Eq '^boottime +777 +0$' || fail "$output"
}

@test "a new network namespace has lo up, with the C init and with the Go init" {
	set_args cat /sys/class/net/lo/flags
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	(( output & 1 )) || fail "lo flags $output: not up (C init)"
	# A createContainer hook keeps init in Go.
	update_config '.hooks.createContainer = [{path: "/bin/true"}]'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	(( output & 1 )) || fail "lo flags $output: not up (Go init)"
}

@test "a user-namespace container whose config mounts no /proc (nor /sys) runs" {
	userns_config
	update_config '.mounts |= map(select(.destination != "/proc" and (.destination | startswith("/sys") | not)))'
	set_args sh -c 'ls /proc | wc -l; echo done'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0 ] || fail "/proc is not the image's empty directory: ${lines[0]} entries"
	[ "${lines[-1]}" = done ]
}

@test "linux.sysctl user.* sets the container's own user-namespace limits and leaves the host's" {
	userns_config
	host=$(cat /proc/sys/user/max_user_namespaces)
	update_config '.linux.sysctl = {"user.max_user_namespaces": "7"}'
	set_args cat /proc/sys/user/max_user_namespaces
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ "$output" = 7 ] || fail "max_user_namespaces in the container: $output, want 7"
	[ "$(cat /proc/sys/user/max_user_namespaces)" = "$host" ] || fail "the host's limit changed"
}

@test "linux.sysctl user.* without a user namespace is a config error" {
	update_config '.linux.sysctl = {"user.max_user_namespaces": "7"}'
	run berth create --bundle "$BUNDLE" "$(new_id)"
	assert_error
	[[ $output == *'linux.sysctl["user.max_user_namespaces"]: needs a user namespace'* ]] || fail "$output"
}

# host_mntns_config: the container shares berth's mount namespace (its
# mounts land below the rootfs on the host); masked and read-only paths
# need a mount namespace of its own.
host_mntns_config() {
	update_config '.linux.namespaces -= [{type: "mount"}] | .linux.maskedPaths = [] | .linux.readonlyPaths = []'
}

@test "without a mount namespace, root.readonly makes only the container's root read-only; hooks run; delete unmounts all" {
	host_mntns_config
	UPDATE_CONFIG_ARGS=(--arg f "$TESTDIR/hook-ran")
	update_config '.root.readonly = true
		| .hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", ("touch " + $f)]}]'
	UPDATE_CONFIG_ARGS=()
	set_args sh -c 'if touch /x 2>/dev/null; then echo root-writable; else echo root-ro; fi; touch /dev/shm/y && echo shm-ok'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[[ $output == *root-ro*shm-ok* ]] || fail "$output"
	[ -e "$TESTDIR/hook-ran" ]
	# The host's filesystem under the rootfs is still writable.
	touch "$BUNDLE/rootfs.w" && rm "$BUNDLE/rootfs.w"
	left=$(mounts_under "$BUNDLE/rootfs")
	[[ -z $left ]] || fail "mounts left below the rootfs: $left"
}

@test "a create that fails without a mount namespace unmounts what it mounted below the rootfs" {
	host_mntns_config
	update_config '.hooks.createRuntime = [{path: "/bin/false"}]'
	id=$(new_id)
	run berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 1 ] || fail "status $status: $output"
	[[ $output == *createRuntime* ]] || fail "$output"
	left=$(mounts_under "$BUNDLE/rootfs")
	[[ -z $left ]] || fail "mounts left below the rootfs: $left"
	assert_nothing_left "$id"
}
