#!/bin/bash
# berth's cgroup v2 tests. They run inside the VM that scripts/vm/cgroup2.sh
# boots (cgroup2 mounted on /sys/fs/cgroup, nothing else), as root, with
# bash-static, busybox, jq and berth in /bin. Not meant for the host: they
# expect a pure cgroup2 /sys/fs/cgroup and a container rootfs at
# /bundle/rootfs.
#
# Each test_* function runs in a subshell under `set -euo pipefail`, in a
# temp dir of its own; its teardown deletes (--force) every container it
# made, then fails the test if a cgroup named after one of them is left.
# Output is TAP-like: "ok N name", "not ok N name" (followed by the test's
# output as "# " lines), "SKIP N name: reason". The last line is
#   BERTH-CGROUP2-RESULT: <passed> passed, <failed> failed, <skipped> skipped
# TESTS (a regular expression) selects tests by name.

# ---------------------------------------------------------------- helpers ---

BERTH_FLAGS=()
. "${BASH_SOURCE[0]%/*}/runner.bash"

# new_id: a container id for this test, remembered for the teardown.
new_id() {
	local id="c2-$TESTNO-$RANDOM"
	echo "$id" >>"$TESTDIR/.ids"
	echo "$id"
}

# cgdir ID: the cgroup of a container with the default cgroupsPath ("/<id>").
cgdir() { echo "$CG/$1"; }

# make_bundle DIR [JQ-EXPR [ARG...]]: a bundle (config.json only: root.path
# is the shared, read-only /bundle/rootfs) with JQ-EXPR applied to the
# template and, if given, process.args = ARG... One jq run (each costs up to
# a second or two under TCG).
make_bundle() {
	local dir=$1 expr=${2:-.} args="" a
	shift $(($# < 2 ? $# : 2))
	if (($#)); then
		for a in "$@"; do args+=${args:+,}$(json_str "$a"); done
		expr="($expr) | .process.args = [$args]"
	fi
	mkdir -p "$dir"
	jq "$expr" "$TEMPLATE" >"$dir/config.json"
}

# run_fg ID DIR: `berth run` in the foreground; sets out and st.
run_fg() {
	st=0
	out=$(berth run --bundle "$2" "$1" </dev/null 2>&1) || st=$?
}

nprocs() { wc -l <"$1/cgroup.procs"; }

# io_weight BLKIO-WEIGHT: io.weight for a blkio weight, [10, 1000] onto [1, 10000].
io_weight() { echo $((1 + ($1 - 10) * 9999 / 990)); }

# io_weight_file DIR: the weight file the kernel has (BFQ's first).
io_weight_file() {
	if [[ -e $1/io.bfq.weight ]]; then echo io.bfq.weight; elif [[ -e $1/io.weight ]]; then echo io.weight; fi
}

# implemented CMD: false (with a reason in $TESTDIR/.why) when berth says
# CMD is not implemented yet.
implemented() {
	local o
	o=$("$BERTH_BIN" --root "$ROOT" "$1" c2-no-such-container 2>&1) || true
	if [[ $o == *"not implemented"* ]]; then
		echo "berth $1: not implemented yet" >"$TESTDIR/.why"
		return 1
	fi
	return 0
}

# remove_cgroup_tree DIR: kills what is in DIR and removes it, deepest first.
remove_cgroup_tree() {
	echo 1 >"$1/cgroup.kill" 2>/dev/null
	local i
	for ((i = 0; i < 50; i++)); do
		[[ $(kv "$1/cgroup.events" populated) == 1 ]] || break
		sleep 0.1
	done
	find "$1" -depth -type d -exec rmdir {} \; 2>/dev/null
}

teardown() {
	local rc=$? id
	set +e
	if [[ -s $TESTDIR/.ids ]]; then
		while read -r id; do
			"$BERTH_BIN" --root "$ROOT" delete --force "$id" >/dev/null 2>&1
			if [[ -d $CG/$id ]]; then
				echo "FAIL: cgroup $CG/$id left behind" >&2
				remove_cgroup_tree "$CG/$id"
				[[ $rc == 0 || $rc == 77 ]] && rc=1
			fi
		done <"$TESTDIR/.ids"
	fi
	if [[ -s $TESTDIR/.mounts ]]; then
		while read -r d; do umount "$d"; done <"$TESTDIR/.mounts"
	fi
	[[ -s $TESTDIR/.loop ]] && losetup -d "$(cat "$TESTDIR/.loop")"
	if [[ -s $TESTDIR/.cgroups ]]; then
		# Parents a test made berth create (nested cgroupsPath): deepest first.
		sort -r "$TESTDIR/.cgroups" | while read -r d; do rmdir "$d" 2>/dev/null; done
	fi
	if [[ -d $ROOT ]] && [[ -n $(ls -A "$ROOT") ]]; then
		echo "FAIL: state left in $ROOT: $(ls -A "$ROOT")" >&2
		[[ $rc == 0 || $rc == 77 ]] && rc=1
	fi
	mv "$TESTDIR/.skip" "$RESULTS/skip.$TESTNO" 2>/dev/null
	rm -rf "$TESTDIR"
	exit "$rc"
}

# ------------------------------------------------------------------ tests ---

test_memory_limit_sets_memory_max_and_oom_kills() {
	local id b d
	id=$(new_id) b=$TESTDIR/b
	# dd reads 64 MiB of zeros into one buffer: far above the limit.
	make_bundle "$b" '.linux.resources.memory = {limit: 33554432, reservation: 16777216, swap: 67108864}' \
		dd if=/dev/zero of=/dev/null bs=64M count=1
	create "$id" "$b"
	d=$(cgdir "$id")
	assert_file "$d/memory.max" 33554432
	assert_file "$d/memory.low" 16777216
	# memory.swap.max holds swap alone; the spec's swap is memory+swap.
	[[ -e $d/memory.swap.max ]] && assert_file "$d/memory.swap.max" 33554432
	berth start "$id"
	wait_status "$id" stopped 60
	local kills
	kills=$(kvn "$d/memory.events" oom_kill)
	((kills >= 1)) || fail "memory.events oom_kill is '$kills': $(cat "$d/memory.events")"
	berth delete "$id"
	[[ ! -d $d ]] || fail "delete left $d"
}

test_pids_limit_sets_pids_max_and_fork_fails() {
	local id b d
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b" '.linux.resources.pids = {limit: 10}' sh -c 'i=0; while [ $i -lt 20 ]; do sleep 30 & i=$((i+1)); done; echo all-forked; sleep 30'
	create "$id" "$b"
	d=$(cgdir "$id")
	assert_file "$d/pids.max" 10
	berth start "$id"
	wait_until 30 "pids.events max >= 1" eval '(( $(kvn "$d/pids.events" max) >= 1 ))'
	(($(cat "$d/pids.current") <= 10)) || fail "pids.current $(cat "$d/pids.current") is above pids.max"
	! grep -q all-forked "$b/out" || fail "every fork succeeded: $(cat "$b/out")"
	berth delete --force "$id"
	[[ ! -d $d ]] || fail "delete left $d"
}

test_cpu_quota_period_and_shares_set_cpu_max_and_cpu_weight() {
	local id b d
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b" '.linux.resources.cpu = {quota: 10000, period: 100000, shares: 1024}' sh -c 'while :; do :; done'
	create "$id" "$b"
	d=$(cgdir "$id")
	assert_file "$d/cpu.max" "10000 100000"
	assert_file "$d/cpu.weight" "$(share_weight 1024)"
	berth start "$id"
	# A busy loop with 10% of a CPU is throttled within a few periods.
	wait_until 20 "cpu.stat nr_throttled > 0" eval '(( $(kvn "$d/cpu.stat" nr_throttled) > 0 ))'
	berth delete --force "$id"
}

test_cpuset_cpus_and_mems_set_cpuset_files() {
	local id b
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b" '.linux.resources.cpu = {cpus: "1", mems: "0"}' sh -c 'cat /sys/fs/cgroup/cpuset.cpus /sys/fs/cgroup/cpuset.mems; grep Cpus_allowed_list /proc/self/status'
	run_fg "$id" "$b"
	((st == 0)) || fail "run: status $st: $out"
	local want
	want=$(printf '1\n0\nCpus_allowed_list:\t1')
	[[ $out == "$want" ]] || fail "unexpected output: '$out', want '$want'"
	[[ ! -d $(cgdir "$id") ]] || fail "run left the cgroup"
}

test_blkio_weight_sets_io_weight() {
	local id b d f
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b" '.linux.resources.blockIO = {weight: 500}'
	create "$id" "$b"
	d=$(cgdir "$id")
	f=$(io_weight_file "$d")
	[[ -n $f ]] || fail "neither io.bfq.weight nor io.weight in $d"
	if [[ $f == io.bfq.weight ]]; then
		grep -qx "default 500" "$d/$f" || fail "$f: $(cat "$d/$f")"
	else
		grep -qx "default $(io_weight 500)" "$d/$f" || fail "$f: $(cat "$d/$f"), want default $(io_weight 500)"
	fi
	berth delete "$id"
}

# With BFQ the scheduler of a disk (a loop device on a file here), the
# weights go to io.bfq.weight unconverted, the default and per device.
# The host's kernel may lack BFQ: this is where berth's BFQ path is proven.
test_blkio_weight_with_bfq_on_a_disk_sets_io_bfq_weight() {
	local id b d dev majmin m
	for m in bfq loop; do
		[[ -e /lib/modules/$m.ko ]] || skip "no $m.ko in the VM (the host has no modules of this kernel)"
		grep -q "^$m " /proc/modules || insmod "/lib/modules/$m.ko" || fail "insmod $m.ko"
	done
	truncate -s 16M "$TESTDIR/disk"
	dev=$(losetup -f) || fail "no free loop device"
	losetup "$dev" "$TESTDIR/disk" || fail "losetup $dev"
	echo "$dev" >"$TESTDIR/.loop"
	echo bfq >"/sys/block/${dev#/dev/}/queue/scheduler" || fail "cannot select bfq for $dev"
	grep -q '\[bfq\]' "/sys/block/${dev#/dev/}/queue/scheduler" || fail "scheduler: $(cat "/sys/block/${dev#/dev/}/queue/scheduler")"
	majmin=$(cat "/sys/block/${dev#/dev/}/dev")
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b" ".linux.resources.blockIO = {weight: 500, weightDevice: [{major: ${majmin%:*}, minor: ${majmin#*:}, weight: 300}]}"
	create "$id" "$b"
	d=$(cgdir "$id")
	[[ -e $d/io.bfq.weight ]] || fail "no io.bfq.weight in $d with bfq loaded"
	grep -qx "default 500" "$d/io.bfq.weight" || fail "io.bfq.weight: $(cat "$d/io.bfq.weight"), want default 500"
	grep -qx "$majmin 300" "$d/io.bfq.weight" || fail "io.bfq.weight: $(cat "$d/io.bfq.weight"), want $majmin 300"
	berth delete "$id"
}

# A container under a frozen cgroup would stop at once, and create with
# it: berth refuses before moving init in.
test_create_refuses_a_frozen_cgroup() {
	local id b p
	id=$(new_id) b=$TESTDIR/b p=$CG/frz-$id
	mkdir "$p"
	echo "$p" >>"$TESTDIR/.cgroups"
	echo 1 >"$p/cgroup.freeze"
	make_bundle "$b" ".linux.cgroupsPath = \"/frz-$id/ctr\""
	st=0
	out=$(berth create --bundle "$b" "$id" </dev/null 2>&1) || st=$?
	echo 0 >"$p/cgroup.freeze"
	((st == 1)) || fail "create: status $st, want 1: $out"
	[[ $out == "berth: "*"cgroup $p/ctr: container's cgroup unexpectedly frozen"* ]] || fail "create: $out"
	[[ ! -e $ROOT/$id ]] || fail "state left behind"
}

test_unified_writes_files_verbatim() {
	local id b d
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b" '.linux.resources.memory = {limit: 67108864}
		| .linux.resources.unified = {"memory.high": "41943040", "pids.max": "9", "cpu.max": "max 50000"}'
	create "$id" "$b"
	d=$(cgdir "$id")
	assert_file "$d/memory.high" 41943040
	assert_file "$d/memory.max" 67108864
	assert_file "$d/pids.max" 9
	assert_file "$d/cpu.max" "max 50000"
	berth delete "$id"
}

test_cgroup_namespace_shows_own_cgroup_as_root() {
	local id b
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b" '.linux.resources.memory = {limit: 52428800}' sh -c 'cat /proc/self/cgroup; cat /sys/fs/cgroup/memory.max; test -e /sys/fs/cgroup/cgroup.procs && echo has-procs'
	run_fg "$id" "$b"
	((st == 0)) || fail "run: status $st: $out"
	[[ $out == $'0::/\n52428800\nhas-procs' ]] || fail "with a cgroup namespace: $out"

	# Without one, the container sees its path in the host's hierarchy.
	id=$(new_id)
	make_bundle "$b" 'del(.linux.namespaces[] | select(.type == "cgroup"))' cat /proc/self/cgroup
	run_fg "$id" "$b"
	((st == 0)) || fail "run: status $st: $out"
	[[ $out == "0::/$id" ]] || fail "without a cgroup namespace: '$out', want '0::/$id'"
}

test_nested_cgroups_path_enables_controllers_on_the_way() {
	local id b d parent=$CG/c2-nest-$TESTNO
	id=$(new_id) b=$TESTDIR/b
	echo "$parent/a" >>"$TESTDIR/.cgroups"
	echo "$parent" >>"$TESTDIR/.cgroups"
	make_bundle "$b" ".linux.cgroupsPath = \"/c2-nest-$TESTNO/a/$id\" | .linux.resources.memory = {limit: 33554432} | .linux.resources.pids = {limit: 16}" \
		sleep 30
	create "$id" "$b"
	d=$parent/a/$id
	assert_file "$d/memory.max" 33554432
	assert_file "$d/pids.max" 16
	grep -qw memory "$parent/a/cgroup.subtree_control" || fail "memory not enabled in $parent/a"
	berth start "$id"
	berth delete --force "$id"
	[[ ! -d $d ]] || fail "delete left $d"
	[[ -d $parent/a ]] || fail "delete removed the parent $parent/a, which berth did not own alone"
}

# A container without a pid namespace: killing init leaves the others.
nopidns_sleepers() { # nopidns_sleepers ID DIR
	make_bundle "$2" 'del(.linux.namespaces[] | select(.type == "pid"))' sh -c 'sleep 1001 & sleep 1002 & wait'
	create "$1" "$2"
	berth start "$1"
	wait_until 10 "3 processes in the cgroup" eval "(( \$(nprocs $(cgdir "$1")) == 3 ))"
}

test_kill_all_KILL_kills_every_process() {
	local id b d
	id=$(new_id) b=$TESTDIR/b
	nopidns_sleepers "$id" "$b"
	d=$(cgdir "$id")
	berth kill --all "$id" KILL
	wait_until 10 "cgroup.events populated 0" eval '[[ $(kv "$d/cgroup.events" populated) == 0 ]]'
	wait_status "$id" stopped 10
	berth delete "$id"
	[[ ! -d $d ]] || fail "delete left $d"
}

test_kill_all_TERM_signals_every_process() {
	local id b d
	id=$(new_id) b=$TESTDIR/b
	nopidns_sleepers "$id" "$b"
	d=$(cgdir "$id")
	berth kill --all "$id" TERM
	wait_until 10 "cgroup.events populated 0" eval '[[ $(kv "$d/cgroup.events" populated) == 0 ]]'
	[[ $(kv "$d/cgroup.events" frozen) == 0 ]] || fail "cgroup left frozen after kill --all"
	berth delete "$id"
}

# Without a pid namespace of its own, init's death ends nothing else, so
# kill KILL takes the whole cgroup, as runc's does.
test_kill_KILL_without_own_pidns_kills_the_whole_cgroup() {
	local id b d
	id=$(new_id) b=$TESTDIR/b
	nopidns_sleepers "$id" "$b"
	d=$(cgdir "$id")
	berth kill "$id" KILL
	wait_until 10 "cgroup.events populated 0" eval '[[ $(kv "$d/cgroup.events" populated) == 0 ]]'
	wait_status "$id" stopped 10
	berth delete "$id"
	[[ ! -d $d ]] || fail "delete left $d"
}

test_delete_removes_cgroup() {
	local id b d
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b"
	create "$id" "$b"
	d=$(cgdir "$id")
	[[ -d $d ]] || fail "create made no $d"
	(($(nprocs "$d") == 1)) || fail "want init alone in $d: $(cat "$d/cgroup.procs")"
	berth delete "$id"
	[[ ! -d $d ]] || fail "delete left $d"
}

test_delete_force_removes_cgroup_with_subcgroups() {
	local id b d pid
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b" . sh -c 'sleep 1001 & sleep 1002 & wait'
	create "$id" "$b"
	berth start "$id"
	d=$(cgdir "$id")
	wait_until 10 "3 processes in the cgroup" eval '(( $(nprocs "$d") == 3 ))'
	# What a nested runtime in the container would do: a child cgroup
	# holding one of the processes.
	mkdir "$d/inner" "$d/inner/deeper"
	pid=$(grep -v "^$(state_field "$id" pid)\$" "$d/cgroup.procs" | head -n 1)
	echo "$pid" >"$d/inner/deeper/cgroup.procs"
	berth delete --force "$id"
	[[ ! -d $d ]] || fail "delete --force left $d: $(find "$d" -type d)"
	! kill -0 "$pid" 2>/dev/null || fail "process $pid of the inner cgroup survived"
}

# devnode_bundle DIR [JQ-EXPR [ARG...]]: make_bundle, plus DIR/devs (a
# tmpfs without nodev: the VM's /tmp has it) with a char device node
# "kmsg" (1:11, not among the default rules; it opens for writing without
# privileges) bind-mounted at /mnt/devs.
devnode_bundle() {
	local dir=$1 expr=${2:-.}
	shift $(($# < 2 ? $# : 2))
	mkdir -p "$dir/devs"
	mount -t tmpfs -o mode=0755 c2-devs "$dir/devs"
	echo "$dir/devs" >>"$TESTDIR/.mounts"
	mknod "$dir/devs/kmsg" c 1 11
	make_bundle "$dir" "($expr) | .mounts += [{destination: \"/mnt/devs\", type: \"bind\", source: \"$dir/devs\", options: [\"bind\"]}]" "$@"
}

# berth_progs DIR: "total=N berth=M" device programs attached to DIR.
berth_progs() { bpfprogs "$1"; }

test_devices_default_rules_allow_null_and_zero_and_deny_other_devices() {
	local id b
	id=$(new_id) b=$TESTDIR/b
	devnode_bundle "$b" . sh -c 'head -c 4 /dev/zero | wc -c; echo x >/dev/null && echo null-ok; echo berth >/mnt/devs/kmsg && echo kmsg-ok; true'
	create "$id" "$b"
	[[ $(berth_progs "$(cgdir "$id")") == "total=1 berth=1" ]] || fail "programs: $(berth_progs "$(cgdir "$id")")"
	berth start "$id"
	wait_status "$id" stopped 20
	grep -qx 4 "$b/out" || fail "reading /dev/zero: $(cat "$b/out")"
	grep -qx null-ok "$b/out" || fail "writing /dev/null: $(cat "$b/out")"
	! grep -q kmsg-ok "$b/out" || fail "a device outside the rules was opened: $(cat "$b/out")"
	grep -q "Operation not permitted" "$b/out" || fail "want EPERM for the kmsg node: $(cat "$b/out")"
	berth delete "$id"
	[[ ! -d $(cgdir "$id") ]] || fail "delete left the cgroup"
}

test_devices_allow_rule_opens_the_device() {
	local id b
	id=$(new_id) b=$TESTDIR/b
	devnode_bundle "$b" '.linux.resources.devices = [{allow: false, access: "rwm"}, {allow: true, type: "c", major: 1, minor: 11, access: "w"}]' \
		sh -c 'echo berth-devices-test >/mnt/devs/kmsg && echo kmsg-ok; head -c 1 /mnt/devs/kmsg >/dev/null 2>&1 || echo read-denied'
	run_fg "$id" "$b"
	((st == 0)) || fail "run: status $st: $out"
	[[ $out == *kmsg-ok* ]] || fail "writing the allowed node: $out"
	[[ $out == *read-denied* ]] || fail "reading a node allowed only for writing: $out"
}

# An image can carry a block device node (7:0, mode 666): with no
# linux.resources.devices the filter still starts from deny-all.
test_devices_no_list_denies_a_block_device_node_in_the_rootfs() {
	local id b try='if (exec 3</mnt/devs/lc); then echo lc-opened; fi; echo x >/dev/null && echo null-ok'
	# Mechanics: under allow-all the node is not refused with EPERM.
	id=$(new_id) b=$TESTDIR/b1
	devnode_bundle "$b" '.linux.resources.devices = [{allow: true, access: "rwm"}] | .process.user = {uid: 1000, gid: 1000}' sh -c "$try"
	mknod -m 666 "$b/devs/lc" b 7 0
	run_fg "$id" "$b"
	((st == 0)) || fail "run: status $st: $out"
	[[ $out != *"Operation not permitted"* ]] || fail "mechanics: refused even under allow-all: $out"
	id=$(new_id) b=$TESTDIR/b2
	devnode_bundle "$b" 'del(.linux.resources.devices) | .process.user = {uid: 1000, gid: 1000}' sh -c "$try"
	mknod -m 666 "$b/devs/lc" b 7 0
	create "$id" "$b"
	[[ $(berth_progs "$(cgdir "$id")") == "total=1 berth=1" ]] || fail "programs: $(berth_progs "$(cgdir "$id")")"
	berth start "$id"
	wait_status "$id" stopped 20
	! grep -q lc-opened "$b/out" || fail "the rootfs block device opened: $(cat "$b/out")"
	grep -q "Operation not permitted" "$b/out" || fail "want EPERM for the block node: $(cat "$b/out")"
	grep -qx null-ok "$b/out" || fail "writing /dev/null: $(cat "$b/out")"
	berth delete "$id"
}

test_update_devices_replaces_berths_filter_only() {
	local id b d
	id=$(new_id) b=$TESTDIR/b
	devnode_bundle "$b" . sleep 100
	create "$id" "$b"
	berth start "$id"
	d=$(cgdir "$id")
	try_kmsg() { berth exec "$id" sh -c 'echo berth >/mnt/devs/kmsg' </dev/null >/dev/null 2>&1; }
	! try_kmsg || fail "kmsg writable under the default rules"
	berth update -r - "$id" <<<'{"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "rw"}]}'
	try_kmsg || fail "kmsg not writable after update allowed it"
	[[ $(berth_progs "$d") == "total=1 berth=1" ]] || fail "after update: $(berth_progs "$d")"
	berth exec "$id" sh -c 'head -c 2 /dev/zero | wc -c' </dev/null >"$TESTDIR/zero" 2>&1 || fail "exec: $(cat "$TESTDIR/zero")"
	grep -qx 2 "$TESTDIR/zero" || fail "/dev/zero after update (defaults kept): $(cat "$TESTDIR/zero")"
	berth update -r - "$id" <<<'{"devices": [{"allow": false, "access": "rwm"}]}'
	! try_kmsg || fail "kmsg still writable after update took it back"
	[[ $(berth_progs "$d") == "total=1 berth=1" ]] || fail "after the second update: $(berth_progs "$d")"
	[[ $(jq -c '.cgroup.resources.devices[1]' "$ROOT/$id/config.json") == *'"m"'* ]] ||
		fail "saved rules: $(jq -c '.cgroup.resources.devices' "$ROOT/$id/config.json")"
	# Allow-all needs no program: berth's goes.
	berth update -r - "$id" <<<'{"devices": [{"allow": true, "access": "rwm"}]}'
	[[ $(berth_progs "$d") == "total=0 berth=0" ]] || fail "after allow-all: $(berth_progs "$d")"
	try_kmsg || fail "kmsg not writable with allow-all"
	berth delete --force "$id"
	[[ ! -d $d ]] || fail "delete left $d"
}

test_cpu_burst_and_idle_set_cpu_max_burst_and_cpu_idle() {
	local id b d
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b" '.linux.resources.cpu = {quota: 50000, period: 100000, burst: 20000, idle: 1}' sleep 100
	create "$id" "$b"
	d=$(cgdir "$id")
	[[ -e $d/cpu.max.burst ]] || skip "kernel without cpu.max.burst"
	assert_file "$d/cpu.max.burst" 20000
	assert_file "$d/cpu.idle" 1
	berth start "$id"
	berth update --cpu-burst 10000 --cpu-idle 0 "$id"
	assert_file "$d/cpu.max.burst" 10000
	assert_file "$d/cpu.idle" 0
	berth delete --force "$id"
}

test_pause_resume_freeze_the_cgroup() {
	implemented pause || skip "$(cat "$TESTDIR/.why")"
	implemented resume || skip "$(cat "$TESTDIR/.why")"
	local id b d u1 u2
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b" . sh -c 'while :; do :; done'
	create "$id" "$b"
	berth start "$id"
	d=$(cgdir "$id")
	berth pause "$id"
	assert_file "$d/cgroup.freeze" 1
	[[ $(kv "$d/cgroup.events" frozen) == 1 ]] || fail "cgroup.events: $(cat "$d/cgroup.events")"
	[[ $(state_field "$id" status) == paused ]] || fail "state: $(berth state "$id")"
	u1=$(kvn "$d/cpu.stat" usage_usec)
	sleep 0.5
	u2=$(kvn "$d/cpu.stat" usage_usec)
	((u2 - u1 < 20000)) || fail "a frozen busy loop used $((u2 - u1))us of CPU in 0.5s"
	berth resume "$id"
	assert_file "$d/cgroup.freeze" 0
	[[ $(kv "$d/cgroup.events" frozen) == 0 ]] || fail "cgroup.events after resume: $(cat "$d/cgroup.events")"
	[[ $(state_field "$id" status) == running ]] || fail "state after resume: $(berth state "$id")"
	wait_until 10 "CPU use after resume" eval '(( $(kvn "$d/cpu.stat" usage_usec) > u2 + 20000 ))'
	# A paused container can be deleted with --force.
	berth pause "$id"
	berth delete --force "$id"
	[[ ! -d $d ]] || fail "delete --force of a paused container left $d"
}

test_update_changes_cgroup_files() {
	implemented update || skip "$(cat "$TESTDIR/.why")"
	local id b d f
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b" '.linux.resources.memory = {limit: 33554432} | .linux.resources.pids = {limit: 10}' sleep 100
	create "$id" "$b"
	berth start "$id"
	d=$(cgdir "$id")
	berth update --memory 64m --pids-limit 20 --cpu-quota 20000 --cpu-period 50000 \
		--cpu-share 2 --blkio-weight 1000 "$id"
	assert_file "$d/memory.max" 67108864
	assert_file "$d/pids.max" 20
	assert_file "$d/cpu.max" "20000 50000"
	assert_file "$d/cpu.weight" "$(share_weight 2)"
	f=$(io_weight_file "$d")
	if [[ $f == io.weight ]]; then
		grep -qx "default $(io_weight 1000)" "$d/$f" || fail "$f: $(cat "$d/$f")"
	fi
	# Only the period: the quota stays.
	berth update --cpu-period 200000 "$id"
	assert_file "$d/cpu.max" "20000 200000"
	# -1 is unlimited; resources as JSON on stdin.
	echo '{"memory": {"limit": -1}, "pids": {"limit": -1}, "cpu": {"shares": 262144, "quota": -1}}' |
		berth update -r - "$id"
	assert_file "$d/memory.max" max
	assert_file "$d/pids.max" max
	assert_file "$d/cpu.weight" "$(share_weight 262144)"
	[[ $(cut -d' ' -f1 "$d/cpu.max") == max ]] || fail "cpu.max: $(cat "$d/cpu.max")"
	berth delete --force "$id"
}

test_events_reports_stats_and_oom() {
	implemented events || skip "$(cat "$TESTDIR/.why")"
	local id b d evpid n
	id=$(new_id) b=$TESTDIR/b
	# The shell survives; dd, the biggest process, is the OOM killer's pick.
	make_bundle "$b" '.linux.resources.memory = {limit: 33554432} | .linux.resources.pids = {limit: 50}' \
		sh -c 'while [ ! -e /dev/shm/go ]; do sleep 0.1; done; dd if=/dev/zero of=/dev/null bs=64M count=1; sleep 1000'
	create "$id" "$b"
	berth start "$id"
	d=$(cgdir "$id")
	berth events --stats "$id" >"$TESTDIR/stats"
	jq -e --arg id "$id" \
		'.type == "stats" and .id == $id and .data.pids.current >= 1 and .data.memory.usage.limit == 33554432' \
		"$TESTDIR/stats" >/dev/null || fail "events --stats: $(cat "$TESTDIR/stats")"

	timeout -s KILL 60 "$BERTH_BIN" --root "$ROOT" events --interval 1s "$id" >"$TESTDIR/events" 2>&1 &
	evpid=$!
	# Let events set up its watch, then set the hog off (/dev/shm is the
	# container's own tmpfs, reached through init's root).
	wait_until 10 "a stats event" grep -q '"type":"stats"' "$TESTDIR/events"
	touch "/proc/$(state_field "$id" pid)/root/dev/shm/go"
	wait_until 30 "an oom event" grep -q '"type":"oom"' "$TESTDIR/events"
	n=$(kvn "$d/memory.events" oom_kill)
	((n >= 1)) || fail "memory.events: $(cat "$d/memory.events")"
	berth kill "$id" KILL
	# The stream ends when init exits.
	local i
	for ((i = 0; i < 100; i++)); do kill -0 "$evpid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$evpid" 2>/dev/null && { kill -KILL "$evpid"; fail "events did not exit when the container stopped"; }
	wait "$evpid" || fail "events exited with status $?: $(cat "$TESTDIR/events")"
	berth delete --force "$id"
}

test_exec_joins_the_container_cgroup() {
	implemented exec || skip "$(cat "$TESTDIR/.why")"
	local id b d out pid
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b" '.linux.resources.pids = {limit: 20}' sleep 100
	create "$id" "$b"
	berth start "$id"
	d=$(cgdir "$id")
	# In the container's cgroup namespace its cgroup is "/".
	out=$(berth exec "$id" cat /proc/self/cgroup </dev/null 2>&1) || fail "exec: $out"
	[[ $out == "0::/" ]] || fail "exec sees cgroup '$out', want '0::/'"
	# From the host, a detached exec'd process is in the container's cgroup.
	berth exec -d --pid-file "$TESTDIR/exec.pid" "$id" sleep 100 </dev/null >"$TESTDIR/exec.out" 2>&1 ||
		fail "exec -d: $(cat "$TESTDIR/exec.out")"
	pid=$(cat "$TESTDIR/exec.pid")
	grep -qx "$pid" "$d/cgroup.procs" || fail "exec'd pid $pid not in $d/cgroup.procs: $(cat "$d/cgroup.procs")"
	[[ $(cat "/proc/$pid/cgroup") == "0::/$id" ]] || fail "/proc/$pid/cgroup: $(cat "/proc/$pid/cgroup")"
	berth delete --force "$id"
	! kill -0 "$pid" 2>/dev/null || fail "the exec'd process $pid survived delete --force"
}

test_exec_cgroup_puts_the_process_in_a_sub_cgroup() {
	local id b d out
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b" . sleep 100
	create "$id" "$b"
	berth start "$id"
	d=$(cgdir "$id")
	mkdir "$d/sub"
	out=$(berth exec --cgroup sub "$id" cat /proc/self/cgroup </dev/null 2>&1) || fail "exec --cgroup sub: $out"
	[[ $out == "0::/sub" ]] || fail "exec --cgroup sub sees cgroup '$out', want '0::/sub'"
	# A sub-cgroup that does not exist: one line naming --cgroup, no process.
	if out=$(berth exec --cgroup nope "$id" true </dev/null 2>&1); then
		fail "exec --cgroup into a missing sub-cgroup worked: $out"
	fi
	[[ $out == *--cgroup* && $(wc -l <<<"$out") -eq 1 ]] || fail "exec --cgroup nope: $out"
	[[ $(wc -l <"$d/cgroup.procs") -eq 1 ]] || fail "processes left in $d: $(cat "$d/cgroup.procs")"
	berth delete --force "$id"
}

test_ps_lists_every_process_of_the_cgroup() {
	implemented ps || skip "$(cat "$TESTDIR/.why")"
	local id b d want got
	id=$(new_id) b=$TESTDIR/b
	make_bundle "$b" . sh -c 'sleep 1001 & sleep 1002 & wait'
	create "$id" "$b"
	berth start "$id"
	d=$(cgdir "$id")
	wait_until 10 "3 processes in the cgroup" eval '(( $(nprocs "$d") == 3 ))'
	want=$(sort -n "$d/cgroup.procs" | tr '\n' ' ')
	got=$(berth ps --format json "$id" | jq -r '.[]' | sort -n | tr '\n' ' ')
	[[ $got == "$want" ]] || fail "ps: '$got', cgroup.procs: '$want'"
	berth delete --force "$id"
}

TESTS_IN_ORDER=(
	test_memory_limit_sets_memory_max_and_oom_kills
	test_pids_limit_sets_pids_max_and_fork_fails
	test_cpu_quota_period_and_shares_set_cpu_max_and_cpu_weight
	test_cpuset_cpus_and_mems_set_cpuset_files
	test_blkio_weight_sets_io_weight
	test_blkio_weight_with_bfq_on_a_disk_sets_io_bfq_weight
	test_create_refuses_a_frozen_cgroup
	test_unified_writes_files_verbatim
	test_cgroup_namespace_shows_own_cgroup_as_root
	test_nested_cgroups_path_enables_controllers_on_the_way
	test_kill_all_KILL_kills_every_process
	test_kill_all_TERM_signals_every_process
	test_kill_KILL_without_own_pidns_kills_the_whole_cgroup
	test_delete_removes_cgroup
	test_delete_force_removes_cgroup_with_subcgroups
	test_devices_default_rules_allow_null_and_zero_and_deny_other_devices
	test_devices_allow_rule_opens_the_device
	test_devices_no_list_denies_a_block_device_node_in_the_rootfs
	test_update_devices_replaces_berths_filter_only
	test_cpu_burst_and_idle_set_cpu_max_burst_and_cpu_idle
	test_pause_resume_freeze_the_cgroup
	test_update_changes_cgroup_files
	test_events_reports_stats_and_oom
	test_exec_joins_the_container_cgroup
	test_exec_cgroup_puts_the_process_in_a_sub_cgroup
	test_ps_lists_every_process_of_the_cgroup
)

# ----------------------------------------------------------------- runner ---

run_tests BERTH-CGROUP2-RESULT c2 .ids .cgroups
