# Shared setup for berth's integration tests. Every .bats file does
# `load helpers`; each test then gets, under its own BATS_TEST_TMPDIR:
#   $BUNDLE   a bundle: rootfs (hard links to a busybox rootfs built once per
#             run) and config.json (from `berth spec`, made once per run)
#   $ROOT     a --root of its own, so tests never see each other's containers
#   berth     a function running "$BERTH" --root "$ROOT"
# The teardown deletes every container in $ROOT with `delete --force`, then
# looks for what a container could leave behind (mounts under the test dir,
# cgroups named after the test's container ids) and removes it, failing the
# test if it found any.
#
# Writing into a rootfs file that came with the bundle would change the
# shared copy (hard links): replace such files (see replace_in_rootfs).

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BERTH=${BERTH:-$REPO/berth}
RECVTTY=${RECVTTY:-$REPO/tests/integration/tools/bin/recvtty}
# Every runtime command is bounded, so a hang fails one test instead of CI.
BERTH_CMD_TIMEOUT=${BERTH_CMD_TIMEOUT:-60}

CGROUP_MNT=/sys/fs/cgroup

berth() {
	timeout --kill-after=5 "$BERTH_CMD_TIMEOUT" "$BERTH" --root "$ROOT" "$@"
}

# run_detached CMD...: bats' `run` for commands that leave a process behind
# holding their stdout (create, run -d): a pipe would wait for that process
# to exit, so the output goes through a file. Sets status, output, lines.
run_detached() {
	local out=$BATS_TEST_TMPDIR/detached.$RANDOM.out
	status=0
	"$@" </dev/null >"$out" 2>&1 || status=$?
	output=$(<"$out")
	lines=()
	if [[ -n $output ]]; then mapfile -t lines <<<"$output"; fi
	rm -f "$out"
}

fail() {
	echo "$@" >&2
	return 1
}

# assert_error [STATUS]: the last `run` failed with STATUS (default 1;
# exec's is 255) and one "berth: " line.
assert_error() {
	local want=${1:-1}
	[ "$status" -eq "$want" ] || fail "status $status, want $want"
	[ "${#lines[@]}" -eq 1 ] || fail "want one line, got ${#lines[@]}: $output"
	[[ ${lines[0]} == "berth: "* ]] || fail "does not start with 'berth: ': ${lines[0]}"
}

# file_skip REASON (in setup_file): every test of the file skips, saying
# REASON; the tests check [[ ! -s $FILE_SKIP ]] first.
FILE_SKIP=$BATS_FILE_TMPDIR/skip-reason
file_skip() {
	echo "$1" >"$FILE_SKIP"
	echo "# $1" >&3
}

# new_id: prints a container id unique to this run and records it, so that
# the teardown can look for cgroups named after it.
new_id() {
	local id="t$$-${BATS_TEST_NUMBER}-$RANDOM"
	echo "$id" >>"$BATS_TEST_TMPDIR/ids"
	echo "$id"
}

# register_cgroup PATH: a cgroupsPath (relative to each hierarchy's root)
# the test gave a container; the teardown checks it is gone.
register_cgroup() {
	echo "$1" >>"$BATS_TEST_TMPDIR/cgroups"
}

# track_pid PID: a helper process the test started; the teardown ends it.
track_pid() {
	echo "$1" >>"$BATS_TEST_TMPDIR/pids"
}

# cached_rootfs: builds the busybox rootfs once per bats run.
cached_rootfs() {
	local cache=$BATS_RUN_TMPDIR/cache
	if [[ ! -d $cache/rootfs ]]; then
		local tmp
		tmp=$(mktemp -d "$BATS_RUN_TMPDIR/cache.XXXXXX")
		"$REPO/scripts/mkbundle.sh" --rootfs-only "$tmp" >&2
		mkdir -p "$cache"
		mv "$tmp/rootfs" "$cache/rootfs"
		rm -rf "$tmp"
	fi
	echo "$cache/rootfs"
}

# cached_spec: `berth spec` once per bats run.
cached_spec() {
	local cache=$BATS_RUN_TMPDIR/cache
	if [[ ! -f $cache/config.json ]]; then
		local tmp
		tmp=$(mktemp -d "$BATS_RUN_TMPDIR/spec.XXXXXX")
		"$BERTH" spec --bundle "$tmp" >&2 || fail "berth spec failed"
		mkdir -p "$cache"
		mv "$tmp/config.json" "$cache/config.json"
		rm -rf "$tmp"
	fi
	echo "$cache/config.json"
}

# make_bundle DIR: a fresh bundle in DIR whose process runs `true`, with no
# terminal and a writable root.
make_bundle() {
	local dir=$1 rootfs spec
	rootfs=$(cached_rootfs)
	spec=$(cached_spec)
	mkdir -p "$dir"
	cp -al "$rootfs" "$dir/rootfs"
	jq '.process.terminal = false | .root = {path: "rootfs", readonly: false}
		| .process.args = ["true"]' "$spec" >"$dir/config.json"
}

berth_setup() {
	[[ $(id -u) == 0 ]] || fail "the integration tests must run as root"
	[[ -x $BERTH ]] || fail "no runtime binary at $BERTH (run make, or set BERTH)"
	TESTDIR=$BATS_TEST_TMPDIR
	BUNDLE=$TESTDIR/bundle
	ROOT=$TESTDIR/root
	: >"$TESTDIR/ids"
	: >"$TESTDIR/cgroups"
	: >"$TESTDIR/pids"
	# Clock ticks since boot when the test began: processes of the runtime
	# started after that belong to this test.
	TEST_START_TICKS=$(awk '{print $22}' /proc/self/stat)
	make_bundle "$BUNDLE"
}

setup() {
	berth_setup
}

teardown() {
	berth_teardown
}

# traversable [DIR...]: lets an unprivileged host uid (a user namespace's
# root) reach each DIR, $BUNDLE by default: bats makes its run
# directories mode 0700.
traversable() {
	local d
	for d in "${@:-$BUNDLE}"; do
		while [[ $d == "$BATS_RUN_TMPDIR"* ]]; do
			chmod a+x "$d"
			d=$(dirname "$d")
		done
	done
}

# userns_config [BUNDLE]: the container gets a user namespace mapping its
# root to host uid 100000 and gid 200000 (65536 ids each), and the bundle
# is made reachable for them.
userns_config() {
	local b=${1:-$BUNDLE}
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]' "$b"
	traversable "$b"
}

# update_config JQ-EXPR [BUNDLE]: rewrites config.json through jq. Extra jq
# options (--arg, --argjson) go in UPDATE_CONFIG_ARGS (an array).
update_config() {
	local bundle=${2:-$BUNDLE}
	local tmp=$bundle/config.json.tmp
	jq "${UPDATE_CONFIG_ARGS[@]}" "$1" "$bundle/config.json" >"$tmp"
	mv "$tmp" "$bundle/config.json"
}
UPDATE_CONFIG_ARGS=()

# set_args ARG...: process.args of $BUNDLE.
set_args() {
	local args
	args=$(for a in "$@"; do jq -n --arg a "$a" '$a'; done | jq -s -c .)
	UPDATE_CONFIG_ARGS=(--argjson args "$args")
	update_config '.process.args = $args'
	UPDATE_CONFIG_ARGS=()
}

# add_mount JSON: appends a mount to $BUNDLE's config.
add_mount() {
	UPDATE_CONFIG_ARGS=(--argjson m "$1")
	update_config '.mounts += [$m]'
	UPDATE_CONFIG_ARGS=()
}

# replace_in_rootfs PATH: makes PATH (relative to the rootfs) a file of its
# own, so that writing to it leaves the shared rootfs alone.
replace_in_rootfs() {
	local f=$BUNDLE/rootfs/$1
	cp --remove-destination "$(cached_rootfs)/$1" "$f"
}

# state_field ID FIELD: prints one field of `berth state`.
state_field() {
	berth state "$1" | jq -r ".$2"
}

# wait_for_status ID STATUS [SECONDS]: polls `berth state` until STATUS.
wait_for_status() {
	local id=$1 want=$2 limit=${3:-10} i st
	for ((i = 0; i < limit * 20; i++)); do
		st=$(berth state "$id" 2>/dev/null | jq -r .status) || true
		[[ $st == "$want" ]] && return 0
		sleep 0.05
	done
	fail "container $id: status is '$st', waited ${limit}s for '$want'"
}

# wait_for_file FILE [SECONDS]: polls until FILE exists and is not empty.
wait_for_file() {
	local f=$1 limit=${2:-10} i
	for ((i = 0; i < limit * 20; i++)); do
		[[ -s $f ]] && return 0
		sleep 0.05
	done
	fail "no $f after ${limit}s"
}

# pid_alive PID: true while PID exists and is not a zombie.
pid_alive() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $st && $st != Z && $st != X ]]
}

# cgroup_bases: every directory under which a container's cgroupsPath may
# land: the root of each hierarchy (berth's default "/<id>") and this
# shell's own cgroup in it (where a runtime puts a relative path).
cgroup_bases() {
	local h
	for h in "$CGROUP_MNT"/*/; do
		h=${h%/}
		[[ -e $h/cgroup.procs ]] && echo "$h"
	done
	# v1 lines are "N:ctrl[,ctrl]:path", the v2 line "0::path".
	awk -F: -v mnt="$CGROUP_MNT" '$3 != "/" {
		n = split($2, c, ",")
		for (i = 1; i <= n; i++) {
			name = c[i]; sub(/^name=/, "", name)
			print mnt "/" name $3
		}
		if ($2 == "") print mnt "/unified" $3
	}' /proc/self/cgroup | while read -r d; do [[ -d $d ]] && echo "$d"; done
	return 0
}

# cgroup_dirs ID-OR-PATH: the cgroup directories that exist for a container
# id (or cgroupsPath) in any hierarchy.
cgroup_dirs() {
	local p=${1#/} b
	[[ -n ${CGROUP_BASES:-} ]] || CGROUP_BASES=$(cgroup_bases)
	for b in $CGROUP_BASES; do
		[[ -d $b/$p ]] && echo "$b/$p"
	done
	return 0
}

# runtime_procs: processes running the runtime binary that this test
# started (they began after the test did, and hold a file or cwd under its
# directory: the exec fifo in $ROOT, output files, the bundle) and that are
# no container's init: a `berth init` left behind by a failed create, say.
# Processes of other runtimes on the machine are not this test's.
runtime_procs() {
	local exe live pid
	exe=$(readlink -f "$BERTH")
	live=$("$BERTH" --root "$ROOT" list --format json 2>/dev/null | jq -r '.[]?.pid' 2>/dev/null | tr '\n' ' ')
	for pid in $(find -L /proc -mindepth 2 -maxdepth 2 -name exe -samefile "$exe" 2>/dev/null |
		awk -F/ -v start="$TEST_START_TICKS" -v live=" $live " -v me="$$" '{
			pid = $3
			if (pid == me || index(live, " " pid " ")) next
			if ((getline line < ("/proc/" pid "/stat")) <= 0) next
			close("/proc/" pid "/stat")
			sub(/^.*\) /, "", line)      # fields from the 3rd (state) on
			split(line, f, " ")
			if (f[1] != "Z" && f[20] + 0 >= start + 0) print pid
		}'); do
		if [[ -n $(find "/proc/$pid/fd" "/proc/$pid/cwd" -maxdepth 1 -lname "$TESTDIR/*" 2>/dev/null | head -n1) ]]; then
			echo "$pid"
		fi
	done
	return 0
}

# mounts_under DIR: mount points at or below DIR, deepest first.
mounts_under() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
		awk '{ print gsub("/", "/"), $0 }' | sort -rn | cut -d' ' -f2-
}

# assert_nothing_left ID: no state dir, no cgroup and no runtime process is
# left for container ID.
assert_nothing_left() {
	local id=$1 left
	if [[ -e $ROOT/$id ]]; then
		fail "$ROOT/$id is left behind: $(ls -A "$ROOT/$id")"
	fi
	left=$(cgroup_dirs "$id")
	[[ -z $left ]] || fail "cgroups left behind: $left"
	left=$(runtime_procs)
	[[ -z $left ]] || fail "runtime processes left behind: $(for p in $left; do tr '\0' ' ' <"/proc/$p/cmdline"; echo " (pid $p)"; done)"
}

berth_teardown() {
	[[ -n ${TESTDIR:-} && -n ${ROOT:-} ]] || return 0
	local problems=() id ids pid p d

	# Helper processes the test started, by their pid.
	if [[ -s $TESTDIR/pids ]]; then
		while read -r pid; do
			if kill -0 "$pid" 2>/dev/null; then
				kill -KILL "$pid" 2>/dev/null || true
			fi
		done <"$TESTDIR/pids"
	fi

	# Every container still in ROOT.
	ids=$(
		{
			"$BERTH" --root "$ROOT" list -q 2>/dev/null || true
			cat "$TESTDIR/ids"
			if [[ -d $ROOT ]]; then ls -A "$ROOT" | grep -vx '.berth-cache' || true; fi
		} | sort -u
	)
	for id in $ids; do
		[[ -e $ROOT/$id ]] || continue
		timeout 30 "$BERTH" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 || true
	done
	# .berth-cache (compiled seccomp filters) outlives containers by design.
	local left
	left=$(if [[ -d $ROOT ]]; then ls -A "$ROOT" | grep -vx '.berth-cache' || true; fi)
	if [[ -n $left ]]; then
		problems+=("delete --force left state in $ROOT: $left")
	fi

	# Cgroups named after the test's containers (or given by the test).
	for p in $(cat "$TESTDIR/ids" "$TESTDIR/cgroups"); do
		for d in $(cgroup_dirs "$p" | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2-); do
			problems+=("cgroup left behind: $d")
			# Only processes of this test's container can be in it.
			if [[ -r $d/cgroup.procs ]]; then
				while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done <"$d/cgroup.procs"
			fi
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null ||
				{ sleep 0.2; find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; } || true
		done
	done
	# Parents of registered cgroupsPaths, if the test made them and they
	# are empty now.
	for p in $(cat "$TESTDIR/cgroups"); do
		p=${p#/}
		while [[ $p == */* ]]; do
			p=${p%/*}
			for d in "$CGROUP_MNT"/*/"$p"; do
				[[ -d $d ]] && rmdir "$d" 2>/dev/null || true
			done
		done
	done

	# Mounts under the test dir (bats removes it next: never through a mount).
	while read -r d; do
		[[ -n $d ]] || continue
		problems+=("mount left behind: $d")
		umount -l "$d" 2>/dev/null || true
	done < <(mounts_under "$TESTDIR")

	p=$(runtime_procs)
	if [[ -n $p ]]; then
		problems+=("runtime processes left behind: $p")
		for pid in $p; do kill -KILL "$pid" 2>/dev/null || true; done
	fi

	if [[ ${#problems[@]} -gt 0 ]]; then
		printf 'teardown: %s\n' "${problems[@]}" >&2
		return 1
	fi
}

# start_recvtty: a console-socket receiver writing the terminal's output to
# $TESTDIR/tty.out.
start_recvtty() {
	[ -x "$RECVTTY" ] || fail "no $RECVTTY (make recvtty)"
	SOCK=$TESTDIR/console.sock
	"$RECVTTY" -pid-file "$TESTDIR/recvtty.pid" "$SOCK" </dev/null >"$TESTDIR/tty.out" 2>"$TESTDIR/recvtty.err" &
	RECVTTY_PID=$!
	track_pid "$RECVTTY_PID"
	wait_for_file "$TESTDIR/recvtty.pid"
	[ -S "$SOCK" ]
}
