#!/usr/bin/env bats
# containerd (Debian's package, its runc shim io.containerd.runc.v2) running
# containers on berth, driven with ctr. One private containerd for the file
# (scripts/clients/containerd.sh, CRI plugin off); each test works in the
# file's own containerd namespace $NS, names its containers after itself and
# removes them. The shim runs berth because ctr passes --runc-binary (the
# runc shim's BinaryName option), with berth's --root under $CTD_DIR
# (--runc-root); for `ctr run --no-pivot`, which drops those options, a
# `runc` symlink to berth comes first on the daemon's PATH.

load clients

setup_file() {
	clients_start_containerd_ctr
	NS=berth-test-$$
	export NS
	# Fixed paths outside $CTD_DIR that the shim (/run/containerd/s) and
	# the no-pivot test (/run/containerd/runc/NS) create: the teardown
	# removes those that were not there before (and are empty).
	RUN_DIRS_BEFORE=$(ls -d /run/containerd /run/containerd/s /run/containerd/runc 2>/dev/null | tr '\n' ' ')
	export RUN_DIRS_BEFORE
	c images import "$CTD_DIR/images.tar" >&2
}

clients_start_containerd_ctr() {
	CTD_DISABLE_CRI=1 clients_start_containerd
}

teardown_file() {
	local rc=0
	[[ -n ${NS:-} ]] && { rmdir_cgroup "$NS" || rc=1; }
	if [[ -n ${NS:-} && -d /run/containerd/runc/$NS ]]; then
		rmdir "/run/containerd/runc/$NS" || rc=1
	fi
	clients_stop_containerd || rc=1
	local d
	for d in /run/containerd/runc /run/containerd/s /run/containerd; do
		[[ " $RUN_DIRS_BEFORE " == *" $d "* ]] || rmdir "$d" 2>/dev/null || true
	done
	return $rc
}

setup() {
	clients_require_root
	TESTDIR=$BATS_TEST_TMPDIR
	# berth's --root for the shim (ctr --runc-root): per test, so a test
	# sees only its own containers.
	RROOT=$CTD_DIR/berth-root-$BATS_TEST_NUMBER
	IDS=()
}

teardown() {
	local id problems=() st
	for id in "${IDS[@]}"; do
		if c task ls -q 2>/dev/null | grep -qxF "$id"; then
			c task kill -a -s KILL "$id" >/dev/null 2>&1 || true
			wait_task_status "$id" STOPPED 10 2>/dev/null || true
			c task rm -f "$id" >/dev/null 2>&1 || problems+=("ctr task rm -f $id failed")
		fi
		if c containers ls -q 2>/dev/null | grep -qxF "$id"; then
			c containers rm "$id" >/dev/null 2>&1 || problems+=("ctr containers rm $id failed")
		fi
		for d in $(cgroup_dirs "$NS/$id"); do problems+=("cgroup left behind: $d"); done
		rmdir_cgroup "$NS/$id" 2>/dev/null || true
	done
	for r in "$RROOT/$NS" "/run/containerd/runc/$NS"; do
		[[ -d $r ]] || continue
		st=$(ls -A "$r")
		[[ -z $st ]] || problems+=("berth state left in $r: $st")
	done
	rm -rf "$RROOT"
	if [[ ${#problems[@]} -gt 0 ]]; then
		printf 'teardown: %s\n' "${problems[@]}" >&2
		return 1
	fi
}

# c ARGS...: ctr on the private daemon, in this file's namespace, bounded.
c() {
	timeout --kill-after=5 60 ctr --address "$CTD_DIR/containerd.sock" -n "$NS" "$@"
}

# cexec ARGS...: ctr task exec, its fifos under the test's directory.
cexec() {
	c task exec --fifo-dir "$TESTDIR" "$@"
}

# cid NAME: a container id for this test, removed by the teardown.
cid() {
	echo "t${BATS_TEST_NUMBER}-$1"
}

# ctr_run ID ARGS...: `ctr run` of $IMG on berth with ARGS as the
# process (ctr's own flags go in CTR_RUN_FLAGS, an array).
CTR_RUN_FLAGS=()
ctr_run() {
	local id=$1
	shift
	IDS+=("$id")
	run_detached c run "${CTR_RUN_FLAGS[@]}" --runc-binary "$BERTH" --runc-root "$RROOT" \
		--fifo-dir "$TESTDIR" "$IMG" "$id" "$@"
}

# start_sleeper ID: a detached container that exits 0 on SIGTERM; its
# output goes to $TESTDIR/ID.log.
start_sleeper() {
	CTR_RUN_FLAGS=(-d --log-uri "file://$TESTDIR/$1.log")
	ctr_run "$1" sh -c 'trap "echo got TERM; exit 0" TERM; echo ready; while :; do sleep 0.2; done'
	CTR_RUN_FLAGS=()
	[[ $status == 0 ]] || fail "ctr run -d $1: $output"
	wait_for_file "$TESTDIR/$1.log"
}

# task_field ID COLUMN: a column (2 = pid, 3 = status) of `ctr task ls`.
task_field() {
	c task ls | awk -v id="$1" -v col="$2" '$1 == id { print $col }'
}

# wait_task_status ID STATUS [SECONDS]
wait_task_status() {
	local id=$1 want=$2 limit=${3:-10} i st
	for ((i = 0; i < limit * 10; i++)); do
		st=$(task_field "$id" 3)
		[[ $st == "$want" ]] && return 0
		sleep 0.1
	done
	fail "task $id: status '$st', waited ${limit}s for '$want'"
}

@test "containerd: ctr run --rm --runc-binary berth prints the container's output and cleans up" {
	local id
	id=$(cid rm)
	CTR_RUN_FLAGS=(--rm)
	ctr_run "$id" sh -c 'echo "hello from berth: pid $$"; cat /proc/self/cgroup'
	CTR_RUN_FLAGS=()
	[[ $status == 0 ]] || fail "ctr run failed ($status): $output"
	[[ $output == *"hello from berth: pid 1"* ]] || fail "unexpected output: $output"
	# ctr puts the container in the cgroup /NS/ID.
	[[ $output == *":/$NS/$id"* ]] || fail "not in cgroup /$NS/$id: $output"
	# --rm: nothing left in containerd, in berth's root, or in the cgroups.
	run c containers ls -q
	[[ $output != *"$id"* ]] || fail "container $id still listed"
	[[ -z $(ls -A "$RROOT/$NS" 2>/dev/null) ]] || fail "berth state left: $(ls -A "$RROOT/$NS")"
	[[ -z $(cgroup_dirs "$NS/$id") ]] || fail "cgroups left: $(cgroup_dirs "$NS/$id")"
}

@test "containerd: ctr run -d runs the task on berth; berth state agrees" {
	local id pid
	id=$(cid d)
	start_sleeper "$id"
	wait_task_status "$id" RUNNING
	pid=$(task_field "$id" 2)
	# The shim created it with berth, in berth's root given by --runc-root.
	run timeout 30 "$BERTH" --root "$RROOT/$NS" state "$id"
	[[ $status == 0 ]] || fail "berth state: $output"
	[[ $(jq -r .status <<<"$output") == running ]] || fail "berth state: $output"
	[[ $(jq -r .pid <<<"$output") == "$pid" ]] || fail "berth pid != ctr's $pid: $output"
	grep -qx ready "$TESTDIR/$id.log" || fail "log: $(cat "$TESTDIR/$id.log")"
}

@test "containerd: ctr task exec runs a process in the container, without and with --tty" {
	local id
	id=$(cid exec)
	start_sleeper "$id"

	run cexec --exec-id e1 "$id" sh -c 'echo "exec-ok ppid-of-init=$(cut -d" " -f4 /proc/1/stat)"; tty; exit 3'
	[[ $status == 3 ]] || fail "exec exit status $status (want 3): $output"
	[[ $output == *"exec-ok ppid-of-init=0"* ]] || fail "exec did not run in the container's pid namespace: $output"
	[[ $output == *"not a tty"* ]] || fail "exec without --tty got a terminal: $output"

	# ctr --tty wants a terminal of its own: give it one.
	in_pty ctr --address "$CTD_DIR/containerd.sock" -n "$NS" task exec --fifo-dir "$TESTDIR" --tty --exec-id e2 "$id" sh -c 'tty; echo tty-ok'
	[[ $status == 0 ]] || fail "exec --tty failed ($status): $output"
	[[ $output == *"/dev/pts/"* ]] || fail "exec --tty: no pts: $output"
	[[ $output == *"tty-ok"* ]] || fail "exec --tty: $output"

	# An exec of a missing binary fails with berth's message.
	run cexec --exec-id e3 "$id" /no/such/exec
	[[ $status != 0 ]] || fail "exec of a missing binary succeeded"
	[[ $output == *'exec: "/no/such/exec": no such file or directory'* ]] || fail "error text: $output"
	# The failed exec left the task running.
	[[ $(task_field "$id" 3) == RUNNING ]]
}

@test "containerd: ctr task ps lists the container's processes (berth ps)" {
	local id pid epid
	id=$(cid ps)
	start_sleeper "$id"
	pid=$(task_field "$id" 2)
	cexec -d --exec-id bg "$id" sleep 1000
	run c task ps "$id"
	[[ $status == 0 ]] || fail "ctr task ps: $output"
	awk 'NR > 1 { print $1 }' <<<"$output" | grep -qx "$pid" || fail "init $pid not listed: $output"
	[[ $output == *"ExecID:bg"* ]] || fail "the exec'd process is not listed: $output"
	epid=$(awk '/ExecID:bg/ { print $1 }' <<<"$output")
	[[ $(tr '\0' ' ' <"/proc/$epid/cmdline") == "sleep 1000 " ]] || fail "pid $epid is not the exec'd sleep"
}

@test "containerd: ctr task pause and resume (status PAUSED, then RUNNING)" {
	local id pid
	id=$(cid pause)
	start_sleeper "$id"
	pid=$(task_field "$id" 2)
	run c task pause "$id"
	[[ $status == 0 ]] || fail "pause: $output"
	[[ $(task_field "$id" 3) == PAUSED ]] || fail "status after pause: $(task_field "$id" 3)"
	[[ $(timeout 30 "$BERTH" --root "$RROOT/$NS" state "$id" | jq -r .status) == paused ]]
	# Frozen: the process is in the freezer's stopped state.
	grep -qx FROZEN "$(cgroup_dirs "$NS/$id" | grep /freezer/)/freezer.state"
	run c task resume "$id"
	[[ $status == 0 ]] || fail "resume: $output"
	[[ $(task_field "$id" 3) == RUNNING ]] || fail "status after resume: $(task_field "$id" 3)"
	[[ $(timeout 30 "$BERTH" --root "$RROOT/$NS" state "$id" | jq -r .status) == running ]]
}

@test "containerd: ctr task metrics reports the container's cgroup" {
	local id
	id=$(cid metrics)
	start_sleeper "$id"
	run c task metrics "$id"
	[[ $status == 0 ]] || fail "metrics: $output"
	[[ $output == *memory.usage_in_bytes* && $output == *pids.current* ]] || fail "metrics: $output"
	run c task metrics --format json "$id"
	[[ $status == 0 ]] || fail "metrics json: $output"
	# The init and at most a `sleep` of its loop.
	local n
	n=$(jq '.pids.current' <<<"$output")
	[[ $n -ge 1 && $n -le 2 ]] || fail "pids.current = $n: $output"
}

@test "containerd: ctr task kill (SIGTERM), ctr task rm, ctr containers rm" {
	local id
	id=$(cid kill)
	start_sleeper "$id"
	run c task kill "$id"
	[[ $status == 0 ]] || fail "kill: $output"
	wait_task_status "$id" STOPPED
	grep -qx "got TERM" "$TESTDIR/$id.log" || fail "log: $(cat "$TESTDIR/$id.log")"
	run c task rm "$id"
	[[ $status == 0 ]] || fail "task rm: $output"
	# The shim ran berth delete: berth's state and the cgroup are gone.
	[[ ! -e $RROOT/$NS/$id ]] || fail "berth state left: $RROOT/$NS/$id"
	[[ -z $(cgroup_dirs "$NS/$id") ]] || fail "cgroups left: $(cgroup_dirs "$NS/$id")"
	run c containers rm "$id"
	[[ $status == 0 ]] || fail "containers rm: $output"
	run c containers ls -q
	[[ $output != *"$id"* ]]
}

@test "containerd: ctr task kill -a reaches every process (berth kill --all)" {
	local id epid
	id=$(cid killall)
	start_sleeper "$id"
	cexec -d --exec-id bg "$id" sh -c 'trap "" TERM; exec sleep 1000'
	epid=$(c task ps "$id" | awk '/ExecID:bg/ { print $1 }')
	[[ -n $epid ]] || fail "no exec'd process"
	run c task kill -a -s KILL "$id"
	[[ $status == 0 ]] || fail "kill -a: $output"
	wait_task_status "$id" STOPPED
	local i
	for ((i = 0; i < 50; i++)); do pid_alive "$epid" || break; sleep 0.1; done
	! pid_alive "$epid" || fail "exec'd process $epid survived kill -a"
	run c task rm "$id"
	[[ $status == 0 ]] || fail "task rm: $output"
}

@test "containerd: a container whose args[0] is missing fails with berth's error in ctr's output" {
	local id
	id=$(cid fail)
	CTR_RUN_FLAGS=(--rm)
	ctr_run "$id" /no/such/binary
	CTR_RUN_FLAGS=()
	[[ $status != 0 ]] || fail "ctr run of a missing binary succeeded: $output"
	[[ $output == *'OCI runtime create failed'* ]] || fail "output: $output"
	# berth's own text (libcontainer/init.go), through the shim's --log.
	[[ $output == *'exec: "/no/such/binary": no such file or directory'* ]] || fail "output: $output"
	[[ -z $(ls -A "$RROOT/$NS" 2>/dev/null) ]] || fail "berth state left: $(ls -A "$RROOT/$NS")"
	[[ -z $(cgroup_dirs "$NS/$id") ]] || fail "cgroups left: $(cgroup_dirs "$NS/$id")"
}

@test "containerd: ctr run --no-pivot runs berth as the shim's plain runc" {
	local id
	id=$(cid nopivot)
	IDS+=("$id")
	# --no-pivot replaces ctr's runtime options (so no --runc-binary): the
	# shim runs "runc" from the daemon's PATH, $CTD_DIR/bin/runc -> berth,
	# with its default root /run/containerd/runc/NS.
	run_detached c run -d --no-pivot --fifo-dir "$TESTDIR" --log-uri "file://$TESTDIR/$id.log" \
		"$IMG" "$id" sh -c 'echo no-pivot-ok; trap "exit 0" TERM; while :; do sleep 0.2; done'
	[[ $status == 0 ]] || fail "ctr run --no-pivot: $output"
	wait_for_file "$TESTDIR/$id.log"
	grep -qx no-pivot-ok "$TESTDIR/$id.log"
	run timeout 30 "$BERTH" --root "/run/containerd/runc/$NS" list --format json
	[[ $status == 0 ]] || fail "berth list: $output"
	[[ $(jq -r --arg id "$id" '.[] | select(.id == $id) | .status' <<<"$output") == running ]] ||
		fail "berth does not know $id: $output"
	c task kill "$id"
	wait_task_status "$id" STOPPED
	run c task rm "$id"
	[[ $status == 0 ]] || fail "task rm: $output"
	[[ ! -e /run/containerd/runc/$NS/$id ]] || fail "berth state left"
}
