#!/usr/bin/env bats
# Reliability: berth killed at each named fault point (BERTH_FAULT=<point>
# makes berth SIGKILL itself there), failures of the host around it (hooks
# that hang, a read-only or full --root, a missing rootfs or executable), and
# races between commands. After each: `state` tells the truth, `delete
# --force` removes everything and the id can be created again.

load helpers

setup() {
	berth_setup
	set_args sleep 1000
}

teardown() {
	# Mounts a test made for --root (mount_tmpfs): gone before the shared
	# teardown looks for mounts under the test dir.
	local m r id
	# Containers a test made under another --root (one on such a mount).
	if [[ -n ${TESTDIR:-} && -s $TESTDIR/roots ]]; then
		while read -r r; do
			for id in $(cat "$TESTDIR/ids"); do
				[[ -e $r/$id ]] && timeout 30 "$BERTH" --root "$r" delete --force "$id" >/dev/null 2>&1
			done
		done <"$TESTDIR/roots"
	fi
	if [[ -n ${TESTDIR:-} && -s $TESTDIR/mounts ]]; then
		while read -r m; do
			mountpoint -q "$m" && umount -l "$m"
			rmdir "$m" 2>/dev/null || true
		done < <(sort -r "$TESTDIR/mounts")
	fi
	berth_teardown
}

# faulty POINT ARG...: berth (with this test's --root) that kills itself at
# fault point POINT; with FAULT_WAIT set, only once that file exists.
faulty() {
	local point=$1
	shift
	BERTH_FAULT=$point BERTH_FAULT_WAIT=${FAULT_WAIT:-} \
		timeout --kill-after=5 "$BERTH_CMD_TIMEOUT" "$BERTH" --root "$ROOT" "$@"
}

# cgroup_pids ID: the live processes in the cgroups of container ID (any
# hierarchy, any depth).
cgroup_pids() {
	local d
	for d in $(cgroup_dirs "$1"); do
		find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
	done | sort -un
}

# assert_gone PID...: each process exits within 5s.
assert_gone() {
	local pid i
	for pid in "$@"; do
		for ((i = 0; i < 100; i++)); do
			pid_alive "$pid" || break
			sleep 0.05
		done
		if pid_alive "$pid"; then
			fail "process $pid is still alive: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
		fi
	done
	return 0
}

# assert_state ID WANT: `berth state ID` reports status WANT (or one of
# "a|b"), or with WANT "none" fails with "container ID does not exist".
assert_state() {
	local id=$1 want=$2 got
	run berth state "$id"
	if [[ $want == none ]]; then
		[ "$status" -eq 1 ] || fail "state of $id: status $status, want 1 (no state.json): $output"
		[[ $output == *"container $id does not exist"* ]] || fail "state of $id: $output"
		return 0
	fi
	[ "$status" -eq 0 ] || fail "state of $id failed: $output"
	got=$(jq -r .status <<<"$output") || fail "state of $id is not JSON: $output"
	[[ "|$want|" == *"|$got|"* ]] || fail "state of $id: status '$got', want '$want'"
}

# force_delete_cleans ID PID...: `delete --force ID` succeeds and leaves no
# state dir, no cgroup, no runtime process, and none of the PIDs (the
# processes found in the container's cgroups beforehand, its init).
force_delete_cleans() {
	local id=$1
	shift
	run berth delete --force "$id"
	[ "$status" -eq 0 ] || fail "delete --force $id: status $status: $output"
	assert_gone "$@"
	assert_nothing_left "$id"
}

# recreate_works ID: a new container with the same id can be created (and
# deleted again).
recreate_works() {
	local id=$1
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "create of $id again: status $status: $output"
	assert_state "$id" created
	run berth delete --force "$id"
	[ "$status" -eq 0 ] || fail "delete of the recreated $id: $output"
	assert_nothing_left "$id"
}

# create_fault POINT: create killed at POINT exits 137 (the point was
# reached); then state tells the truth: "does not exist" while no state.json
# was written; once berth writes one early (so that delete can find the
# cgroup), "created" or "creating" while a process of the container lives,
# else "stopped". Then delete --force cleans up and the id works again.
create_fault() {
	local point=$1 pids
	id=$(new_id)
	status=0
	faulty "$point" create --bundle "$BUNDLE" "$id" </dev/null >"$TESTDIR/create.out" 2>&1 || status=$?
	[ "$status" -eq 137 ] || fail "create with BERTH_FAULT=$point: status $status, want 137 (SIGKILL): $(cat "$TESTDIR/create.out")"
	pids=$(cgroup_pids "$id")
	if [[ ! -e $ROOT/$id/state.json ]]; then
		assert_state "$id" none
	elif [[ -n $pids ]]; then
		# Init exits on its own once it reads EOF from the dead parent:
		# "stopped" is the truth if none of the processes is left.
		assert_state "$id" "created|creating|stopped"
		if [[ $(jq -r .status <<<"$output") == stopped ]]; then
			local p
			for p in $pids; do
				! pid_alive "$p" || fail "state of $id says stopped, but its process $p lives"
			done
		fi
	else
		assert_state "$id" stopped
	fi
	force_delete_cleans "$id" $pids
	recreate_works "$id"
}

@test "fault create:statedir: state tells the truth; delete --force cleans; the id works again" {
	create_fault create:statedir
}

@test "fault create:cgroup: state tells the truth; delete --force removes the cgroup; the id works again" {
	create_fault create:cgroup
}

@test "fault create:init-started: state tells the truth; delete --force removes the cgroup and the init; the id works again" {
	create_fault create:init-started
}

@test "fault create:namespaces: state tells the truth; delete --force removes the cgroup and the init; the id works again" {
	create_fault create:namespaces
}

@test "fault create:hooks (a prestart hook exists): state tells the truth; delete --force removes the cgroup and the init; the id works again" {
	UPDATE_CONFIG_ARGS=(--arg t "$(type -P true)")
	update_config '.hooks = {prestart: [{path: $t}]}'
	UPDATE_CONFIG_ARGS=()
	create_fault create:hooks
}

@test "fault create:before-state: state tells the truth; delete --force removes the cgroup and the waiting init; the id works again" {
	create_fault create:before-state
}

@test "fault start:before-release: state tells what runs; delete --force kills the init; the id works again" {
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	run faulty start:before-release start "$id"
	[ "$status" -eq 137 ]
	# Once start opened the fifo, init was free to go on (no startContainer
	# hook holds it): it execs the container's process. What runs decides
	# what state must say: still berth's init is "created", else "running".
	berth_ino=$(stat -L -c %d:%i "$BERTH")
	want=created
	for _ in $(seq 100); do
		if [[ $(stat -L -c %d:%i "/proc/$pid/exe" 2>/dev/null) != "$berth_ino" ]]; then
			want=running
			break
		fi
		sleep 0.05
	done
	assert_state "$id" "$want"
	pids=$(cgroup_pids "$id")
	force_delete_cleans "$id" "$pid" $pids
	recreate_works "$id"
}

@test "fault start:before-poststart: state says running; delete --force kills it; the id works again" {
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	run faulty start:before-poststart start "$id"
	[ "$status" -eq 137 ]
	assert_state "$id" running
	[ "$(cat "/proc/$pid/comm")" = sleep ]
	pids=$(cgroup_pids "$id")
	force_delete_cleans "$id" "$pid" $pids
	recreate_works "$id"
}

@test "fault delete:killed: state says stopped; delete --force finishes the delete; the id works again" {
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	run faulty delete:killed delete --force "$id"
	[ "$status" -eq 137 ]
	assert_gone "$pid"
	assert_state "$id" stopped
	force_delete_cleans "$id" "$pid"
	recreate_works "$id"
}

@test "fault delete:poststop: the container is gone; delete --force succeeds; the id works again" {
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	pids=$(cgroup_pids "$id")
	run faulty delete:poststop delete --force "$id"
	[ "$status" -eq 137 ]
	# The point comes after the state directory went: nothing is left to
	# name. (Hence poststop hooks are lost if berth dies here, as in runc.)
	assert_gone "$pid" $pids
	assert_state "$id" none
	force_delete_cleans "$id"
	recreate_works "$id"
}

@test "fault create:wait-init (init sets up the rootfs): state tells the truth; delete --force cleans; the id works again" {
	create_fault create:wait-init
}

@test "fault create:wait-init during a createContainer hook: state says creating; delete --force kills init and the hook; the id works again" {
	# createContainer runs in init before pivot_root: host paths resolve.
	# First run only: it marks that it started, then hangs.
	cat >"$TESTDIR/cc-hook" <<-EOF
		#!/bin/sh
		[ -e "$TESTDIR/cc.started" ] && exit 0
		touch "$TESTDIR/cc.started"
		exec sleep 1000
	EOF
	chmod +x "$TESTDIR/cc-hook"
	UPDATE_CONFIG_ARGS=(--arg p "$TESTDIR/cc-hook")
	update_config '.hooks = {createContainer: [{path: $p}]}'
	UPDATE_CONFIG_ARGS=()
	id=$(new_id)
	status=0
	FAULT_WAIT=$TESTDIR/cc.started faulty create:wait-init create --bundle "$BUNDLE" "$id" </dev/null >"$TESTDIR/create.out" 2>&1 || status=$?
	[ "$status" -eq 137 ] || fail "create: status $status, want 137: $(cat "$TESTDIR/create.out")"
	# Init still waits for its hook: the create never finished.
	assert_state "$id" creating
	pid=$(state_field "$id" pid)
	pids=$(cgroup_pids "$id")
	# The hook is init's child, in the container's cgroup: the container's
	# to kill.
	[ "$(wc -w <<<"$pids")" -ge 2 ] || fail "want init and its hook in the cgroup, found: $pids"
	force_delete_cleans "$id" "$pid" $pids
	recreate_works "$id"
}

@test "fault start:released: the process runs; state says running; delete --force kills it; the id works again" {
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	run faulty start:released start "$id"
	[ "$status" -eq 137 ]
	# Init was released before start died: it goes on and execs.
	for _ in $(seq 100); do
		[[ $(cat "/proc/$pid/comm" 2>/dev/null) == sleep ]] && break
		sleep 0.05
	done
	[ "$(cat "/proc/$pid/comm")" = sleep ]
	assert_state "$id" running
	pids=$(cgroup_pids "$id")
	force_delete_cleans "$id" "$pid" $pids
	recreate_works "$id"
}

@test "fault start:released during a startContainer hook: state says created; delete --force kills init and the hook; the id works again" {
	# startContainer runs in init after pivot_root: the hook lives in the
	# rootfs, and its mark lands there.
	mkdir -p "$BUNDLE/rootfs/hookbin"
	cat >"$BUNDLE/rootfs/hookbin/sc-hook" <<-'EOF'
		#!/bin/sh
		[ -e /sc.started ] && exit 0
		touch /sc.started
		exec sleep 1000
	EOF
	chmod +x "$BUNDLE/rootfs/hookbin/sc-hook"
	update_config '.hooks = {startContainer: [{path: "/hookbin/sc-hook"}]}'
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	FAULT_WAIT=$BUNDLE/rootfs/sc.started
	run faulty start:released start "$id"
	FAULT_WAIT=
	[ "$status" -eq 137 ]
	# The process has not been exec'd: init (still berth) waits for its hook.
	[ "$(stat -L -c %d:%i "/proc/$pid/exe")" = "$(stat -L -c %d:%i "$BERTH")" ]
	assert_state "$id" created
	pids=$(cgroup_pids "$id")
	[ "$(wc -w <<<"$pids")" -ge 2 ] || fail "want init and its hook in the cgroup, found: $pids"
	force_delete_cleans "$id" "$pid" $pids
	recreate_works "$id"
}

@test "start again after start:released during a startContainer hook: it waits for the hook, then the process runs" {
	mkdir -p "$BUNDLE/rootfs/hookbin"
	cat >"$BUNDLE/rootfs/hookbin/sc-hook" <<-'EOF'
		#!/bin/sh
		touch /sc.started
		while [ ! -e /sc.go ]; do sleep 0.05; done
	EOF
	chmod +x "$BUNDLE/rootfs/hookbin/sc-hook"
	update_config '.hooks = {startContainer: [{path: "/hookbin/sc-hook"}]} | .root.readonly = false'
	set_args sh -c 'echo ran >/ran; exec sleep 1000'
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	FAULT_WAIT=$BUNDLE/rootfs/sc.started
	run faulty start:released start "$id"
	FAULT_WAIT=
	[ "$status" -eq 137 ]
	assert_state "$id" created
	# The second start finds the release byte taken: it waits until init
	# execs the process, and says the container started.
	berth start "$id" >"$TESTDIR/start2.out" 2>&1 &
	local start2=$!
	track_pid "$start2"
	sleep 0.3
	kill -0 "$start2" 2>/dev/null || fail "second start returned while the hook runs: $(cat "$TESTDIR/start2.out")"
	touch "$BUNDLE/rootfs/sc.go"
	local rc=0
	wait "$start2" || rc=$?
	[ "$rc" -eq 0 ] || fail "second start: status $rc: $(cat "$TESTDIR/start2.out")"
	assert_state "$id" running
	wait_for_file "$BUNDLE/rootfs/ran"
	[ ! -e "$ROOT/$id/exec.fifo" ] || fail "exec.fifo left behind"
}

# --- berth killed while one of its own hooks runs --------------------------
#
# berth runs the prestart, createRuntime, poststart and poststop hooks
# itself, in the runtime's namespaces and cgroup, as runc does: such a hook
# is the caller's program, not part of the container. Neither berth's death
# nor delete --force kills it: it runs to its end (a hook that sets up or
# tears down the network must be let finish, or it leaves worse behind than
# it does), and is no leak of berth's. Hooks that run in the container
# (createContainer, startContainer) are children of its init, in its cgroup,
# and delete --force kills them (the create:wait-init and start:released
# tests above).

# slow_hook: $TESTDIR/slow-hook KIND, a hook that on its first run writes
# its pid to $TESTDIR/KIND.pid, waits (at most 60s) for $TESTDIR/KIND.go,
# and writes $TESTDIR/KIND.done. Later runs exit at once.
slow_hook() {
	cat >"$TESTDIR/slow-hook" <<-EOF
		#!/bin/sh
		[ -e "$TESTDIR/\$1.pid" ] && exit 0
		echo \$\$ >"$TESTDIR/\$1.pid.tmp"
		mv "$TESTDIR/\$1.pid.tmp" "$TESTDIR/\$1.pid"
		i=0
		while [ ! -e "$TESTDIR/\$1.go" ] && [ \$i -lt 600 ]; do
			sleep 0.1
			i=\$((i + 1))
		done
		echo done >"$TESTDIR/\$1.done"
	EOF
	chmod +x "$TESTDIR/slow-hook"
}

# set_slow_hook KIND: config.json's only hook is slow-hook as a KIND hook.
set_slow_hook() {
	UPDATE_CONFIG_ARGS=(--arg p "$TESTDIR/slow-hook" --arg k "$1")
	update_config '.hooks = {($k): [{path: $p, args: ["slow-hook", $k]}]}'
	UPDATE_CONFIG_ARGS=()
}

# hook_left_to_finish KIND ID: the KIND hook that ran when berth was killed
# still runs, outside container ID's cgroups, and ends on its own once let go.
hook_left_to_finish() {
	local kind=$1 id=$2 hpid
	hpid=$(cat "$TESTDIR/$kind.pid")
	track_pid "$hpid"
	pid_alive "$hpid" || fail "the $kind hook ($hpid) did not outlive berth"
	if grep -qF "/$id" "/proc/$hpid/cgroup"; then
		fail "the $kind hook is in the container's cgroup: $(cat "/proc/$hpid/cgroup")"
	fi
	touch "$TESTDIR/$kind.go"
	assert_gone "$hpid"
	[ "$(cat "$TESTDIR/$kind.done")" = done ] || fail "the $kind hook did not run to its end"
}

@test "fault hook:prestart and hook:createRuntime (berth killed while the hook runs): state tells the truth; delete --force cleans; the hook finishes on its own; the id works again" {
	slow_hook
	for kind in prestart createRuntime; do
		set_slow_hook "$kind"
		FAULT_WAIT=$TESTDIR/$kind.pid
		create_fault "hook:$kind"
		FAULT_WAIT=
		hook_left_to_finish "$kind" "$id"
	done
}

@test "fault hook:poststart (berth killed while the hook runs): state says running; delete --force cleans; the hook finishes on its own; the id works again" {
	slow_hook
	set_slow_hook poststart
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	FAULT_WAIT=$TESTDIR/poststart.pid
	run faulty hook:poststart start "$id"
	FAULT_WAIT=
	[ "$status" -eq 137 ]
	assert_state "$id" running
	[ "$(cat "/proc/$pid/comm")" = sleep ]
	pids=$(cgroup_pids "$id")
	force_delete_cleans "$id" "$pid" $pids
	hook_left_to_finish poststart "$id"
	recreate_works "$id"
}

@test "fault hook:poststop (berth killed while the hook runs): the container is gone; delete --force succeeds; the hook finishes on its own; the id works again" {
	slow_hook
	set_slow_hook poststop
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	pids=$(cgroup_pids "$id")
	FAULT_WAIT=$TESTDIR/poststop.pid
	run faulty hook:poststop delete --force "$id"
	FAULT_WAIT=
	[ "$status" -eq 137 ]
	# poststop runs once the container and its state are gone.
	assert_gone "$pid" $pids
	assert_state "$id" none
	force_delete_cleans "$id"
	hook_left_to_finish poststop "$id"
	recreate_works "$id"
}

# --- failures around create ------------------------------------------------

# create_fails_cleanly: the last create (status, output from a file, so a
# leftover init cannot hold a pipe) failed with exit 1 and exactly one line
# "berth: ..."; nothing is left for $id.
create_fails_cleanly() {
	[ "$status" -eq 1 ] || fail "create: status $status, want 1: $output"
	[ "${#lines[@]}" -eq 1 ] || fail "create: want one line of error, got ${#lines[@]}: $output"
	[[ ${lines[0]} == "berth: "* ]] || fail "create: error does not start with 'berth: ': ${lines[0]}"
	assert_nothing_left "$id"
}

@test "a prestart or createRuntime hook that hangs past its timeout fails create with one line naming it; nothing is left" {
	# The hook records its pid, then hangs.
	cat >"$TESTDIR/hang-hook" <<-EOF
		#!/bin/sh
		echo \$\$ > "$TESTDIR/\$1.pid"
		exec sleep 1000
	EOF
	chmod +x "$TESTDIR/hang-hook"
	cp "$BUNDLE/config.json" "$TESTDIR/config.orig"
	for kind in prestart createRuntime; do
		UPDATE_CONFIG_ARGS=(--arg p "$TESTDIR/hang-hook" --arg k "$kind")
		update_config '.hooks = {($k): [{path: $p, args: ["hang-hook", $k], timeout: 1}]}'
		UPDATE_CONFIG_ARGS=()
		id=$(new_id)
		start=$SECONDS
		run_detached berth create --bundle "$BUNDLE" "$id"
		create_fails_cleanly
		[[ ${lines[0]} == *"$kind hook"*"$TESTDIR/hang-hook"*"timed out"* ]] || fail "error does not name the $kind hook and its timeout: ${lines[0]}"
		[ $((SECONDS - start)) -lt 20 ]
		[ -s "$TESTDIR/$kind.pid" ]
		assert_gone "$(cat "$TESTDIR/$kind.pid")"
		cp "$TESTDIR/config.orig" "$BUNDLE/config.json"
	done
}

@test "init killed before it is ready fails create with one line saying so; nothing is left" {
	# A createContainer hook is init's child: without a pid namespace its
	# parent pid is init's on the host, so it can kill init mid-create.
	UPDATE_CONFIG_ARGS=(--arg sh "$(type -P sh)")
	update_config '.linux.namespaces |= map(select(.type != "pid"))
		| .hooks = {createContainer: [{path: $sh, args: ["sh", "-c", "kill -KILL $PPID"]}]}'
	UPDATE_CONFIG_ARGS=()
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	create_fails_cleanly
	[[ ${lines[0]} == *"init exited before it was ready"* ]] || fail "error does not say init died: ${lines[0]}"
}

@test "a process whose executable is missing fails create with one line naming it; nothing is left" {
	set_args /no/such/program
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	create_fails_cleanly
	[[ ${lines[0]} == *"/no/such/program"* ]] || fail "error does not name the executable: ${lines[0]}"
	[[ ${lines[0]} == *"no such file or directory"* || ${lines[0]} == *"not found"* ]] || fail "error does not say it is missing: ${lines[0]}"
}

@test "a process whose executable is not executable fails create with one line naming it; nothing is left" {
	printf '#!/bin/sh\necho hi\n' >"$BUNDLE/rootfs/not-exec"
	chmod 0644 "$BUNDLE/rootfs/not-exec"
	set_args /not-exec
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	create_fails_cleanly
	[[ ${lines[0]} == *"/not-exec"* ]] || fail "error does not name the executable: ${lines[0]}"
	[[ ${lines[0]} == *"permission denied"* || ${lines[0]} == *"not executable"* ]] || fail "error does not say why: ${lines[0]}"
}

@test "a missing rootfs fails create with one line naming it; nothing is left" {
	rm -rf "$BUNDLE/rootfs"
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	create_fails_cleanly
	[[ ${lines[0]} == *"root.path"* || ${lines[0]} == *"$BUNDLE/rootfs"* ]] || fail "error does not name the rootfs: ${lines[0]}"
}

# mount_tmpfs DIR OPTIONS: a tmpfs of this test at DIR (removed by teardown).
mount_tmpfs() {
	mkdir -p "$1"
	echo "$1" >>"$TESTDIR/mounts"
	mount -t tmpfs -o "$2" berth-test "$1"
}

@test "--root on a read-only filesystem fails create with one line naming the cause; nothing is left" {
	fs=$TESTDIR/rofs
	mount_tmpfs "$fs" size=64k,mode=0700
	mkdir "$fs/root"
	echo "$fs/root" >>"$TESTDIR/roots"
	mount -o remount,ro "$fs"
	id=$(new_id)
	run_detached timeout 60 "$BERTH" --root "$fs/root" create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ] || fail "want one line, got: $output"
	[[ ${lines[0]} == "berth: "*"read-only file system"* ]] || fail "error does not say read-only: ${lines[0]}"
	[[ ${lines[0]} == *"$fs/root"* ]] || fail "error does not name the path: ${lines[0]}"
	[ -z "$(ls -A "$fs/root")" ]
	[ -z "$(cgroup_dirs "$id")" ]
	[ -z "$(runtime_procs)" ]
}

@test "--root on a full filesystem fails create with one line naming the cause; nothing is left" {
	fs=$TESTDIR/fullfs
	mount_tmpfs "$fs" size=64k,mode=0700
	mkdir "$fs/root"
	echo "$fs/root" >>"$TESTDIR/roots"
	dd if=/dev/zero of="$fs/fill" bs=4k 2>/dev/null || true
	# Nothing more fits.
	if dd if=/dev/zero of="$fs/fill2" bs=4k count=1 2>/dev/null; then fail "$fs is not full"; fi
	id=$(new_id)
	run_detached timeout 60 "$BERTH" --root "$fs/root" create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 1 ] || fail "status $status: $output"
	[ "${#lines[@]}" -eq 1 ] || fail "want one line, got: $output"
	[[ ${lines[0]} == "berth: "*"no space left on device"* ]] || fail "error does not say the disk is full: ${lines[0]}"
	[[ ${lines[0]} == *"$fs/root"* ]] || fail "error does not name the path: ${lines[0]}"
	[ -z "$(ls -A "$fs/root")" ] || fail "left in --root: $(ls -A "$fs/root")"
	[ -z "$(cgroup_dirs "$id")" ] || fail "cgroups left: $(cgroup_dirs "$id")"
	[ -z "$(runtime_procs)" ] || fail "processes left: $(runtime_procs)"
}

# root_on FS: a --root directory on the test's filesystem FS (its
# containers are deleted by teardown); broot runs berth with it.
root_on() {
	R=$1/root
	mkdir "$R"
	echo "$R" >>"$TESTDIR/roots"
}
broot() {
	timeout --kill-after=5 "$BERTH_CMD_TIMEOUT" "$BERTH" --root "$R" "$@"
}

# fill FS: writes to FS until it is full, and checks that nothing more fits.
fill() {
	dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null || true
	if dd if=/dev/zero of="$1/fill2" bs=4k count=1 2>/dev/null; then fail "$1 is not full"; fi
}

@test "a --root that fills up after create: start, state, list, kill and delete still work; nothing is left" {
	fs=$TESTDIR/fillfs
	mount_tmpfs "$fs" size=1m,mode=0700
	root_on "$fs"
	id=$(new_id)
	run_detached broot create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "create: $output"
	pid=$(broot state "$id" | jq -r .pid)
	fill "$fs"
	run broot start "$id"
	[ "$status" -eq 0 ] || fail "start on a full --root: $output"
	[ "$(broot state "$id" | jq -r .status)" = running ]
	run broot list -q
	[ "$status" -eq 0 ] && [ "$output" = "$id" ] || fail "list on a full --root: $output"
	run broot kill "$id" KILL
	[ "$status" -eq 0 ] || fail "kill on a full --root: $output"
	assert_gone "$pid"
	[ "$(broot state "$id" | jq -r .status)" = stopped ]
	run broot delete "$id"
	[ "$status" -eq 0 ] || fail "delete on a full --root: $output"
	[ -z "$(ls -A "$R")" ] || fail "left in --root: $(ls -A "$R")"
	[ -z "$(cgroup_dirs "$id")" ] || fail "cgroups left: $(cgroup_dirs "$id")"
	[ -z "$(runtime_procs)" ] || fail "processes left: $(runtime_procs)"
}

@test "a --root that turns read-only after create: start and kill work; delete fails in one line naming the path and keeps the state; once writable, delete finishes" {
	fs=$TESTDIR/rofs
	mount_tmpfs "$fs" size=1m,mode=0700
	root_on "$fs"
	id=$(new_id)
	run_detached broot create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "create: $output"
	pid=$(broot state "$id" | jq -r .pid)
	mount -o remount,ro "$fs"
	run broot start "$id"
	[ "$status" -eq 0 ] || fail "start on a read-only --root: $output"
	[ "$(broot state "$id" | jq -r .status)" = running ]
	run broot kill "$id" KILL
	[ "$status" -eq 0 ] || fail "kill on a read-only --root: $output"
	assert_gone "$pid"
	run broot delete "$id"
	[ "$status" -eq 1 ] || fail "delete on a read-only --root: status $status: $output"
	[ "${#lines[@]}" -eq 1 ] || fail "want one line, got: $output"
	[[ ${lines[0]} == "berth: "*"$R/$id"*"read-only file system" ]] || fail "error does not name the path and the cause: ${lines[0]}"
	# The container's cgroup went; its state stays, telling the truth.
	[ -z "$(cgroup_dirs "$id")" ] || fail "cgroups left: $(cgroup_dirs "$id")"
	[ "$(broot state "$id" | jq -r .status)" = stopped ]
	mount -o remount,rw "$fs"
	run broot delete "$id"
	[ "$status" -eq 0 ] || fail "delete once writable: $output"
	[ -z "$(ls -A "$R")" ] || fail "left in --root: $(ls -A "$R")"
	[ -z "$(runtime_procs)" ] || fail "processes left: $(runtime_procs)"
}

# --- races ----------------------------------------------------------------

@test "the process exits while start runs a slow poststart hook: state ends stopped and delete works" {
	set_args true
	UPDATE_CONFIG_ARGS=(--arg s "$(type -P sleep)")
	update_config '.hooks = {poststart: [{path: $s, args: ["sleep", "2"]}]}'
	UPDATE_CONFIG_ARGS=()
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	run berth start "$id"
	[ "$status" -eq 0 ] || fail "start: $output"
	assert_gone "$pid"
	assert_state "$id" stopped
	run berth delete "$id"
	[ "$status" -eq 0 ] || fail "delete: $output"
	assert_nothing_left "$id"
}

@test "kill racing delete --force, 20 times: each pair ends with the container gone and only 'does not exist'/'not running' errors" {
	for i in $(seq 20); do
		id=$(new_id)
		run_detached berth run -d --bundle "$BUNDLE" "$id"
		[ "$status" -eq 0 ]
		pid=$(state_field "$id" pid)
		berth kill "$id" KILL </dev/null >"$TESTDIR/kill.out" 2>&1 &
		k=$!
		berth delete --force "$id" </dev/null >"$TESTDIR/delete.out" 2>&1 &
		d=$!
		ks=0 ds=0
		wait "$k" || ks=$?
		wait "$d" || ds=$?
		if [ "$ks" -ne 0 ]; then
			[ "$ks" -eq 1 ] || fail "round $i: kill: status $ks: $(cat "$TESTDIR/kill.out")"
			grep -qE "does not exist|not running" "$TESTDIR/kill.out" || fail "round $i: kill: $(cat "$TESTDIR/kill.out")"
		fi
		[ "$ds" -eq 0 ] || grep -qE "does not exist|not running" "$TESTDIR/delete.out" ||
			fail "round $i: delete --force: status $ds: $(cat "$TESTDIR/delete.out")"
		assert_state "$id" none
		assert_gone "$pid"
		assert_nothing_left "$id"
	done
}
